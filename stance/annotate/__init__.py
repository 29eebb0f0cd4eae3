"""Annotate: task examples, labels from annotators (Label Studio, CSV), agreement,
adjudication and stand-off label files. The command line is `python -m stance.annotate`."""

from stance.annotate.examples import build_examples, prediction_examples

__all__ = ["build_examples", "prediction_examples"]
