"""Target tables at prediction time: --pairs where it cannot apply, offsets that are not
integers, and targets written with entities or invisible characters (adversarial findings
C15-C17). Every sentence here is invented for these tests."""

import json

import numpy as np
import pandas as pd
import pytest

from stance.config import load_config
from stance.corpus.ingest import ingest
from stance.corpus.tables import integer_offset, paragraph_target_problem
from stance.errors import StanceError
from stance.predict import main as predict_main
from stance.predict import predict_corpus, read_predictions
from stance.progress import set_quiet
from stance.train import train
from tests.conftest import write_labelled_table, write_run_config
from tests.test_newsmtsc import config_for, write_newsmtsc_like

QUIET = lambda *a, **k: None  # noqa: E731


@pytest.fixture(autouse=True)
def loud_again():
    yield
    set_quiet(False)  # --quiet silences the whole process; later tests expect bars back

# Raw cells as scrapers leave them: an entity in the text and in the target, a soft hyphen.
ROWS = [
    {"id": "e1", "sentence": "Shares of Velmora&amp;Sons rose after the ruling.", "mention": "Velmora&amp;Sons",
     "from": 10, "to": 26, "polarity": 1},
    {"id": "e2", "sentence": "Shares of Velmora&amp;Sons fell after the ruling.", "mention": "Velmora&Sons",
     "from": 10, "to": 26, "polarity": -1},
    {"id": "e3", "sentence": "The Velmo\u00adran envoy met   Governor Lee today.", "mention": "Velmo\u00adran envoy",
     "from": 4, "to": 19, "polarity": 0},
]


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def target_run(tmp_path_factory):
    """A TF-IDF run on a NewsMTSC-shaped target table (data.columns.target)."""
    folder = tmp_path_factory.mktemp("targets")
    return train(config_for(folder, write_newsmtsc_like(folder / "nm")), say=QUIET)


@pytest.fixture(scope="module")
def framing_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("framing")
    config = write_run_config(folder / "f.yaml", write_labelled_table(folder / "t.jsonl"), "fr", folder / "runs")
    return train(load_config(config), say=QUIET)


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


# ---------------------------------------------------------------- C15 --pairs


def test_pairs_mentions_on_a_target_table_is_refused(target_run, tmp_path, capsys):
    table = write_jsonl(tmp_path / "new.jsonl", ROWS)
    assert predict_main([str(target_run), str(table), "--out", str(tmp_path / "p"), "--pairs", "mentions",
                         "--quiet"]) == 2
    err = one_line_error(capsys)
    assert err.startswith("error: --pairs mentions: ") and "names a target in each row" in err
    assert not (tmp_path / "p").exists()


def test_pairs_mentions_on_a_paragraph_table_with_targets_is_refused(target_run, tmp_path, capsys):
    cfg = load_config(target_run / "config.yaml")
    paragraphs = ingest(cfg.data.model_copy(update={"path": str(write_jsonl(tmp_path / "n.jsonl", ROWS)),
                                                    "split_files": None}), cfg.corpus, cfg.label_schema)
    paragraphs.to_parquet(tmp_path / "paragraphs.parquet")
    assert predict_main([str(target_run), str(tmp_path / "paragraphs.parquet"), "--out", str(tmp_path / "p"),
                         "--pairs", "mentions", "--quiet"]) == 2
    assert "names a target in each row" in one_line_error(capsys)
    assert not (tmp_path / "p").exists()


def test_pairs_mentions_on_a_framing_run_is_refused(framing_run, tmp_path, capsys):
    table = write_labelled_table(tmp_path / "new.jsonl", n_docs=4)
    assert predict_main([str(framing_run), str(table), "--out", str(tmp_path / "p"), "--pairs", "mentions",
                         "--quiet"]) == 2
    assert "this run's task is framing" in one_line_error(capsys)
    assert not (tmp_path / "p").exists()
    # without --pairs it predicts, as before
    assert predict_main([str(framing_run), str(table), "--out", str(tmp_path / "p"), "--quiet"]) == 0


def test_report_style_prediction_keeps_a_target_tables_rows(target_run, tmp_path):
    # stance.report asks for mentions on any corpus; a target table still predicts its own targets
    table = write_jsonl(tmp_path / "new.jsonl", ROWS)
    manifest = predict_corpus(target_run, table, tmp_path / "p", progress=False, say=QUIET, pairs="mentions")
    assert manifest["rows"] == 3 and manifest["pairs"] == "target column"


# ---------------------------------------------------------------- C16 offsets


@pytest.mark.parametrize("value, expected", [
    (3, 3), (np.int64(4), 4), (3.0, 3), ("12", 12), (" 12.0 ", 12), ("-1", -1),
    (True, None), (False, None), (np.bool_(True), None), (2.5, None), ("1e1", None), ("twelve", None),
    (None, None), ([1], None), (float("nan"), None), (float("inf"), None),
])
def test_integer_offsets(value, expected):
    assert integer_offset(value) == expected


