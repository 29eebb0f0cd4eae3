"""Spreadsheets, annotation files of the wrong flavour and wrongly shaped inputs (issues 16, 17).

The fixtures in tests/fixtures/cases/ are the project's own cases from ../shared/cases."""

import json
from pathlib import Path

import pandas as pd
import pytest

from stance.annotate.__main__ import main as annotate_main
from stance.annotate.agreement import agreement
from stance.annotate.labels import LabelReport, read_label_csv, read_long_labels
from stance.annotate.labelstudio import read_export
from stance.annotate.standoff import read_standoff
from stance.config import DataConfig
from stance.corpus.__main__ import main as corpus_main
from stance.corpus.ingest import ingest
from stance.errors import StanceError

CASES = Path(__file__).parent / "fixtures" / "cases"


@pytest.mark.parametrize("name, options", [("t05_excel_bom.csv", {}), ("t06_semicolon.csv", {}),
                                           ("t06_semicolon.csv", {"sep": ";"}),
                                           ("t07_cp1252.csv", {"encoding": "cp1252"})])
def test_spreadsheet_dialects_read_the_same_table(name, options, defaults):
    corpus, schema = defaults
    frame = ingest(DataConfig(path=str(CASES / name), **options), corpus, schema)
    assert list(frame["doc_id"]) == ["d1", "d2", "d3"]  # no BOM in the first column's name
    assert list(frame["outlet"]) == ["Daily Ledger", "Evening Courier", "Daily Ledger"]
    assert frame["text"].iloc[2].endswith('according to "two diplomats".')
    if name.startswith("t07"):
        assert "\u201ctimely\u201d" in frame["text"].iloc[0] and "Russia\u2019s" in frame["text"].iloc[0]


def test_wrong_delimiter_error_suggests_data_sep(defaults):
    corpus, schema = defaults
    with pytest.raises(StanceError, match=r"t06_semicolon.csv: cannot parse as csv: .*delimiter ','.*set data.sep"):
        ingest(DataConfig(path=str(CASES / "t06_semicolon.csv"), sep=","), corpus, schema)


def test_tab_separated_csv_is_sniffed_from_the_header(tmp_path, defaults):
    corpus, schema = defaults
    path = tmp_path / "tabs.csv"
    path.write_text("doc_id\ttext\nx1\tOfficials in Kyiv met, briefly, on Monday.\n", encoding="utf-8")
    frame = ingest(DataConfig(path=str(path)), corpus, schema)
    assert frame["text"].tolist() == ["Officials in Kyiv met, briefly, on Monday."]


def test_legacy_encoding_error_names_the_setting(tmp_path, defaults, capsys):
    corpus, schema = defaults
    with pytest.raises(StanceError, match=r"t07_cp1252.csv: not UTF-8 text .*set data.encoding"):
        ingest(DataConfig(path=str(CASES / "t07_cp1252.csv")), corpus, schema)
    assert corpus_main([str(CASES / "t07_cp1252.csv"), "--encoding", "cp1252"]) == 0
    assert corpus_main([str(CASES / "t07_cp1252.csv"), "--encoding", "no-such-codec"]) == 2
    assert "unknown text encoding" in capsys.readouterr().err


def test_gbk_table_reads_with_data_encoding(tmp_path, defaults):
    corpus, schema = defaults
    path = tmp_path / "gbk.csv"
    path.write_bytes("doc_id,text\nz1,\u5916\u4ea4\u90e8\u53d1\u8a00\u4eba\u8868\u793a Beijing welcomed the talks.\n"
                     .encode("gbk"))
    frame = ingest(DataConfig(path=str(path), encoding="gbk"), corpus, schema)
    assert frame["text"].iloc[0].startswith("\u5916\u4ea4\u90e8")
    assert frame["actors"].iloc[0] == ["China"]


def test_jsonl_with_a_bom_reads(tmp_path, defaults):
    corpus, schema = defaults
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"text": "Talks in Moscow ended early."}).encode() + b"\n")
    assert ingest(DataConfig(path=str(path)), corpus, schema)["text"].tolist() == ["Talks in Moscow ended early."]


def test_excel_label_sheet_with_bom_imports_ten_labels(tmp_path, capsys):
    export = tmp_path / "B"
    assert annotate_main(["export", str(CASES / "t05_excel_bom.csv"), "--out", str(export)]) == 0
    out = tmp_path / "L.csv"
    assert annotate_main(["import", str(CASES / "l08_labels_excel_bom.csv"), "--export", str(export),
                          "--out", str(out)]) == 0
    labels = pd.read_csv(out)
    assert len(labels) == 10 and set(labels["paragraph_id"]) == {"d1:0", "d2:0", "d3:0"}


def test_label_sheet_saved_with_semicolons_reads(tmp_path):
    path = tmp_path / "sheet.csv"
    path.write_text("\ufeffparagraph_id;annotator;framing;sentiment;stance_Russia\np1;ann;neutral;negative;n/a\n",
                    encoding="utf-8")
    rows = read_label_csv(path, LabelReport())
    assert {(r["field"], r["label"]) for r in rows} == {("framing", "neutral"), ("sentiment", "negative")}


