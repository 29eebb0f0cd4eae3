"""The annotation workflow: codebook, Label Studio round trip, CSV, agreement, adjudication."""

import json
import re
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from stance.annotate.__main__ import main
from stance.annotate.agreement import adjudicate, agreement
from stance.annotate.labels import LabelReport, read_label_csv, validate_labels
from stance.annotate.labelstudio import label_config, read_export, tasks
from stance.annotate.standoff import attach_standoff, standoff_table
from stance.config import DataConfig
from stance.corpus.ingest import ingest
from stance.errors import StanceError
from tests.conftest import REPO


def defined_terms(markdown: str) -> dict[str, set[str]]:
    """Section (## heading) -> terms defined as ### `term` headings under it."""
    terms, section = {}, None
    for line in markdown.splitlines():
        if line.startswith("## "):
            section = line[3:].strip().lower()
            terms[section] = set()
        elif section and (m := re.match(r"### `([^`]+)`\s*$", line)):
            terms[section].add(m.group(1))
    return terms


def test_every_schema_class_and_actor_is_defined_in_the_codebook(defaults):
    _, schema = defaults
    terms = defined_terms((REPO / "docs" / "codebook.md").read_text(encoding="utf-8"))
    assert set(schema.framing_classes) <= terms["framing"]
    assert set(schema.stance_classes) <= terms["stance"]
    assert set(schema.sentiment_classes) <= terms["sentiment"]
    assert set(schema.actors) <= terms["actors"]


def test_label_config_is_valid_xml_with_a_stance_block_shown_per_ticked_actor(defaults):
    _, schema = defaults
    root = ET.fromstring(label_config(schema))
    controls = {c.get("name"): c for c in root.iter("Choices")}
    assert {"framing", "sentiment", "actors"} <= set(controls)
    assert [c.get("value") for c in controls["framing"]] == list(schema.framing_classes)
    assert controls["actors"].get("choice") == "multiple"
    blocks = [v for v in root.iter("View") if v.get("visibleWhen") == "choice-selected"]
    assert {b.get("whenChoiceValue") for b in blocks} == set(schema.actors)
    for block in blocks:
        (choices,) = block.iter("Choices")
        assert choices.get("name") == f"stance_{block.get('whenChoiceValue')}"


def labelled_paragraphs(aggregator_page, defaults):
    corpus, schema = defaults
    return ingest(DataConfig(path=str(aggregator_page)), corpus, schema), schema


def choice(name, values):
    return {"from_name": name, "to_name": "text", "type": "choices",
            "value": {"choices": values if isinstance(values, list) else [values]}}


def test_label_studio_export_reads_back_with_problems_reported_by_task(aggregator_page, defaults, tmp_path):
    paragraphs, schema = labelled_paragraphs(aggregator_page, defaults)
    exported = tasks(paragraphs)
    with_actors = next(t for t in exported if "predictions" in t)
    assert with_actors["predictions"][0]["result"][0]["from_name"] == "actors"
    assert "text" in with_actors["data"] and with_actors["data"]["paragraph_id"]
    ids = list(paragraphs["paragraph_id"])
    # The shape Label Studio 1.23 exports ("JSON"): completed_by is the user id.
    export = [
        {"id": 1, "data": {"paragraph_id": ids[0]}, "annotations": [
            {"id": 1, "completed_by": 1, "was_cancelled": False,
             "result": [choice("framing", "neutral"), choice("sentiment", "negative"), choice("actors", ["Russia"]),
                        choice("stance_Russia", "unfavourable"), choice("stance_US", "neutral")]},
            {"id": 2, "completed_by": {"id": 2, "email": "b@example.org"}, "was_cancelled": False,
             "result": [choice("framing", "pro-Whatever")]},
            {"id": 3, "completed_by": 3, "was_cancelled": True, "result": [choice("framing", "neutral")]}]},
        {"id": 2, "data": {"paragraph_id": "no-such-paragraph"}, "annotations": [
            {"id": 4, "completed_by": 1, "result": [choice("framing", "neutral")]}]},
        {"id": 3, "data": {"paragraph_id": ids[1]}, "annotations": [
            {"id": 5, "completed_by": 1, "result": [choice("framing", "neutral")]},
            {"id": 6, "completed_by": 1, "result": [choice("framing", "pro-West")]}]},
    ]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export))
    report = LabelReport()
    labels = validate_labels(read_export(path, report, schema), schema, set(ids), report)
    got = {(r.paragraph_id, r.annotator, r.field): r.label for r in labels.itertuples()}
    assert got == {(ids[0], "user-1", "framing"): "neutral", (ids[0], "user-1", "sentiment"): "negative",
                   (ids[0], "user-1", "stance:Russia"): "unfavourable", (ids[1], "user-1", "framing"): "neutral"}
    problems = "\n".join(report.problems)
    assert "task 1 (id 1), annotation 1: stance toward US given but the actor is not ticked" in problems
    assert "task 1 (id 1), annotation 2: framing label 'pro-Whatever' is not in the schema" in problems
    assert "task 2 (id 2), annotation 1: unknown paragraph id 'no-such-paragraph'" in problems
    assert "task 3 (id 3), annotation 2: duplicate: user-1 already labelled framing" in problems
    assert len(report.problems) == 4


