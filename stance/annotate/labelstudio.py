"""Label Studio round trip: tasks and a labeling config out, JSON exports back in.

The labeling config is generated from the label schema: framing and sentiment as single
choices, an "actors" multiple choice that tasks pre-fill with the actors the gazetteer found
(as a prediction the annotator can correct), and one stance choice per actor that is shown
only while that actor is ticked (`visibleWhen="choice-selected"`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import pandas as pd

from stance.annotate.fields import STANCE_PREFIX, LabelReport
from stance.config import LabelSchema
from stance.corpus.tables import file_encoding
from stance.errors import StanceError

TASK_FIELDS = ["paragraph_id", "text", "outlet", "date", "title", "source", "start", "end", "text_sha1"]
PREDICTION_VERSION = "stance-gazetteer"


def control_name(actor: str) -> str:
    """Label Studio control names must be plain identifiers."""
    return "stance_" + re.sub(r"\W+", "_", actor).strip("_")


def _choices(name: str, classes: list[str], required: bool, inline: bool = True, choice: str = "single-radio") -> str:
    options = "".join(f"\n      <Choice value={quoteattr(c)}/>" for c in classes)
    return (f'    <Choices name="{name}" toName="text" choice="{choice}"'
            f'{" showInline=" + quoteattr("true") if inline else ""}{" required=" + quoteattr("true") if required else ""}>'
            f"{options}\n    </Choices>")


def label_config(schema: LabelSchema) -> str:
    """Label Studio labeling-config XML for this schema."""
    names = [control_name(a) for a in schema.actors]
    if len(set(names)) != len(names):
        raise StanceError("schema.actors: two actor names map to the same Label Studio control name; rename one")
    parts = ['<View>',
             '  <Header value="$outlet, $date: $title" size="5"/>',
             '  <Text name="text" value="$text"/>',
             '  <View style="margin-top: 1em">',
             '    <Header value="Framing (see the codebook)" size="5"/>',
             _choices("framing", list(schema.framing_classes), required=True),
             '    <Header value="Sentiment" size="5"/>',
             _choices("sentiment", list(schema.sentiment_classes), required=True),
             '    <Header value="Actors mentioned (pre-filled from the gazetteer: correct if wrong)" size="5"/>',
             _choices("actors", list(schema.actors), required=False, choice="multiple"),
             '  </View>']
    for actor in schema.actors:
        parts += [f'  <View visibleWhen="choice-selected" whenTagName="actors" whenChoiceValue={quoteattr(actor)}>',
                  f"    <Header value={quoteattr('Stance toward ' + actor)} size=\"6\"/>",
                  _choices(control_name(actor), list(schema.stance_classes), required=False),
                  '  </View>']
    parts += ['  <TextArea name="comment" toName="text" placeholder="Comment (optional): doubts, boilerplate"'
              ' rows="2" maxSubmissions="1"/>', '</View>', '']
    return "\n".join(parts)


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if hasattr(value, "item"):
        return value.item()
    return value


def tasks(paragraphs: pd.DataFrame) -> list[dict[str, Any]]:
    """Label Studio JSON import: one task per paragraph, actors pre-filled as a prediction."""
    out = []
    for row in paragraphs.to_dict("records"):
        task: dict[str, Any] = {"data": {k: _plain(row.get(k)) for k in TASK_FIELDS}}
        actors = [str(a) for a in (row.get("actors") if row.get("actors") is not None else [])]
        if actors:
            task["predictions"] = [{"model_version": PREDICTION_VERSION, "result": [
                {"from_name": "actors", "to_name": "text", "type": "choices", "value": {"choices": actors}}]}]
        out.append(task)
    return out


def _annotator(annotation: dict[str, Any]) -> str:
    who = annotation.get("completed_by")
    if isinstance(who, dict):
        return str(who.get("email") or who.get("username") or f"user-{who.get('id')}")
    return f"user-{who}" if who is not None else "unknown"


# Columns only Label Studio's flat exports (JSON-MIN, CSV) have: one record per annotation,
# choices flattened into columns, no `data` / `annotations` nesting.
FLAT_EXPORT_KEYS = {"annotation_id", "annotator", "lead_time", "created_at", "updated_at"}
EXPORT_AS_JSON = ("in Label Studio, export the project as \"JSON\" (not JSON-MIN, CSV or TSV): only JSON keeps "
                  "every annotator's annotations with the task they belong to")


def is_flat_export(records: list[Any]) -> bool:
    """A JSON-MIN export: flat records with annotation fields, none of them a task object."""
    dicts = [r for r in records if isinstance(r, dict)]
    return bool(dicts) and not any("data" in r or "annotations" in r for r in dicts) \
        and any(FLAT_EXPORT_KEYS & set(r) for r in dicts)


def _results(annotation: dict[str, Any], report: LabelReport, path: Path, at: str) -> list[tuple[str, list[str]]]:
    """(control name, chosen values) per result of one annotation; wrongly shaped results are reported."""
    results = annotation.get("result", [])
    if not isinstance(results, list):
        report.add(str(path), at, f"'result' is {type(results).__name__}, not a list; annotation skipped")
        return []
    out = []
    for j, result in enumerate(results, start=1):
        value = result.get("value") if isinstance(result, dict) else None
        choices = value.get("choices") if isinstance(value, dict) else None
        if not isinstance(result, dict) or not isinstance(result.get("from_name"), str):
            report.add(str(path), at, f"result {j} is not a Label Studio result object "
                                      f"(got {json.dumps(result)[:40]}); skipped")
            continue
        if value is not None and not isinstance(value, dict) or choices is not None and (
                not isinstance(choices, list) or not all(isinstance(c, str) for c in choices)):
            report.add(str(path), at, f"result {j} ({result['from_name']}): 'value.choices' is not a list of "
                                      "strings; skipped")
            continue
        if isinstance(value, dict) and choices is None and result["from_name"] != "comment":
            # A text area or other control's value under a choice field: nothing we can read as a label.
            report.add(str(path), at, f"result {j} ({result['from_name']}): no 'value.choices' (keys: "
                                      f"{', '.join(map(str, value)) or 'none'}); skipped")
            continue
        out.append((result["from_name"], choices or []))
    return out


def read_export(path: Path, report: LabelReport, schema: LabelSchema | None = None) -> list[dict[str, Any]]:
    """Rows of the long label table from a Label Studio JSON export (format "JSON").

    A file in another export flavour (JSON-MIN), or one with no task object at all, is an
    error (StanceError) that says how to export; a task, annotation or result of the wrong shape
    is reported with its task number and skipped, and the valid rows are kept.
    """
    from stance.config import corpus_defaults

    schema = schema or corpus_defaults()[1]
    actor_of = {control_name(a): a for a in schema.actors}
    try:
        data = json.loads(path.read_text(encoding=file_encoding(path)))
    except UnicodeDecodeError as exc:
        raise StanceError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise StanceError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    if not isinstance(data, list):
        raise StanceError(f"{path}: expected a Label Studio JSON export (a list of tasks); {EXPORT_AS_JSON}")
    if is_flat_export(data):
        raise StanceError(f"{path}: this is a Label Studio JSON-MIN export (one flat record per annotation); "
                          f"{EXPORT_AS_JSON}")
    if data and not any(isinstance(t, dict) and "data" in t for t in data):
        raise StanceError(f"{path}: no Label Studio task in the file (no item has 'data'); {EXPORT_AS_JSON}")
    rows = []
    for number, task in enumerate(data, start=1):
        where = f"task {number}" + (f" (id {task.get('id')})" if isinstance(task, dict) and "id" in task else "")
        if not isinstance(task, dict) or "data" not in task:
            report.add(str(path), where, "not a task object")
            continue
        if not isinstance(task["data"], dict):
            report.add(str(path), where, f"task 'data' is {type(task['data']).__name__}, not an object; skipped")
            continue
        if "annotations" not in task:
            report.add(str(path), where, "no 'annotations' list: export with the JSON format, not JSON-MIN or CSV")
            continue
        if not isinstance(task["annotations"], list):
            report.add(str(path), where, f"'annotations' is {type(task['annotations']).__name__}, not a list; skipped")
            continue
        pid = str(task["data"].get("paragraph_id") or "").strip()
        if not pid:
            report.add(str(path), where, "task data has no paragraph_id")
            continue
        for k, annotation in enumerate(task["annotations"], start=1):
            at = f"{where}, annotation {k}"
            if not isinstance(annotation, dict):
                report.add(str(path), at, f"not an annotation object (got {json.dumps(annotation)[:40]}); skipped")
                continue
            if annotation.get("was_cancelled"):
                continue  # skipped by the annotator in Label Studio: not a label
            annotator = _annotator(annotation)
            ticked, picked = None, {}
            for name, choices in _results(annotation, report, path, at):
                if name == "actors":
                    ticked = set(choices)
                elif (name in ("framing", "sentiment") or name in actor_of) and len(choices) > 1:
                    # A single-choice field with several choices: which one was meant is unknown.
                    report.add(str(path), at, f"{name}: {len(choices)} choices {choices} for a single-choice "
                                              "field; skipped")
                elif name in ("framing", "sentiment") and choices:
                    picked[name] = choices[0]
                elif name in actor_of and choices:
                    picked[STANCE_PREFIX + actor_of[name]] = choices[0]
                elif name not in ("comment",) and name.startswith("stance_"):
                    report.add(str(path), at, f"stance control {name!r} matches no actor in the schema")
            for field_name, label in picked.items():
                if field_name.startswith(STANCE_PREFIX) and ticked is not None \
                        and field_name[len(STANCE_PREFIX):] not in ticked:
                    report.add(str(path), at, f"stance toward {field_name[len(STANCE_PREFIX):]} given but the actor "
                                              "is not ticked as mentioned; ignored")
                    continue
                rows.append({"paragraph_id": pid, "annotator": annotator, "field": field_name, "label": label,
                             "source": str(path), "row": at})
    return rows