def test_long_label_table_with_bom_reads(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("\ufeffparagraph_id,annotator,field,label\np1,a,framing,neutral\n", encoding="utf-8")
    assert read_long_labels(path)["paragraph_id"].tolist() == ["p1"]


def test_json_min_export_is_refused_in_one_line_and_nothing_written(tmp_path, capsys):
    out = tmp_path / "L.csv"
    code = annotate_main(["import", str(CASES / "ls10_export_json_min.json"), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and not out.exists() and not list(tmp_path.iterdir())
    assert len(err.strip().splitlines()) == 1
    assert "JSON-MIN" in err and 'export the project as "JSON"' in err


def test_label_studio_csv_export_is_refused(tmp_path, capsys):
    path = tmp_path / "project-1-at-2025.csv"
    path.write_text("paragraph_id,text,framing,sentiment,id,annotator,annotation_id,created_at,updated_at,lead_time\n"
                    "d1:0,(text),neutral,neutral,1,1,1,2025-04-01,2025-04-01,3.5\n", encoding="utf-8")
    out = tmp_path / "L.csv"
    assert annotate_main(["import", str(path), "--out", str(out)]) == 2
    assert "Label Studio CSV export" in capsys.readouterr().err and not out.exists()


def test_json_export_still_reads(tmp_path):
    report = LabelReport()
    rows = read_export(CASES / "ls09_export_json.json", report)
    assert len(rows) == 13 and len(report.problems) == 1


@pytest.mark.parametrize("name, problem", [
    ("a04_weird_0.json", "task 1 (id 1): task 'data' is str, not an object"),
    ("a04_weird_1.json", "task 1 (id 2): 'annotations' is NoneType, not a list"),
    ("a04_weird_2.json", "task 1 (id 3), annotation 1: not an annotation object"),
    ("a04_weird_3.json", "task 1 (id 4), annotation 1: result 1 is not a Label Studio result object"),
])
def test_wrongly_shaped_tasks_are_listed_and_valid_tasks_kept(name, problem, tmp_path):
    # The weird task beside a valid one: the problem is listed per task, the valid labels kept.
    good = json.loads((CASES / "ls09_export_json.json").read_text(encoding="utf-8"))
    mixed = tmp_path / "mixed.json"
    mixed.write_text(json.dumps(json.loads((CASES / name).read_text(encoding="utf-8")) + good), encoding="utf-8")
    report = LabelReport()
    rows = read_export(mixed, report)
    assert problem in report.problems[0]
    assert len(rows) == 13


def test_wrongly_shaped_task_through_the_command(tmp_path, capsys):
    out = tmp_path / "L.csv"
    assert annotate_main(["import", str(CASES / "a04_weird_3.json"), "--out", str(out)]) == 0
    assert "result 1 is not a Label Studio result object" in capsys.readouterr().err
    assert out.exists() and (tmp_path / "L.problems.txt").exists()


@pytest.mark.parametrize("name, reason", [
    ("k11_all_identical.csv", "is one class ('neutral')"),
    ("k12_single_rater.csv", "one annotator only (ann1)"),
    ("k13_nltk3264.csv", "is one class ('positive')"),
    ("k14_one_disagreement.csv", None),
])
def test_agreement_names_why_alpha_is_undefined(name, reason, capsys, tmp_path):
    result = agreement(read_long_labels(CASES / name))
    entry = next(iter(result["fields"].values()))
    if reason is None:
        assert entry["krippendorff_alpha"] is not None and entry["alpha_undefined_because"] is None
        return
    assert entry["krippendorff_alpha"] is None and reason in entry["alpha_undefined_because"]
    assert annotate_main(["agree", str(CASES / name), "--out", str(tmp_path / "A")]) == 0
    assert reason in capsys.readouterr().out
    assert reason in pd.read_csv(tmp_path / "A" / "agreement.csv")["note"].iloc[0]


def test_gold_file_with_a_repeated_paragraph_names_the_line():
    with pytest.raises(StanceError, match=r"s02_gold_dup_row.csv line 121: paragraph '000_9fff776cac533c1e:0:0' "
                                          r"appears twice \(first on line 2\)"):
        read_standoff(CASES / "s02_gold_dup_row.csv")


def test_text_column_of_numbers_is_one_line(defaults, tmp_path, capsys):
    corpus, schema = defaults
    with pytest.raises(StanceError, match=r"d08_wrongdtypes.parquet: the text column 'text' holds integers"):
        ingest(DataConfig(path=str(CASES / "d08_wrongdtypes.parquet")), corpus, schema)
    path = tmp_path / "mixed.jsonl"
    path.write_text('{"text": "Moscow said no."}\n{"text": 17}\n', encoding="utf-8")
    with pytest.raises(StanceError, match=r"mixed.jsonl: line 2: the text column 'text' holds int '17'"):
        ingest(DataConfig(path=str(path)), corpus, schema)
    assert corpus_main([str(CASES / "d08_wrongdtypes.parquet"), "--out", str(tmp_path / "X")]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1 and not (tmp_path / "X").exists()


def test_export_folder_reopened_in_excel_still_checks_ids(tmp_path):
    export = tmp_path / "B"
    assert annotate_main(["export", str(CASES / "t05_excel_bom.csv"), "--out", str(export)]) == 0
    anchors = export / "paragraphs.csv"
    anchors.write_bytes(b"\xef\xbb\xbf" + anchors.read_bytes())  # saved again by Excel
    out = tmp_path / "L.csv"
    assert annotate_main(["import", str(CASES / "l08_labels_excel_bom.csv"), "--export", str(export),
                          "--out", str(out)]) == 0
    assert len(pd.read_csv(out)) == 10


def test_excel_unicode_text_export_reads(tmp_path, defaults):
    corpus, schema = defaults
    path = tmp_path / "unicode.txt.csv"
    path.write_bytes("doc_id\ttext\nu1\tKyiv and Warsaw signed a grain deal.\n".encode("utf-16"))  # BOM + LE
    frame = ingest(DataConfig(path=str(path)), corpus, schema)
    assert frame["doc_id"].tolist() == ["u1"] and frame["actors"].iloc[0] == ["Ukraine"]