def test_boolean_offsets_are_refused_naming_the_line_and_column(target_run, tmp_path, capsys):
    cfg = load_config(target_run / "config.yaml")
    rows = [dict(ROWS[2]), {"id": "b1", "sentence": "True words from Governor Lee.", "mention": "T",
                            "from": False, "to": True, "polarity": 0}]
    table = write_jsonl(tmp_path / "bool.jsonl", rows)
    data = cfg.data.model_copy(update={"path": str(table), "split_files": None})
    with pytest.raises(StanceError, match=r"bool.jsonl: line 2: target offset from = False \(bool\) is not an integer"):
        ingest(data, cfg.corpus, cfg.label_schema)
    # predict reads the file the same way
    assert predict_main([str(target_run), str(table), "--out", str(tmp_path / "p"), "--quiet"]) == 2
    assert "line 2: target offset from = False" in one_line_error(capsys)
    assert not (tmp_path / "p").exists()


def test_offsets_written_as_text_in_a_csv_are_read(target_run, tmp_path):
    cfg = load_config(target_run / "config.yaml")
    table = tmp_path / "t.csv"
    table.write_text("id,sentence,mention,from,to,polarity\nc1,Reporters praised Governor Lee.,Governor Lee,"
                     "18,30.0,1\n", encoding="utf-8")
    data = cfg.data.model_copy(update={"path": str(table), "split_files": None, "format": "csv"})
    row = ingest(data, cfg.corpus, cfg.label_schema).iloc[0]
    assert row["text"][row["target_start"]:row["target_end"]] == row["target"] == "Governor Lee"


# ---------------------------------------------------------------- C17 targets normalised like the text


def test_targets_are_normalised_like_the_text(target_run, tmp_path):
    cfg = load_config(target_run / "config.yaml")
    with_offsets = write_jsonl(tmp_path / "o.jsonl", ROWS)
    without = write_jsonl(tmp_path / "w.jsonl", [{**r, "from": None, "to": None} for r in ROWS])
    for path in (with_offsets, without):
        data = cfg.data.model_copy(update={"path": str(path), "split_files": None})
        frame = ingest(data, cfg.corpus, cfg.label_schema).set_index("paragraph_id")
        assert list(frame["target"]) == ["Velmora&Sons", "Velmora&Sons", "Velmoran envoy"], path.name
        for row in frame.itertuples():
            assert row.text[int(row.target_start):int(row.target_end)] == row.target


def test_a_target_of_invisible_characters_is_an_empty_target(target_run, tmp_path):
    cfg = load_config(target_run / "config.yaml")
    table = write_jsonl(tmp_path / "z.jsonl", [{**ROWS[0], "mention": "\u200b", "from": None, "to": None}])
    with pytest.raises(StanceError, match=r"z.jsonl: line 1: empty target in column 'mention'"):
        ingest(cfg.data.model_copy(update={"path": str(table), "split_files": None}), cfg.corpus, cfg.label_schema)


def test_paragraph_target_problem_is_the_check_ingest_makes():
    text = "Shares of Velmora&Sons rose after the ruling."
    assert paragraph_target_problem(text, "Velmora&amp;Sons", 10, 22, ignore_case=False) is None
    assert paragraph_target_problem(text, "velmora&sons", 10, 22, ignore_case=True) is None
    assert "not the target" in paragraph_target_problem(text, "velmora&sons", 10, 22, ignore_case=False)
    assert "not an integer" in paragraph_target_problem(text, "Velmora&Sons", True, 22, ignore_case=False)
    assert "outside" in paragraph_target_problem(text, "Velmora&Sons", 10, 99, ignore_case=False)


def paragraph_table(target_run, tmp_path) -> pd.DataFrame:
    cfg = load_config(target_run / "config.yaml")
    data = cfg.data.model_copy(update={"path": str(write_jsonl(tmp_path / "n.jsonl", ROWS)), "split_files": None})
    return ingest(data, cfg.corpus, cfg.label_schema)


@pytest.mark.parametrize("starts, message", [
    ([True, True, True], "paragraph e1: target_start = True is not an integer"),  # a boolean column
    ([11, 10, 4], "paragraph e1: text[11:22] is 'elmora&Sons', not the target 'Velmora&Sons'"),
])
def test_a_paragraph_tables_bad_target_rows_are_refused_by_predict(target_run, tmp_path, capsys, starts, message):
    frame = paragraph_table(target_run, tmp_path)
    frame["target_start"] = starts
    frame.to_parquet(tmp_path / "paragraphs.parquet")
    assert predict_main([str(target_run), str(tmp_path / "paragraphs.parquet"), "--out", str(tmp_path / "p"),
                         "--quiet"]) == 2
    assert message in one_line_error(capsys)
    assert not (tmp_path / "p").exists()


def test_a_paragraph_tables_raw_target_is_normalised_by_predict(target_run, tmp_path):
    frame = paragraph_table(target_run, tmp_path)
    frame.loc[0, "target"] = "Velmora&amp;Sons"
    frame.to_parquet(tmp_path / "paragraphs.parquet")
    predict_corpus(target_run, tmp_path / "paragraphs.parquet", tmp_path / "p", progress=False, say=QUIET)
    assert list(read_predictions(tmp_path / "p")["target"]) == ["Velmora&Sons", "Velmora&Sons", "Velmoran envoy"]
