"""`python -m stance.annotate COMMAND`: the annotation workflow.

    export DATA --out DIR        Label Studio tasks + labeling config, a CSV to fill in instead,
                                 and paragraphs.csv (ids, source, offsets, hashes; no text)
    import FILE... --export DIR --out labels.csv
                                 Label Studio JSON exports and/or filled-in CSVs -> one long
                                 label table (paragraph, annotator, field, label); problems are
                                 listed with file and row, valid rows kept
    agree LABELS... [--out DIR]  Krippendorff's alpha and pairwise Cohen's kappa per field
    adjudicate LABELS... --out DIR [--adjudicator FILE] [--export DIR]
                                 majority label per item (ties listed), adjudicator wins;
                                 with --export also a stand-off gold file (gold.csv)
    suggest RUN --n 50           the next paragraphs to label, by model uncertainty across outlets

DATA is anything stance.train reads (a folder of pages, a table, builtin:example).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from stance import files
from stance.annotate.agreement import adjudicate, agreement, agreement_table
from stance.annotate.labels import (CSV_STANCE_PREFIX, NOT_APPLICABLE, LabelReport, read_labels_file, read_long_labels,
                                    validate_labels, wide_labels)
from stance.annotate.labelstudio import label_config, tasks
from stance.annotate.standoff import standoff_table
from stance.config import DataConfig, load_config
from stance.corpus.ingest import ingest
from stance.corpus.tables import file_encoding
from stance.errors import StanceError, cli_entry


MAX_SHOWN = 20


def fresh_dir(path: Path) -> Path:
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise StanceError(f"{path}: exists and is not empty; choose a new --out (nothing is overwritten)")
    path.mkdir(parents=True, exist_ok=True)
    return path


def fresh_file(path: Path) -> Path:
    if path.exists():
        raise StanceError(f"{path}: exists; choose a new --out (nothing is overwritten)")
    return path


def schema_and_corpus(config: str | None):
    from stance.config import corpus_defaults

    if config:
        cfg = load_config(config)
        return cfg.label_schema, cfg.corpus
    corpus, schema = corpus_defaults()
    return schema, corpus


def cmd_export(args: argparse.Namespace) -> None:
    schema, corpus = schema_and_corpus(args.config)
    paragraphs = ingest(DataConfig(path=args.data), corpus, schema)
    out = fresh_dir(Path(args.out))
    anchors = paragraphs[["paragraph_id", "doc_id", "outlet", "date", "source", "start", "end", "text_sha1"]].copy()
    anchors["actors"] = paragraphs["actors"].map(lambda a: "|".join(a))
    files.write_csv(out / "paragraphs.csv", anchors)
    files.write_text(out / "label_config.xml", label_config(schema))
    files.write_json(out / "tasks.json", tasks(paragraphs))
    # The CSV alternative: one row per paragraph; stance columns only for mentioned actors.
    sheet = pd.DataFrame({"paragraph_id": paragraphs["paragraph_id"], "annotator": "",
                          "outlet": paragraphs["outlet"], "actors": anchors["actors"],
                          "text": paragraphs["text"], "framing": "", "sentiment": ""})
    for actor in schema.actors:
        sheet[CSV_STANCE_PREFIX + actor] = ["" if actor in a else NOT_APPLICABLE for a in paragraphs["actors"]]
    files.write_csv(out / "labels.csv", sheet)
    print(f"stance.annotate export: {len(paragraphs)} paragraphs -> {out}/")
    print("  Label Studio: create a project with label_config.xml, import tasks.json "
          "(the actors are pre-filled as predictions); export annotations as JSON")
    print("  or fill in labels.csv (annotator, framing, sentiment, stance_<Actor>; leave n/a alone)")
    print("  these files hold the paragraph text: keep exports of outside text out of the repository")


def known_ids(export_dir: str | None) -> set[str] | None:
    if not export_dir:
        return None
    path = Path(export_dir) / "paragraphs.csv"
    if not path.is_file():
        raise StanceError(f"{path}: not found; --export must be a folder written by `stance.annotate export`")
    return set(pd.read_csv(path, dtype=str, encoding=file_encoding(path))["paragraph_id"])


def cmd_import(args: argparse.Namespace) -> None:
    schema, _ = schema_and_corpus(args.config)
    out = fresh_file(Path(args.out))
    report = LabelReport()
    rows = []
    for name in args.files:
        rows += read_labels_file(Path(name), report, schema)
    labels = validate_labels(rows, schema, known_ids(args.export), report)
    files.write_csv(out, labels)
    for problem in report.problems[:MAX_SHOWN]:
        print(f"  problem: {problem}", file=sys.stderr)
    if report.problems:
        listing = out.with_name(out.stem + ".problems.txt")
        files.write_text(listing, "".join(p + "\n" for p in report.problems))
        more = f" (first {MAX_SHOWN} shown)" if len(report.problems) > MAX_SHOWN else ""
        print(f"  all {len(report.problems)} problems{more}: {listing}", file=sys.stderr)
    print(f"stance.annotate import: {len(labels)} labels from {labels['annotator'].nunique()} annotator(s) "
          f"on {labels['paragraph_id'].nunique()} paragraphs -> {out}; {len(report.problems)} row(s) with problems")


def read_all(names: list[str]) -> pd.DataFrame:
    return pd.concat([read_long_labels(Path(n)) for n in names], ignore_index=True)


def cmd_agree(args: argparse.Namespace) -> None:
    labels = read_all(args.labels)
    if labels.empty:
        raise StanceError(f"{', '.join(args.labels)}: no labels to compare (the file holds only its header; "
                          "did the export contain annotations?)")
    result = agreement(labels)
    table = agreement_table(result)
    print(table.drop(columns=["note"]).to_markdown(index=False, floatfmt=".3f"))
    for row in table.itertuples(index=False):
        if row.note:
            print(f"  {row.field}: alpha undefined: {row.note}")
    if args.out:
        out = fresh_dir(Path(args.out))
        files.write_json(out / "agreement.json", result)
        files.write_csv(out / "agreement.csv", table)
        print(f"wrote {out}/agreement.json and agreement.csv")


def cmd_adjudicate(args: argparse.Namespace) -> None:
    labels = read_all(args.labels)
    referee = read_long_labels(Path(args.adjudicator)) if args.adjudicator else None
    gold, ties = adjudicate(labels, referee)
    out = fresh_dir(Path(args.out))
    files.write_csv(out / "gold_long.csv", gold)
    files.write_csv(out / "ties.csv", ties)
    print(f"stance.annotate adjudicate: {len(gold)} gold labels, {len(ties)} ties left for review (ties.csv)")
    if args.export:
        anchor_file = Path(args.export) / "paragraphs.csv"
        anchors = pd.read_csv(anchor_file, dtype={"paragraph_id": str, "text_sha1": str},
                              encoding=file_encoding(anchor_file))
        gold_wide = wide_labels(gold.assign(annotator="gold"))
        files.write_csv(out / "gold.csv", standoff_table(anchors, gold_wide))
        print(f"  stand-off gold file: {out}/gold.csv (use it as data.annotations)")


def cmd_suggest(args: argparse.Namespace) -> None:
    from stance.suggest import suggest  # uses a trained run: downstream of annotate, so imported on demand

    ranked = suggest(Path(args.run), n=args.n, data=args.data)
    out = fresh_file(Path(args.out)) if args.out else None
    print(ranked.to_markdown(index=False, floatfmt=".3f"))
    if out:
        files.write_csv(out, ranked)
        print(f"wrote {out}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m stance.annotate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("export", help="write Label Studio tasks, labeling config and a label CSV")
    p.add_argument("data")
    p.add_argument("--out", required=True)
    p.add_argument("--config", help="take the schema and corpus rules from this config")
    p.set_defaults(handler=cmd_export)
    p = sub.add_parser("import", help="read Label Studio JSON exports and label CSVs")
    p.add_argument("files", nargs="+")
    p.add_argument("--export", help="the export folder, to check paragraph ids")
    p.add_argument("--out", required=True)
    p.add_argument("--config")
    p.set_defaults(handler=cmd_import)
    p = sub.add_parser("agree", help="inter-annotator agreement")
    p.add_argument("labels", nargs="+", help="long label tables (from import), one or several")
    p.add_argument("--out")
    p.set_defaults(handler=cmd_agree)
    p = sub.add_parser("adjudicate", help="one gold label per item")
    p.add_argument("labels", nargs="+", help="long label tables (from import), one or several")
    p.add_argument("--out", required=True)
    p.add_argument("--adjudicator", help="a long label table whose labels win")
    p.add_argument("--export", help="the export folder: also write the stand-off gold.csv")
    p.set_defaults(handler=cmd_adjudicate)
    p = sub.add_parser("suggest", help="paragraphs to label next (active learning)")
    p.add_argument("run", help="a run folder, or a config (its newest complete run)")
    p.add_argument("--n", type=int, default=50)
    p.add_argument("--data", help="unlabelled corpus to rank (default: the run's own data)")
    p.add_argument("--out", help="also write the ranking to this CSV")
    p.set_defaults(handler=cmd_suggest)
    return parser


@cli_entry
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.handler(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
