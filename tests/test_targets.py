"""Target layouts of public stance data sets: wide pairs, long tables, targets in documents,
offset conventions (issues 16 item 7 and 22 items 2-4). Every text here is written for the test."""

import json
from pathlib import Path

import pandas as pd
import pytest

from stance.annotate.examples import build_examples, prediction_examples
from stance.config import DataConfig, OffsetConvention
from stance.corpus.ingest import IngestReport, ingest
from stance.corpus.tables import to_python_offsets, utf16_to_chars
from stance.errors import StanceError

CASES = Path(__file__).parent / "fixtures" / "cases"
VALUES = {"against": "unfavourable", "none": "neutral", "favor": "favourable"}

WIDE = ("Tweet,Target 1,Stance 1,Target 2,Stance 2\n"
        "Sanctions on Russia will not stop the shelling of Ukraine,Russia,against,Ukraine,favor\n"
        "russia keeps the grain ships waiting again,Russia,against,,\n"
        "Another long night without power here,Russia,against,Ukraine,none\n")


def _wide(tmp_path, **options):
    path = tmp_path / "tweets.csv"
    path.write_text(WIDE, encoding="utf-8")
    return DataConfig(path=str(path), columns={"text": "Tweet"},
                      targets=[{"target": "Target 1", "label": "Stance 1"}, {"target": "Target 2", "label": "Stance 2"}],
                      labels={"values": VALUES}, **options)


def test_wide_layout_needs_an_explicit_choice_for_unmentioned_targets(tmp_path, defaults):
    corpus, schema = defaults
    with pytest.raises(StanceError, match=r"tweets.csv: row 2: target 'Russia' does not occur in the text "
                                          r"\(exact case\); .*data.target_match: ignore_case"):
        ingest(_wide(tmp_path), corpus, schema)
    with pytest.raises(StanceError, match=r"row 3: target 'Russia' does not occur in the text; .*none"):
        ingest(_wide(tmp_path, target_match="ignore_case"), corpus, schema)


def test_wide_layout_gives_one_example_per_target_pair(tmp_path, defaults):
    corpus, schema = defaults
    paragraphs = ingest(_wide(tmp_path, target_match="none"), corpus, schema)
    assert paragraphs["paragraph_id"].nunique() == 3 and len(paragraphs) == 5
    assert "Target 1" not in paragraphs.columns and "Stance 2" not in paragraphs.columns
    examples = build_examples(paragraphs, "stance", schema, "stance", VALUES)
    got = {(e.paragraph_id, e.target): (e.label, e.target_spans) for e in examples.itertuples()}
    assert got == {
        ("tweets:1:0", "Russia"): ("unfavourable", [[13, 19]]),
        ("tweets:1:0", "Ukraine"): ("favourable", [[50, 57]]),
        ("tweets:2:0", "Russia"): ("unfavourable", [[0, 6]]),  # found in any case
        ("tweets:3:0", "Russia"): ("unfavourable", []),  # not mentioned: no span, still an example
        ("tweets:3:0", "Ukraine"): ("neutral", []),
    }
    # One paragraph with two targets is one paragraph for dedup and splitting.
    assert paragraphs.groupby("paragraph_id")["cluster_id"].nunique().max() == 1
    assert len(prediction_examples(paragraphs, "stance", schema)) == 5


def test_label_for_an_empty_target_is_an_error(tmp_path, defaults):
    corpus, schema = defaults
    path = tmp_path / "t.csv"
    path.write_text("Tweet,Target 1,Stance 1\nThe ferry left late,,against\n", encoding="utf-8")
    data = DataConfig(path=str(path), columns={"text": "Tweet"}, targets=[{"target": "Target 1", "label": "Stance 1"}])
    with pytest.raises(StanceError, match=r"row 1: label 'against' in column 'Stance 1' but its target column "
                                          r"'Target 1' is empty"):
        ingest(data, corpus, schema)


def _long_table(tmp_path, rows, name="roles.jsonl"):
    path = tmp_path / name
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


TEXT = "Officials in Kyiv thanked Warsaw, while Moscow warned Warsaw against sending more trucks."