def test_label_csv_skips_not_applicable_cells_and_names_bad_lines(tmp_path, defaults):
    _, schema = defaults
    path = tmp_path / "labels.csv"
    path.write_text("paragraph_id,annotator,text,framing,sentiment,stance_Russia,stance_US\n"
                    "p1,ann,some text,neutral,negative,unfavourable,n/a\n"
                    "p2,,other text,pro-West,,,n/a\n"
                    "p3,ann,unlabelled,,,,n/a\n", encoding="utf-8")
    report = LabelReport()
    labels = validate_labels(read_label_csv(path, report), schema, {"p1", "p2", "p3"}, report)
    assert sorted(labels["field"]) == ["framing", "sentiment", "stance:Russia"]
    assert report.problems == [f"{path}:3: a labelled row needs paragraph_id and annotator"]


def long(rows):
    return pd.DataFrame(rows, columns=["paragraph_id", "annotator", "field", "label"])


def test_agreement_is_one_for_identical_passes_and_matches_sklearn_kappa():
    rng = np.random.default_rng(0)
    a = rng.choice(["neutral", "pro-Russia", "pro-West"], 60)
    b = np.where(rng.random(60) < 0.7, a, rng.choice(["neutral", "pro-Russia", "pro-West"], 60))
    rows = [(f"p{i}", "A", "framing", x) for i, x in enumerate(a)] + \
           [(f"p{i}", "B", "framing", x) for i, x in enumerate(b)]
    result = agreement(long(rows))["fields"]["framing"]
    assert result["cohen_kappa"]["A | B"]["kappa"] == pytest.approx(cohen_kappa_score(a, b))
    # With two coders and no missing data, alpha is kappa-like but corrects for small samples.
    assert 0 < result["krippendorff_alpha"] < 1
    same = agreement(long([(f"p{i}", who, "framing", x) for who in "AB" for i, x in enumerate(a)]))
    assert same["fields"]["framing"]["krippendorff_alpha"] == pytest.approx(1.0)


