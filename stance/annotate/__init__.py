"""Annotate: label schema checks and task examples built from labelled paragraphs."""

from stance.annotate.examples import build_examples

__all__ = ["build_examples"]