def test_long_format_rows_of_one_paragraph_are_one_paragraph_and_several_examples(tmp_path, defaults):
    corpus, schema = defaults
    rows = [{"pid": "a1", "text": TEXT, "mention": "Kyiv", "s": 13, "e": 17, "role": "favor"},
            {"pid": "a1", "text": TEXT, "mention": "Warsaw", "s": 26, "e": 32, "role": "none"},
            {"pid": "a1", "text": TEXT, "mention": "Warsaw", "s": 54, "e": 60, "role": "against"},
            {"pid": "a2", "text": "Moscow said nothing.", "mention": "Moscow", "s": 0, "e": 6, "role": "none"}]
    data = DataConfig(path=str(_long_table(tmp_path, rows)),
                      columns={"paragraph_id": "pid", "target": "mention", "target_start": "s", "target_end": "e"},
                      labels={"stance": "role", "values": VALUES})
    paragraphs = ingest(data, corpus, schema)
    assert paragraphs["paragraph_id"].nunique() == 2 and len(paragraphs) == 4
    examples = build_examples(paragraphs, "stance", schema, "role", VALUES)
    assert sorted(examples["example_id"]) == ["a1|Kyiv", "a1|Warsaw@26-32", "a1|Warsaw@54-60", "a2|Moscow"]
    assert examples["example_id"].is_unique
    # The same paragraph and span twice is a duplicate; one id with two texts is an error.
    with pytest.raises(StanceError, match="the same paragraph and target span appear twice"):
        ingest(data.model_copy(update={"path": str(_long_table(tmp_path, rows + rows[:1], "dup.jsonl"))}),
               corpus, schema)
    other = [{**rows[3], "pid": "a1", "mention": "Moscow"}]
    with pytest.raises(StanceError, match=r"paragraph id 'a1' holds different texts"):
        ingest(data.model_copy(update={"path": str(_long_table(tmp_path, rows + other, "two.jsonl"))}), corpus, schema)


DOC = ("Talks resumed in Geneva on Monday after a pause of three weeks.\n\n"
       "The delegation from Kyiv said the exchange of prisoners came first.\n\n"
       "Moscow's envoy did not comment, and left before the\nend of the session in Geneva.")


def test_targets_in_documents_land_in_the_paragraph_of_their_mention(tmp_path, defaults):
    corpus, schema = defaults
    kyiv, moscow = DOC.index("Kyiv"), DOC.index("Moscow")
    rows = [{"doc": "g1", "body": DOC, "mention": "Kyiv", "s": kyiv, "e": kyiv + 4, "role": "favor"},
            {"doc": "g1", "body": DOC, "mention": "Moscow", "s": moscow, "e": moscow + 6, "role": "against"}]
    data = DataConfig(path=str(_long_table(tmp_path, rows)), rows_are="documents",
                      columns={"text": "body", "doc_id": "doc", "target": "mention", "target_start": "s",
                               "target_end": "e"}, labels={"stance": "role", "values": VALUES})
    report = IngestReport()
    paragraphs = ingest(data, corpus, schema, report)
    # A table cell's document is one paragraph per line: the broken last sentence is two.
    assert sorted(paragraphs["paragraph_id"].unique()) == ["g1:0", "g1:1", "g1:2", "g1:3"]
    examples = build_examples(paragraphs, "stance", schema, "role", VALUES)
    got = {(e.paragraph_id, e.target, e.label) for e in examples.itertuples()}
    assert got == {("g1:1", "Kyiv", "favourable"), ("g1:2", "Moscow", "unfavourable")}
    for e in examples.itertuples():
        (start, end), = e.target_spans
        assert e.text[start:end] == e.target
    # The first paragraph holds no target: in the corpus, without a label.
    first = paragraphs[paragraphs["paragraph_id"] == "g1:0"].iloc[0]
    assert pd.isna(first["target"]) and pd.isna(first["role"])
    assert report.skipped == []


def test_a_mention_cut_by_a_paragraph_boundary_is_reported(tmp_path, defaults):
    corpus, schema = defaults
    start = DOC.index("the\nend")
    rows = [{"doc": "g1", "body": DOC, "mention": "the end", "s": start, "e": start + 7, "role": "none"},
            {"doc": "g1", "body": DOC, "mention": "Kyiv", "s": DOC.index("Kyiv"), "e": DOC.index("Kyiv") + 4,
             "role": "favor"}]
    data = DataConfig(path=str(_long_table(tmp_path, rows)), rows_are="documents",
                      columns={"text": "body", "doc_id": "doc", "target": "mention", "target_start": "s",
                               "target_end": "e"}, labels={"stance": "role", "values": VALUES})
    report = IngestReport()
    paragraphs = ingest(data, corpus, schema, report)
    assert len(report.skipped) == 1
    where, why = report.skipped[0]
    assert where.endswith("roles.jsonl#line 1") and "cut by a paragraph boundary (paragraphs 2, 3)" in why
    assert set(build_examples(paragraphs, "stance", schema, "role", VALUES)["target"]) == {"Kyiv"}


def test_offset_conventions(tmp_path, defaults):
    corpus, schema = defaults
    text = "Crowds waved \U0001F1FA\U0001F1E6 flags as Zelensky spoke."
    chars = text.index("Zelensky")
    utf16 = len(text[:chars].encode("utf-16-le")) // 2
    assert utf16 == chars + 2 and utf16_to_chars(text, utf16) == chars and utf16_to_chars(text, 14) is None
    assert to_python_offsets(text, utf16, utf16 + 7, OffsetConvention(end="inclusive", unit="utf16")) == \
        (chars, chars + 8)
    rows = [{"text": text, "m": "Zelensky", "s": utf16, "e": utf16 + 7, "y": "favor"}]
    base = dict(path=str(_long_table(tmp_path, rows)), columns={"target": "m", "target_start": "s", "target_end": "e"},
                labels={"stance": "y", "values": VALUES})
    with pytest.raises(StanceError, match=r"do not point at the mention 'Zelensky'; they do with "
                                          r"data.offsets: \{end: inclusive, unit: utf16\}$"):
        ingest(DataConfig(**base), corpus, schema)
    paragraphs = ingest(DataConfig(**base, offsets={"end": "inclusive", "unit": "utf16"}), corpus, schema)
    row = paragraphs.iloc[0]
    assert row["text"][int(row["target_start"]):int(row["target_end"])] == "Zelensky"


