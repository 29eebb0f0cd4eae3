"""Corpus: ingest raw pages and tables into paragraphs; segment, deduplicate, find actors."""

from stance.corpus.actors import Gazetteer, Mention
from stance.corpus.ingest import IngestReport, ingest, summarize, to_dataset

__all__ = ["Gazetteer", "Mention", "IngestReport", "ingest", "summarize", "to_dataset"]
