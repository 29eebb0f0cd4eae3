"""Annotator labels as one long table, read from Label Studio exports or a plain CSV.

    paragraph_id, annotator, field, label, source, row

`field` is "framing", "sentiment" or "stance:<Actor>". `source` and `row` say where each label
came from, so every problem can be reported with its file and row. Reading never stops at the
first bad row: valid rows are kept and each problem is listed.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from stance.annotate.fields import STANCE_PREFIX, LabelReport  # noqa: F401 — re-exported
from stance.annotate.labelstudio import EXPORT_AS_JSON, FLAT_EXPORT_KEYS, read_export
from stance.config import LabelSchema
from stance.corpus.tables import decode_error, open_text, read_string_csv, sniff_delimiter
from stance.errors import StanceError

LABEL_COLUMNS = ["paragraph_id", "annotator", "field", "label", "source", "row"]
# Wide CSV column for stance toward an actor: stance_<Actor>.
CSV_STANCE_PREFIX = "stance_"
# What `export` writes into stance cells of actors a paragraph does not mention.
NOT_APPLICABLE = "n/a"


def fields_of(schema: LabelSchema) -> dict[str, list[str]]:
    """Every labelled field and its allowed classes."""
    out = {"framing": list(schema.framing_classes), "sentiment": list(schema.sentiment_classes)}
    for actor in schema.actors:
        out[STANCE_PREFIX + actor] = list(schema.stance_classes)
    return out


def validate_labels(rows: Iterable[dict[str, Any]], schema: LabelSchema, known_ids: set[str] | None,
                    report: LabelReport) -> pd.DataFrame:
    """Keep valid rows; report unknown fields, labels outside the schema, unknown ids, duplicates."""
    allowed = fields_of(schema)
    kept, seen = [], {}
    for r in rows:
        where = (r["source"], r["row"])
        if r["field"] not in allowed:
            report.add(*where, f"unknown field {r['field']!r} (paragraph {r['paragraph_id']})")
            continue
        if r["label"] not in allowed[r["field"]]:
            report.add(*where, f"{r['field']} label {r['label']!r} is not in the schema "
                               f"{allowed[r['field']]} (paragraph {r['paragraph_id']})")
            continue
        if known_ids is not None and r["paragraph_id"] not in known_ids:
            report.add(*where, f"unknown paragraph id {r['paragraph_id']!r}")
            continue
        key = (r["paragraph_id"], r["annotator"], r["field"])
        if key in seen:
            first = seen[key]
            report.add(*where, f"duplicate: {r['annotator']} already labelled {r['field']} of "
                               f"{r['paragraph_id']} at {first[0]}:{first[1]}; kept the first")
            continue
        seen[key] = where
        kept.append(r)
    return pd.DataFrame(kept, columns=LABEL_COLUMNS)


def read_label_csv(path: Path, report: LabelReport) -> list[dict[str, Any]]:
    """The wide CSV (one row per paragraph and annotator) written by `export`, filled in.

    A spreadsheet saved by Excel (BOM, semicolons) reads the same; a Label Studio CSV export is
    refused with a message that says to export as JSON.
    """
    rows = []
    try:
        with open_text(path, "utf-8", newline="") as handle:
            reader = csv.DictReader(handle, delimiter=sniff_delimiter(path))
            columns = set(reader.fieldnames or [])
            if {"annotation_id", "lead_time"} & columns and FLAT_EXPORT_KEYS & columns:
                raise StanceError(f"{path}: this is a Label Studio CSV export, not the label sheet `stance.annotate "
                                  f"export` writes; {EXPORT_AS_JSON}")
            missing = {"paragraph_id", "annotator"} - columns
            if missing:
                raise StanceError(f"{path}: missing column(s) {sorted(missing)}")
            for line, record in enumerate(reader, start=2):
                pid, annotator = (record.get("paragraph_id") or "").strip(), (record.get("annotator") or "").strip()
                values = {k: (v or "").strip() for k, v in record.items() if k and k not in ("paragraph_id", "annotator")}
                labelled = {k: v for k, v in values.items() if v and v != NOT_APPLICABLE and (k in ("framing", "sentiment")
                                                                       or k.startswith(CSV_STANCE_PREFIX))}
                if not labelled:
                    continue
                if not pid or not annotator:
                    report.add(str(path), line, "a labelled row needs paragraph_id and annotator")
                    continue
                for column, label in labelled.items():
                    name = (STANCE_PREFIX + column[len(CSV_STANCE_PREFIX):]) if column.startswith(CSV_STANCE_PREFIX) \
                        else column
                    rows.append({"paragraph_id": pid, "annotator": annotator, "field": name, "label": label,
                                 "source": str(path), "row": line})
    except UnicodeDecodeError as exc:
        raise decode_error(path, exc) from None
    return rows


def read_labels_file(path: Path, report: LabelReport, schema: LabelSchema) -> list[dict[str, Any]]:
    if not path.is_file():
        raise StanceError(f"{path}: no such file")
    if path.suffix.lower() == ".json":
        return read_export(path, report, schema)
    if path.suffix.lower() in (".csv", ".tsv"):
        return read_label_csv(path, report)
    raise StanceError(f"{path}: expected a Label Studio JSON export (.json) or a label CSV (.csv)")


def read_long_labels(path: Path) -> pd.DataFrame:
    """A long label table written by `import` (or any CSV with its columns)."""
    frame = read_string_csv(path, "no such file")
    missing = [c for c in ("paragraph_id", "annotator", "field", "label") if c not in frame]
    if missing:
        raise StanceError(f"{path}: missing column(s) {missing}; expected the table `stance.annotate import` writes")
    return frame


def wide_labels(long: pd.DataFrame) -> pd.DataFrame:
    """One row per paragraph: framing, sentiment, and stance as a JSON object actor -> class."""
    out = []
    for pid, part in long.groupby("paragraph_id", sort=True):
        labels = dict(zip(part["field"], part["label"]))
        stance = {f[len(STANCE_PREFIX):]: v for f, v in sorted(labels.items()) if f.startswith(STANCE_PREFIX)}
        out.append({"paragraph_id": pid, "framing": labels.get("framing", ""),
                    "sentiment": labels.get("sentiment", ""), "stance": json.dumps(stance, ensure_ascii=False)})
    return pd.DataFrame(out, columns=["paragraph_id", "framing", "sentiment", "stance"])
