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

from stance.annotate.labels import STANCE_PREFIX, LabelReport
from stance.config import LabelSchema
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


def read_export(path: Path, report: LabelReport, schema: LabelSchema | None = None) -> list[dict[str, Any]]:
    """Rows of the long label table from a Label Studio JSON export (format "JSON")."""
    from stance.config import corpus_defaults

    schema = schema or corpus_defaults()[1]
    actor_of = {control_name(a): a for a in schema.actors}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise StanceError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise StanceError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    if not isinstance(data, list):
        raise StanceError(f"{path}: expected a Label Studio JSON export (a list of tasks)")
    rows = []
    for number, task in enumerate(data, start=1):
        where = f"task {number}" + (f" (id {task.get('id')})" if isinstance(task, dict) and "id" in task else "")
        if not isinstance(task, dict) or "data" not in task:
            report.add(str(path), where, "not a task object")
            continue
        if "annotations" not in task:
            report.add(str(path), where, "no 'annotations' list: export with the JSON format, not JSON-MIN or CSV")
            continue
        pid = str(task["data"].get("paragraph_id", "")).strip()
        if not pid:
            report.add(str(path), where, "task data has no paragraph_id")
            continue
        for k, annotation in enumerate(task["annotations"], start=1):
            if annotation.get("was_cancelled"):
                continue  # skipped by the annotator in Label Studio: not a label
            annotator, at = _annotator(annotation), f"{where}, annotation {k}"
            ticked, picked = None, {}
            for result in annotation.get("result", []):
                name = result.get("from_name")
                choices = (result.get("value") or {}).get("choices") or []
                if name == "actors":
                    ticked = set(choices)
                elif name in ("framing", "sentiment") and choices:
                    picked[name] = choices[0]
                elif name in actor_of and choices:
                    picked[STANCE_PREFIX + actor_of[name]] = choices[0]
                elif name not in ("comment",) and name is not None and name.startswith("stance_"):
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