def test_krippendorff_alpha_known_value_with_missing_ratings():
    # Krippendorff's nominal example (Content Analysis, 2004): 4 coders, 12 units, missing data, alpha = 0.743.
    data = [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
        [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
    ]
    rows = [(f"u{u}", f"c{c}", "framing", f"v{v}") for c, coder in enumerate(data) for u, v in enumerate(coder)
            if v is not None]
    assert agreement(long(rows))["fields"]["framing"]["krippendorff_alpha"] == pytest.approx(0.743, abs=0.001)


def test_stance_agreement_per_actor_and_pooled():
    rows = [("p1", "A", "stance:Russia", "unfavourable"), ("p1", "B", "stance:Russia", "unfavourable"),
            ("p2", "A", "stance:Russia", "neutral"), ("p2", "B", "stance:Russia", "favourable"),
            ("p1", "A", "stance:China", "neutral"), ("p1", "B", "stance:China", "neutral"),
            ("p3", "A", "stance:China", "favourable"), ("p3", "B", "stance:China", "favourable")]
    fields = agreement(long(rows))["fields"]
    assert {"stance (all actors)", "stance: Russia", "stance: China"} <= set(fields)
    assert fields["stance (all actors)"]["items"] == 4
    assert fields["stance: China"]["percent_agreement"] == 1.0


def test_adjudication_majority_ties_and_adjudicator():
    rows = long([("p1", a, "framing", l) for a, l in [("A", "neutral"), ("B", "neutral"), ("C", "pro-West")]] +
                [("p2", a, "framing", l) for a, l in [("A", "neutral"), ("B", "pro-Russia")]] +
                [("p3", "A", "framing", "pro-West")])
    gold, ties = adjudicate(rows)
    decided = {(g.paragraph_id, g.decided_by): g.label for g in gold.itertuples()}
    assert decided == {("p1", "majority"): "neutral", ("p3", "single annotator"): "pro-West"}
    assert list(ties["paragraph_id"]) == ["p2"] and ties.loc[0, "candidates"] == "neutral|pro-Russia"
    gold, ties = adjudicate(rows, long([("p2", "referee", "framing", "pro-Russia"),
                                        ("p1", "referee", "framing", "pro-West")]))
    assert ties.empty
    final = dict(zip(gold["paragraph_id"], gold["label"]))
    assert final == {"p1": "pro-West", "p2": "pro-Russia", "p3": "pro-West"}


def test_standoff_labels_join_by_id_and_refuse_changed_text(aggregator_page, defaults, tmp_path):
    paragraphs, _ = labelled_paragraphs(aggregator_page, defaults)
    wide = pd.DataFrame({"paragraph_id": paragraphs["paragraph_id"][:2], "framing": ["neutral", "pro-West"],
                         "sentiment": ["neutral", "positive"], "stance": ["{}", "{}"]})
    table = standoff_table(paragraphs, wide)
    assert "text" not in table.columns and len(table) == 2
    path = tmp_path / "gold.csv"
    table.to_csv(path, index=False)
    joined = attach_standoff(paragraphs, path)
    assert list(joined["framing"][:2]) == ["neutral", "pro-West"] and joined["framing"][2:].isna().all()
    table.loc[1, "text_sha1"] = "0" * 40
    table.to_csv(path, index=False)
    with pytest.raises(StanceError, match=r"gold.csv:3: paragraph .* has different text now"):
        attach_standoff(paragraphs, path)


def test_export_then_import_through_the_command_line(aggregator_page, tmp_path, capsys):
    out = tmp_path / "export"
    assert main(["export", str(aggregator_page), "--out", str(out)]) == 0
    for name in ("tasks.json", "label_config.xml", "labels.csv", "paragraphs.csv"):
        assert (out / name).is_file()
    assert "text" not in pd.read_csv(out / "paragraphs.csv").columns  # the stand-off anchors hold no text
    assert main(["export", str(aggregator_page), "--out", str(out)]) == 2  # never overwrites
    assert "not empty" in capsys.readouterr().err
    sheet = pd.read_csv(out / "labels.csv", dtype=str, keep_default_na=False)
    sheet["annotator"], sheet["framing"], sheet["sentiment"] = "ann", "neutral", "neutral"
    sheet.loc[0, "framing"] = "not-a-class"
    sheet.to_csv(tmp_path / "filled.csv", index=False)
    labels = tmp_path / "labels_long.csv"
    assert main(["import", str(tmp_path / "filled.csv"), "--export", str(out), "--out", str(labels)]) == 0
    err = capsys.readouterr().err
    assert "filled.csv:2: framing label 'not-a-class' is not in the schema" in err
    table = pd.read_csv(labels)
    assert len(table) == 2 * len(sheet) - 1  # every valid label kept


def test_alpha_is_undefined_not_perfect_when_every_rating_is_one_category():
    rows = [(f"p{i}", who, "stance:West", "neutral") for i in range(5) for who in "AB"]
    entry = agreement(long(rows))["fields"]["stance: West"]
    assert entry["krippendorff_alpha"] is None and entry["percent_agreement"] == 1.0


def test_agreement_on_a_label_file_with_only_its_header_is_one_line(tmp_path, capsys):
    """The file `import` writes for an export without annotations: an error, not a KeyError."""
    from stance.annotate.__main__ import main as annotate_main

    empty = tmp_path / "labels.csv"
    empty.write_text("paragraph_id,annotator,field,label\n")
    assert annotate_main(["agree", str(empty), "--out", str(tmp_path / "agree")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no labels to compare" in err
    assert not (tmp_path / "agree").exists()


def test_label_studio_results_that_are_not_one_choice_are_listed_not_guessed(tmp_path, defaults):
    """Two choices for a single-choice field, or a value without choices, are problems: the
    first choice is not kept silently and the label is not dropped silently."""
    from stance.annotate.labels import LabelReport
    from stance.annotate.labelstudio import read_export

    def result(name, value):
        return {"from_name": name, "to_name": "text", "type": "choices", "value": value}

    tasks = [{"id": 1, "data": {"paragraph_id": "d1:0", "text": "invented"}, "annotations": [
        {"id": 1, "completed_by": 1, "result": [result("framing", {"choices": ["pro-Ukraine", "neutral"]}),
                                                  result("sentiment", {"text": ["negative"]})]}]},
             {"id": 2, "data": {"paragraph_id": "d2:0", "text": "invented"}, "annotations": [
        {"id": 2, "completed_by": 1, "result": [result("framing", {"choices": ["neutral"]})]}]}]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(tasks))
    report = LabelReport()
    rows = read_export(path, report, defaults[1])
    assert [(r["paragraph_id"], r["field"], r["label"]) for r in rows] == [("d2:0", "framing", "neutral")]
    problems = "\n".join(report.problems)
    assert "framing: 2 choices ['pro-Ukraine', 'neutral'] for a single-choice field; skipped" in problems
    assert "(sentiment): no 'value.choices' (keys: text); skipped" in problems
