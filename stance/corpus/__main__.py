"""`python -m stance.corpus PATH --out DIR`: ingest pages or a table, write the paragraph table."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import pandas as pd
from pydantic import ValidationError

from stance import files
from stance.config import DataConfig, corpus_defaults, load_config
from stance.corpus.ingest import IngestReport, ingest, ingest_to_shards, summarize
from stance.errors import StanceError, cli_entry
from stance.progress import set_quiet


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m stance.corpus", description=__doc__)
    parser.add_argument("path", help="a folder of raw pages (.txt/.md/.html), or a CSV/JSONL/Parquet table")
    parser.add_argument("--out", help="folder to write paragraphs.parquet, dropped_lines.csv, summary.json")
    parser.add_argument("--config", help="a stance config whose corpus/schema/data sections to use")
    parser.add_argument("--format", default="auto", choices=["auto", "pages", "csv", "jsonl", "parquet"])
    parser.add_argument("--rows-are", choices=["paragraphs", "documents"],
                        help="for tables: is each row a paragraph (default) or a whole document; overrides --config")
    parser.add_argument("--text-column", default="text")
    parser.add_argument("--metadata", help="for raw pages: a CSV file,outlet,date,url,title that fills what a page "
                                           "does not say (overrides data.metadata of --config); "
                                           "builtin:seeds-metadata for ../shared/seeds")
    parser.add_argument("--sep", help="CSV delimiter (default: read from the header line), e.g. ';' or '\\t'")
    parser.add_argument("--encoding", help="text encoding of a CSV/JSONL table, e.g. cp1252 or gbk (default utf-8)")
    parser.add_argument("--shard-rows", type=int,
                        help="for a table larger than memory: read this many rows at a time and write "
                             "DIR/paragraphs/part-*.parquet (one shard per chunk) instead of one file")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


@cli_entry
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    set_quiet(args.quiet)
    logging.basicConfig(level=logging.WARNING, format="warning: %(message)s")
    if args.config:
        cfg = load_config(args.config)
        corpus, schema = cfg.corpus, cfg.label_schema
        data = cfg.data.model_copy(update={"path": args.path})
    else:
        corpus, schema = corpus_defaults()
        data = DataConfig(path=args.path, format=args.format, rows_are=args.rows_are or "paragraphs",
                          columns={"text": args.text_column})
    if args.metadata:
        data = data.model_copy(update={"metadata": args.metadata})
    table_options = {k: v for k, v in (("sep", args.sep), ("encoding", args.encoding), ("rows_are", args.rows_are))
                     if v is not None}
    if table_options:
        try:
            data = DataConfig.model_validate({**data.model_dump(), **table_options})
        except ValidationError as exc:
            raise StanceError(f"--sep/--encoding/--rows-are: {exc.errors()[0]['msg']}") from None
    out = Path(args.out) if args.out else None
    if out is not None and out.exists() and any(out.iterdir()):
        raise StanceError(f"{out}: output folder exists and is not empty; choose a new --out")
    report = IngestReport()
    if args.shard_rows is not None:
        if out is None:
            raise StanceError("--shard-rows needs --out")
        shards = ingest_to_shards(data, corpus, schema, out / "paragraphs", args.shard_rows, report)
        columns = ["doc_id", "outlet", "actors", "dup_group", "cluster_id"]  # not the text: memory stays small
        summary = summarize(pd.concat(pd.read_parquet(s, columns=columns) for s in shards), report)
        summary["shards"] = len(shards)
        wrote = f"{len(shards)} shards to {out}/paragraphs/"
    else:
        frame = ingest(data, corpus, schema, report)
        summary = summarize(frame, report)
        wrote = f"{out}/paragraphs.parquet"
        if out is not None:
            files.write_parquet(out / "paragraphs.parquet", frame)
    if out is not None:
        files.write_csv(out / "dropped_lines.csv", pd.DataFrame(report.dropped))
        if report.extractions:  # HTML pages: what the offsets point into, and how to re-make it
            files.write_csv(out / "extractions.csv", pd.DataFrame(report.extractions))
        files.write_json(out / "summary.json", summary)
    print_summary(summary, wrote if out is not None else None)
    return 0


def print_summary(summary: dict, wrote: str | None) -> None:
    print(f"documents: {summary['documents']}  paragraphs: {summary['paragraphs']}  "
          f"files read: {summary['files_read']}  skipped: {summary['files_skipped']}")
    print("outlets: " + ", ".join(f"{k} ({v})" for k, v in summary["outlets"].items()))
    print(f"story clusters: {summary['story_clusters']} "
          f"({summary['multi_document_stories']} carried by more than one document); "
          f"near-duplicate paragraph groups: {summary['near_duplicate_groups']}")
    print("paragraphs mentioning: " + ", ".join(f"{k} {v}" for k, v in summary["actor_paragraphs"].items()))
    print("lines dropped: " + json.dumps(summary["lines_dropped"]))
    for item in summary["skipped"]:
        print(f"skipped {item['file']}: {item['why']}")
    if wrote is not None:
        print(f"wrote {wrote}")


if __name__ == "__main__":
    sys.exit(main())
