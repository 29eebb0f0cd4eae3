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
    sample DATA --config C --per-outlet N --seed S [--from D --to D] --out sample.csv
                                 a seeded stratified random sample to annotate, with each
                                 paragraph's inclusion probability (stance.annotate.sample)
    suggest RUN --n 50           the next paragraphs to label, by model uncertainty across outlets

DATA is anything stance.train reads (a folder of pages, a table, builtin:example).
"""

from __future__ import annotations

import argparse
import json
import re
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
from stance.corpus.tables import file_encoding, read_string_csv
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


def config_paragraphs(data: str, config: str | None):
    """(paragraphs, schema) of DATA read as stance.train would: with --config, that config's
    data section (formats, columns, per-file layouts, metadata) and schema apply to DATA."""
    if config:
        cfg = load_config(config)
        return ingest(cfg.data.model_copy(update={"path": data}), cfg.corpus, cfg.label_schema), cfg.label_schema
    schema, corpus = schema_and_corpus(None)
    return ingest(DataConfig(path=data), corpus, schema), schema


def cmd_export(args: argparse.Namespace) -> None:
    paragraphs, schema = config_paragraphs(args.data, args.config)
    out_path = Path(args.out)
    if out_path.exists() and (not out_path.is_dir() or any(out_path.iterdir())):
        raise StanceError(f"{out_path}: exists and is not empty; choose a new --out (nothing is overwritten)")
    if args.ids:
        wanted = read_string_csv(Path(args.ids), "--ids: paragraph id file not found")
        if "paragraph_id" not in wanted:
            raise StanceError(f"{args.ids}: no paragraph_id column")
        if wanted.empty:
            raise StanceError(f"{args.ids}: no paragraph ids listed (the file holds only its header)")
        repeated = wanted["paragraph_id"].duplicated()
        if repeated.any():
            raise StanceError(f"{args.ids} line {int(wanted.index[repeated][0]) + 2}: paragraph id "
                              f"{wanted['paragraph_id'][repeated].iloc[0]!r} listed twice")
        missing = sorted(set(wanted["paragraph_id"]) - set(paragraphs["paragraph_id"]))
        if missing:
            raise StanceError(f"{args.ids}: {len(missing)} paragraph id(s) not in {args.data}, e.g. {missing[0]!r} "
                              "(a different corpus or ingest rules?)")
        if "text_sha1" in wanted:  # a sample file: the text it was drawn from must be the text exported
            now = dict(zip(paragraphs["paragraph_id"], paragraphs["text_sha1"]))
            changed = [k for k, (pid, sha) in enumerate(zip(wanted["paragraph_id"], wanted["text_sha1"]))
                       if sha and now[pid] != sha]
            if changed:
                k = changed[0]
                raise StanceError(f"{args.ids} line {k + 2}: paragraph {wanted['paragraph_id'].iloc[k]!r} has other "
                                  f"text now (text_sha1 differs; {len(changed)} such); the corpus or the ingest rules "
                                  "changed since the ids were written")
        order = {pid: k for k, pid in enumerate(wanted["paragraph_id"])}
        paragraphs = paragraphs[paragraphs["paragraph_id"].isin(order)]
        paragraphs = paragraphs.sort_values("paragraph_id", key=lambda s: s.map(order)).reset_index(drop=True)
    out = fresh_dir(out_path)
    anchors = paragraphs[["paragraph_id", "doc_id", "outlet", "date", "source", "start", "end", "text_sha1"]].copy()
    anchors["actors"] = paragraphs["actors"].map(lambda a: "|".join(a))
    files.write_csv(out / "paragraphs.csv", anchors)
    files.write_text(out / "label_config.xml", label_config(schema))
    files.write_json(out / "tasks.json", tasks(paragraphs))
    # The CSV alternative: one row per paragraph; stance columns only for mentioned actors.
    sheet = pd.DataFrame({"paragraph_id": paragraphs["paragraph_id"], "annotator": "",
                          "outlet": paragraphs["outlet"], "actors": anchors["actors"],
                          "text": paragraphs["text"], "framing": "", "sentiment": ""})
    for context in ("speaker", "title", "date"):  # what an annotator needs to judge the voice; never labelled
        if context in paragraphs and paragraphs[context].notna().any():
            sheet.insert(4, context, paragraphs[context])
    for actor in schema.actors:
        sheet[CSV_STANCE_PREFIX + actor] = ["" if actor in a else NOT_APPLICABLE for a in paragraphs["actors"]]
    files.write_csv(out / "labels.csv", sheet)
    print(f"stance.annotate export: {len(paragraphs)} paragraphs -> {out}/")
    print("  Label Studio: create a project with label_config.xml, import tasks.json "
          "(the actors are pre-filled as predictions); export annotations as JSON")
    print("  or fill in labels.csv (annotator, framing, sentiment, stance_<Actor>; leave n/a alone)")
    print("  these files hold the paragraph text: keep exports of outside text out of the repository")


def cmd_sample(args: argparse.Namespace) -> None:
    from stance.annotate.sample import SampleDesign, draw_sample

    out = fresh_file(Path(args.out))
    frame_out = Path(args.frame_out) if args.frame_out else None
    if frame_out is not None and (frame_out.exists() or frame_out.resolve() == out.resolve()):
        raise StanceError(f"--frame-out {frame_out}: exists (or is --out); choose a new file (nothing was written)")
    paragraphs, _ = config_paragraphs(args.data, args.config)
    design = SampleDesign(per_stratum=args.per_outlet, seed=args.seed, date_from=args.date_from, date_to=args.date_to,
                          exclude_roles=tuple(args.exclude_role))
    sample = draw_sample(paragraphs, design)
    if frame_out is not None:  # the population the sample stands for, with text: for stance.predict, kept outside the repo
        from stance.annotate.sample import eligible

        frame = eligible(paragraphs, design).reset_index(drop=True)
        files.write_parquet(frame_out, frame)
        print(f"  sampling frame: {len(frame)} paragraphs -> {frame_out}")
    files.write_csv(out, sample)
    undated = int(paragraphs["date"].isna().sum())
    if undated and (args.date_from or args.date_to):
        print(f"  {undated} paragraph(s) have no date and are outside any date range: not in the frame", file=sys.stderr)
    sizes = sample.drop_duplicates("outlet").set_index("outlet")["stratum_size"]
    print(f"stance.annotate sample: {len(sample)} paragraphs (seed {args.seed}) -> {out}")
    for outlet, size in sizes.items():
        print(f"  {outlet}: {args.per_outlet} of {size} eligible (inclusion probability {args.per_outlet / size:.4f})")


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
    p.add_argument("--config", help="read DATA with this config's data section, schema and corpus rules")
    p.add_argument("--ids", help="export only the paragraphs listed in this CSV's paragraph_id column "
                                 "(e.g. a file written by `sample`), in its order")
    p.set_defaults(handler=cmd_export)
    p = sub.add_parser("sample", help="a seeded stratified random sample to annotate, with inclusion probabilities")
    p.add_argument("data")
    p.add_argument("--config", help="read DATA with this config's data section, schema and corpus rules")
    p.add_argument("--per-outlet", type=int, required=True, help="paragraphs drawn per outlet (stratum)")
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--from", dest="date_from", help="first date, YYYY-MM-DD (inclusive)")
    p.add_argument("--to", dest="date_to", help="last date, YYYY-MM-DD (inclusive)")
    p.add_argument("--exclude-role", action="append", default=None,
                   help="speaker role never sampled (repeatable; default: reporter)")
    p.add_argument("--out", required=True, help="CSV of the sample: ids, offsets, hashes, inclusion probabilities")
    p.add_argument("--frame-out", help="also write the sampling frame (every eligible paragraph, with text) as a "
                                       "paragraph table for stance.predict; it holds the text, so keep it outside "
                                       "the repository")
    p.set_defaults(handler=cmd_sample)
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
    if getattr(args, "command", None) == "sample":
        if args.per_outlet < 1:
            raise StanceError("--per-outlet must be at least 1")
        if args.exclude_role is None:
            args.exclude_role = ["reporter"]
        import datetime

        for flag, value in (("--from", args.date_from), ("--to", args.date_to)):
            if value is None:
                continue
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                raise StanceError(f"{flag}: expected a date YYYY-MM-DD, got {value!r}")
            try:
                datetime.date.fromisoformat(value)
            except ValueError:
                raise StanceError(f"{flag}: {value} is not a calendar date") from None
        if args.date_from and args.date_to and args.date_from > args.date_to:
            raise StanceError(f"--from {args.date_from} is after --to {args.date_to}")
    args.handler(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
