import json
import subprocess
import sys

import joblib
import pandas as pd
import pytest

from stance.config import load_config
from stance.errors import StanceError
from stance.train import FEATURE_COLUMNS, train

QUIET = lambda *a, **k: None  # noqa: E731


@pytest.fixture
def config(tmp_path, labelled_table):
    path = tmp_path / "c.yaml"
    path.write_text(f"name: tiny\ndata: {{path: {labelled_table}}}\noutput_dir: {tmp_path / 'runs'}\n"
                    "model: {tune: {C: [0.5, 2.0]}}\n", encoding="utf-8")
    return path


def test_a_run_leaves_a_complete_record(config):
    run = train(load_config(config), say=QUIET)
    for name in ("config.yaml", "run.json", "split.csv", "metrics.json", "predictions.parquet", "tuning.csv",
                 "README.md", "model/model.joblib", "model/model.json"):
        assert (run / name).is_file(), name
    record = json.loads((run / "run.json").read_text())
    assert record["status"] == "complete" and record["run_id"] == run.name
    assert record["run_id"].startswith("tiny-") and record["config_hash"].startswith(record["run_id"][5:])
    assert record["environment"]["packages"]["scikit-learn"]
    assert len(record["data"]["fingerprint"]) == 64
    metrics = json.loads((run / "metrics.json").read_text())
    assert 0.0 <= metrics["test"]["macro_f1"] <= 1.0
    predictions = pd.read_parquet(run / "predictions.parquet")
    probs = predictions.filter(like="prob_")
    assert ((probs.sum(axis=1) - 1).abs() < 1e-6).all()
    assert set(predictions["split"]) == {"val", "test"}
    # The saved model predicts what the run recorded.
    model = joblib.load(run / "model" / "model.joblib")
    test = predictions[predictions["split"] == "test"]
    split = pd.read_csv(run / "split.csv")
    assert set(test["paragraph_id"]) == set(split.loc[split["split"] == "test", "paragraph_id"])
    assert len(tuningrows := pd.read_csv(run / "tuning.csv")) == 2 and "val_macro_f1" in tuningrows
    assert model.predict(pd.DataFrame({"text": ["x"], "target": [None], "target_spans": [[]]}))[0]


def test_same_config_twice_gives_a_second_run_with_identical_metrics(config):
    first = train(load_config(config), say=QUIET)
    second = train(load_config(config), say=QUIET)
    assert second.name == first.name + "-2"
    assert (first / "metrics.json").read_text() == (second / "metrics.json").read_text()
    a = pd.read_parquet(first / "predictions.parquet")
    b = pd.read_parquet(second / "predictions.parquet")
    pd.testing.assert_frame_equal(a, b)


def test_an_interrupted_run_must_be_resumed_or_redone(config):
    cfg = load_config(config)
    runs = config.parent / "runs"
    partial = runs / f"tiny-{cfg.config_hash()[:8]}.partial"
    partial.mkdir(parents=True)
    (partial / "run.json").write_text('{"status": "running"}')
    with pytest.raises(StanceError, match="interrupted run .* --resume .* --fresh"):
        train(cfg, say=QUIET)
    run = train(cfg, resume=True, say=QUIET)
    assert json.loads((run / "run.json").read_text())["status"] == "complete"
    assert not partial.exists()


def test_stance_task_trains_a_target_aware_model(config):
    run = train(load_config(config, ["task=stance"]), say=QUIET)
    metrics = json.loads((run / "metrics.json").read_text())
    assert "per_target" in metrics["test"] and "Russia" in metrics["test"]["per_target"]
    assert FEATURE_COLUMNS == ["text", "target", "target_spans"]


def test_bad_input_writes_nothing(tmp_path, config):
    with pytest.raises(StanceError):
        train(load_config(config, ["data.path=" + str(tmp_path / "missing.jsonl")]), say=QUIET)
    assert not (tmp_path / "runs").exists()


def test_cli_error_is_one_line_with_nonzero_exit(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nmodell: {}\n")
    result = subprocess.run([sys.executable, "-m", "stance.train", str(path)], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "modell: unknown key" in result.stderr
    assert "Traceback" not in result.stderr