def test_shared_offset_cases_keep_passing_and_utf16_is_declarable(defaults):
    corpus, schema = defaults
    columns = {"text": "sentence", "paragraph_id": "id", "target": "mention", "target_start": "from",
               "target_end": "to"}
    n18 = ingest(DataConfig(path=str(CASES / "n18_offsets_ok.jsonl"), columns=columns), corpus, schema)
    assert [t[s:e] for t, s, e in zip(n18["text"], n18["target_start"], n18["target_end"])] == \
        ["Putin", "Zelensky", "Vladimir Putin"]
    with pytest.raises(StanceError, match=r"unit: utf16"):
        ingest(DataConfig(path=str(CASES / "n19_offsets_utf16.jsonl"), columns=columns), corpus, schema)
    n19 = ingest(DataConfig(path=str(CASES / "n19_offsets_utf16.jsonl"), columns=columns, offsets={"unit": "utf16"}),
                 corpus, schema)
    assert n19["text"][0][n19["target_start"][0]:n19["target_end"][0]] == "Zelensky"


def test_corpus_command_reads_documents_with_targets_and_reports_cut_mentions(tmp_path, capsys):
    from stance.corpus.__main__ import main as corpus_main

    start = DOC.index("the\nend")
    rows = [{"doc": "g1", "body": DOC, "mention": "the end", "s": start, "e": start + 7, "role": "none"},
            {"doc": "g1", "body": DOC, "mention": "Kyiv", "s": DOC.index("Kyiv"), "e": DOC.index("Kyiv") + 4,
             "role": "favor"}]
    table = _long_table(tmp_path, rows)
    config = tmp_path / "c.yaml"
    config.write_text("name: docs\ntask: stance\ndata:\n  columns: {text: body, doc_id: doc, target: mention, "
                      "target_start: s, target_end: e}\n  labels: {stance: role}\n", encoding="utf-8")
    out = tmp_path / "X"
    assert corpus_main([str(table), "--config", str(config), "--rows-are", "documents", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["paragraphs"] == 4
    assert [s["why"] for s in summary["skipped"]] == [
        f"target 'the end' at {start}-{start + 7} is cut by a paragraph boundary (paragraphs 2, 3)"]
    assert "cut by a paragraph boundary" in capsys.readouterr().out


def test_target_layout_settings_are_checked_when_the_config_loads(tmp_path):
    from stance.config import load_config

    config = tmp_path / "c.yaml"
    config.write_text("name: x\ntask: stance\ndata:\n  columns: {target: m}\n"
                      "  targets: [{target: T1, label: S1}]\n", encoding="utf-8")
    with pytest.raises(StanceError, match=r"c.yaml:3: data: .*not both"):
        load_config(config)
    config.write_text("name: x\ndata:\n  targets: [{target: T1, label: S1, start: s}]\n  offsets: {unit: bytes}\n"
                      "  sep: ';;'\n  encoding: klingon\n", encoding="utf-8")
    with pytest.raises(StanceError) as error:
        load_config(config)
    message = str(error.value)
    for part in ("data.targets.0: ", "give both start and end", "data.offsets.unit", "data.sep",
                 "one character", "data.encoding", "unknown text encoding 'klingon'"):
        assert part in message


def test_long_table_without_paragraph_ids_groups_a_documents_repeated_text(tmp_path, defaults):
    corpus, schema = defaults
    other = "Moscow said nothing about the convoy."
    rows = [{"doc": "a", "text": TEXT, "mention": "Kyiv", "role": "favor"},
            {"doc": "a", "text": TEXT, "mention": "Moscow", "role": "against"},
            {"doc": "a", "text": other, "mention": "Moscow", "role": "none"},
            {"doc": "b", "text": TEXT, "mention": "Kyiv", "role": "none"}]  # another document: its own paragraph
    data = DataConfig(path=str(_long_table(tmp_path, rows)), columns={"doc_id": "doc", "target": "mention"},
                      labels={"stance": "role", "values": VALUES})
    paragraphs = ingest(data, corpus, schema)
    assert paragraphs["paragraph_id"].tolist() == ["a:0", "a:0", "a:1", "b:0"]
    examples = build_examples(paragraphs, "stance", schema, "role", VALUES)
    assert examples["example_id"].tolist() == ["a:0|Kyiv", "a:0|Moscow", "a:1|Moscow", "b:0|Kyiv"]
