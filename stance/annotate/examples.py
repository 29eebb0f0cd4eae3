"""Turn a labelled paragraph table into examples for one task.

framing / sentiment: one example per labelled paragraph.
stance: one example per (paragraph, actor) pair that carries a stance label; the example keeps
the actor's mention spans so target-aware models know where the target is.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from stance.config import LabelSchema
from stance.corpus.actors import Gazetteer
from stance.errors import StanceError

EXAMPLE_COLUMNS = ["example_id", "paragraph_id", "doc_id", "cluster_id", "outlet", "date", "text",
                   "target", "target_spans", "label"]


def _where(row: Any) -> str:
    row_no = row.get("source_row")
    at = f" line {int(row_no)}" if row_no is not None and not pd.isna(row_no) else ""
    return f"{row['source']}{at} (paragraph {row['paragraph_id']})"


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and pd.isna(value):
        return True
    return isinstance(value, str) and not value.strip()


def _stance_mapping(value: Any, where: str) -> dict[str, str]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise StanceError(f"{where}: stance labels must be a JSON object like "
                              f'{{"Russia": "unfavourable"}}, got {value[:60]!r}') from None
    if not isinstance(value, dict):
        raise StanceError(f"{where}: stance labels must be a mapping actor -> class, got {type(value).__name__}")
    return {str(k): v for k, v in value.items() if not _missing(v)}


def _mapped(value: Any, values: dict[str, str]) -> Any:
    """A raw label through data.labels.values (-1 -> unfavourable); JSON numbers compare as text."""
    if not values or value is None or isinstance(value, (dict, list)):
        return value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return values.get(str(value), value)


def target_span(row: dict[str, Any]) -> list[list[int]]:
    """The target's span in the paragraph as [[start, end]], or [] when the table's target is
    not mentioned (data.target_match: none)."""
    start, end = row.get("target_start"), row.get("target_end")
    if _missing(start) or _missing(end):
        return []
    return [[int(start), int(end)]]


def _unique_example_ids(rows: list[dict[str, Any]]) -> None:
    """One paragraph may name the same target twice (two mentions, two rows): such examples are
    told apart by the span of their mention."""
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["example_id"]] = counts.get(row["example_id"], 0) + 1
    for row in rows:
        if counts[row["example_id"]] > 1:
            span = row["target_spans"][0] if row["target_spans"] else ["-", "-"]
            row["example_id"] = f"{row['example_id']}@{span[0]}-{span[1]}"


def has_explicit_targets(paragraphs: pd.DataFrame) -> bool:
    """Rows that name their own target (data.columns.target), as in NewsMTSC."""
    return "target" in paragraphs.columns and paragraphs["target"].notna().any()


def build_examples(paragraphs: pd.DataFrame, task: str, schema: LabelSchema,
                   label_column: str | None, values: dict[str, str] | None = None) -> pd.DataFrame:
    """Examples with a `label` column; unlabelled paragraphs are left out.

    Stance rows normally hold a mapping actor -> class for the schema's actors; rows that name
    their own target (any string, with its offsets) hold one class for that target instead.
    """
    values = values or {}
    explicit = task == "stance" and has_explicit_targets(paragraphs)
    if label_column is None:
        raise StanceError(f"data.labels.{task} is not set: no column holds {task} labels")
    if label_column not in paragraphs.columns:
        have = [c for c in paragraphs.columns if c not in ("actors", "actor_spans")]
        raise StanceError(f"no {task} label column {label_column!r} in the data "
                          f"(set data.labels.{task}); columns are {have}")
    classes = schema.classes_for(task)
    problems: list[str] = []
    rows: list[dict[str, Any]] = []
    gazetteer = Gazetteer.from_schema(schema) if task == "stance" else None
    for row in paragraphs.to_dict("records"):
        value = _mapped(row[label_column], values)
        if explicit:
            if _missing(value):
                continue
            if value not in classes:
                problems.append(f"{_where(row)}: stance label {value!r} is not in schema.stance_classes {classes}"
                                + ("" if values else " (map raw values with data.labels.values)"))
                continue
            target = str(row["target"])
            rows.append(_example(row, f"{row['paragraph_id']}|{target}", target, target_span(row), value))
            continue
        if task != "stance":
            if _missing(value):
                continue
            if value not in classes:
                problems.append(f"{_where(row)}: {task} label {value!r} is not in schema.{task}_classes {classes}")
                continue
            rows.append(_example(row, row["paragraph_id"], None, [], value))
            continue
        if not isinstance(value, dict) and _missing(value):
            continue
        for actor, label in _stance_mapping(value, _where(row)).items():
            label = _mapped(label, values)
            if actor not in schema.actors:
                problems.append(f"{_where(row)}: stance actor {actor!r} is not in schema.actors {list(schema.actors)}")
            elif label not in classes:
                problems.append(f"{_where(row)}: stance label {label!r} for {actor} is not in schema.stance_classes {classes}")
            else:
                spans = [[m.start, m.end] for m in gazetteer.find_actor(row["text"], actor)]
                rows.append(_example(row, f"{row['paragraph_id']}|{actor}", actor, spans, label))
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise StanceError("; ".join(problems[:3]) + more)
    if not rows:
        raise StanceError(f"no paragraph has a {task} label in column {label_column!r}")
    if explicit:
        _unique_example_ids(rows)
    return _frame(rows)


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    given = ["given_split"] if rows and "given_split" in rows[0] else []
    return pd.DataFrame(rows, columns=EXAMPLE_COLUMNS + given)


def _example(row: dict[str, Any], example_id: str, target: str | None, spans: list[list[int]],
             label: str) -> dict[str, Any]:
    example = {"example_id": example_id, "paragraph_id": row["paragraph_id"], "doc_id": row["doc_id"],
               "cluster_id": row["cluster_id"], "outlet": row.get("outlet"), "date": row.get("date"),
               "text": row["text"], "target": target, "target_spans": spans, "label": label}
    if row.get("given_split") is not None:  # data that comes already split (data.split_files)
        example["given_split"] = row["given_split"]
    return example


# Why a paragraph or a pair gets no prediction (stance.predict counts them under these names).
SKIP_NO_TARGET = "row of a target table that names no target"
SKIP_NOT_NAMED = "paragraph for which the stance column names no actor"
SKIP_NO_MENTION = "paragraph that mentions no schema actor"
SKIP_UNKNOWN_ACTOR = "pair whose actor is not in schema.actors"


def names_pairs(paragraphs: pd.DataFrame, label_column: str | None) -> bool:
    """Whether the data name their own stance pairs: a stance column holding a mapping
    actor -> class (the classes may be empty) in at least one row."""
    if not label_column or label_column not in paragraphs.columns:
        return False
    return any(isinstance(v, dict) or (isinstance(v, str) and v.strip().startswith("{"))
               for v in paragraphs[label_column] if not _missing(v))


def named_actors(value: Any) -> list[str]:
    """The actors a stance cell names, labelled or not ({"Russia": null} names Russia)."""
    if _missing(value):
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return []
    return [str(k) for k in value] if isinstance(value, dict) else []


def prediction_examples(paragraphs: pd.DataFrame, task: str, schema: LabelSchema, label_column: str | None = None,
                        named: bool | None = None, skipped: dict[str, int] | None = None) -> pd.DataFrame:
    """Examples to predict, labelled or not; `label` is empty.

    framing / sentiment: every paragraph. stance: the (paragraph, target) pairs the data name,
    as evaluation builds them: one per target of a target table (data.columns.target); where
    the data have a stance column of mappings (`label_column`; `named` says so, else it is
    looked up in `paragraphs`), exactly the actors each row's mapping names; otherwise every
    (paragraph, schema actor it mentions). A target's spans are all its mentions in the
    paragraph. What is left out is counted in `skipped` (reason -> count).
    """
    skipped = skipped if skipped is not None else {}

    def skip(reason: str) -> None:
        skipped[reason] = skipped.get(reason, 0) + 1

    rows: list[dict[str, Any]] = []
    gazetteer = Gazetteer.from_schema(schema) if task == "stance" else None
    explicit = task == "stance" and has_explicit_targets(paragraphs)
    if named is None:
        named = task == "stance" and not explicit and names_pairs(paragraphs, label_column)
    for row in paragraphs.to_dict("records"):
        if task != "stance":
            rows.append(_example(row, row["paragraph_id"], None, [], None))
            continue
        if explicit:
            if _missing(row.get("target")):
                skip(SKIP_NO_TARGET)  # a paragraph of a target table that names no target
                continue
            target = str(row["target"])
            rows.append(_example(row, f"{row['paragraph_id']}|{target}", target, target_span(row), None))
            continue
        if named:
            actors = named_actors(row.get(label_column))
            if not actors:
                skip(SKIP_NOT_NAMED)
        else:
            actors = [a for a in (row.get("actors") if row.get("actors") is not None else [])]
            if not len(actors):
                skip(SKIP_NO_MENTION)
        for actor in actors:
            if actor in schema.actors:
                spans = [[m.start, m.end] for m in gazetteer.find_actor(row["text"], actor)]
                rows.append(_example(row, f"{row['paragraph_id']}|{actor}", actor, spans, None))
            else:
                skip(SKIP_UNKNOWN_ACTOR)
    if explicit:
        _unique_example_ids(rows)
    return pd.DataFrame(rows, columns=EXAMPLE_COLUMNS)
