import json
import subprocess
import sys

import pandas as pd
import pytest

from stance.config import load_config
from stance.errors import StanceError
from stance.models import load_model
from stance.train import FEATURE_COLUMNS, predict_frame, train
from tests.conftest import write_run_config

QUIET = lambda *a, **k: None  # noqa: E731


@pytest.fixture
def config(tmp_path, labelled_table):
    return write_run_config(tmp_path / "c.yaml", labelled_table, "tiny", tmp_path / "runs",
                            "model: {tune: {C: [0.5, 2.0]}}\n")


def test_a_run_leaves_a_complete_record(config):
    run = train(load_config(config), say=QUIET)
    seed = "fits/r0-f0-s13/"
    for name in ("config.yaml", "run.json", "split.csv", "metrics.json", "predictions.parquet", "README.md",
                 seed + "tuning.csv", seed + "fit.json", seed + "model/model.skops", seed + "model/model.json"):
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
    model = load_model(run / record["primary_model"])
    test = predictions[predictions["split"] == "test"]
    split = pd.read_csv(run / "split.csv")
    assert set(test["paragraph_id"]) == set(split.loc[split["split"] == "test", "paragraph_id"])
    assert len(tuningrows := pd.read_csv(run / seed / "tuning.csv")) == 2 and "val_macro_f1" in tuningrows
    reloaded = predict_frame(model, examples_of(run, test))
    pd.testing.assert_frame_equal(reloaded, test.drop(columns=["repeat", "fold", "seed"]).reset_index(drop=True))


def examples_of(run, predictions):
    """Rebuild the examples a run predicted, from its own resolved config."""
    from stance.annotate.examples import build_examples
    from stance.corpus.ingest import ingest

    cfg = load_config(run / "config.yaml")
    examples = build_examples(ingest(cfg.data, cfg.corpus, cfg.label_schema), cfg.task, cfg.label_schema,
                              getattr(cfg.data.labels, cfg.task)).set_index("example_id")
    out = examples.loc[predictions["example_id"]].reset_index()
    out["split"] = predictions["split"].to_numpy()
    return out


def test_several_seeds_share_one_split_and_report_mean_and_sd(config):
    run = train(load_config(config, ["seeds=[1, 2, 3]", "model.classifier=sgd_log"]), say=QUIET)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["seeds"] == [1, 2, 3]
    scores = [metrics["per_unit"][f"r0-f0-s{s}"]["test"]["macro_f1"] for s in (1, 2, 3)]
    summary = metrics["summary"]["test"]["macro_f1"]
    assert summary["n"] == 3 and summary["mean"] == pytest.approx(sum(scores) / 3)
    assert metrics["test"]["macro_f1"] == scores[0]
    predictions = pd.read_parquet(run / "predictions.parquet")
    # Every seed predicted exactly the same test items.
    items = [set(g.loc[g["split"] == "test", "example_id"]) for _, g in predictions.groupby("seed")]
    assert len(items) == 3 and items[0] == items[1] == items[2]
    for s in (1, 2, 3):
        assert (run / f"fits/r0-f0-s{s}/model/model.skops").is_file()


def test_resume_keeps_finished_seeds_and_ends_like_an_uninterrupted_run(config, tmp_path):
    overrides = ["seeds=[1, 2]", "model.classifier=sgd_log"]
    whole = train(load_config(config, overrides), say=QUIET)
    # Simulate a kill after seed 1: stage a copy of the run with seed 2 and the results missing.
    cfg = load_config(config, overrides)
    partial = whole.parent / f"{whole.name}.partial"
    import shutil
    shutil.copytree(whole, partial)
    for name in ("metrics.json", "predictions.parquet", "README.md"):
        (partial / name).unlink()
    shutil.rmtree(partial / "fits" / "r0-f0-s2")
    said = []
    resumed = train(cfg, resume=True, say=said.append)
    assert any("r0-f0-s1: already done" in line for line in said)
    assert (resumed / "metrics.json").read_text() == (whole / "metrics.json").read_text()


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
    partial.mkdir(parents=True)  # killed before its record was written
    with pytest.raises(StanceError, match="interrupted run .* --resume .* --fresh"):
        train(cfg, say=QUIET)
    (partial / "run.json").write_text('{"status": "running"}')
    with pytest.raises(StanceError, match="run.json: no data record; pass --fresh"):
        train(cfg, resume=True, say=QUIET)  # a record that cannot show the data is unchanged
    (partial / "run.json").unlink()
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


def test_resume_refuses_data_that_changed_since_the_interruption(config, labelled_table):
    cfg = load_config(config)
    partial = config.parent / "runs" / f"tiny-{cfg.config_hash()[:8]}.partial"
    partial.mkdir(parents=True)
    (partial / "run.json").write_text(json.dumps({"status": "running", "data": {"fingerprint": "0" * 64}}))
    with pytest.raises(StanceError, match="data changed since this run was interrupted.*--fresh"):
        train(cfg, resume=True, say=QUIET)
    assert (partial / "run.json").is_file()


def test_kfold_run_predicts_every_item_once_per_repeat_with_cis(config):
    run = train(load_config(config, ["split.method=kfold", "split.folds=3", "split.repeats=2", "seeds=[1, 2]",
                                     "model.tune={}"]), say=QUIET)
    metrics = json.loads((run / "metrics.json").read_text())
    assert len(metrics["units"]) == 3 * 2 * 2 and metrics["summary"]["test"]["macro_f1"]["n"] == 12
    predictions = pd.read_parquet(run / "predictions.parquet")
    test = predictions[predictions["split"] == "test"]
    assert (test.groupby(["repeat", "seed", "example_id"]).size() == 1).all()
    assert test.groupby(["repeat", "seed"])["example_id"].nunique().nunique() == 1  # every item, every time
    assert metrics["test"]["n"] == test.loc[(test["repeat"] == 0) & (test["seed"] == 1), "example_id"].nunique()
    ci = metrics["test"]["ci"]["macro_f1"]
    assert ci["low"] <= metrics["test"]["macro_f1"] <= ci["high"]
    assert 0 <= metrics["test"]["calibration"]["ece"] <= 1
    split = pd.read_csv(run / "split.csv")
    assert set(split.columns) >= {"paragraph_id", "group", "repeat", "fold", "split"}


def test_linear_svm_fits_when_a_class_has_only_two_training_examples():
    import numpy as np

    from stance.models.tfidf import CalibratedLinearSVM

    X = np.array([[0.0], [0.1], [1.0], [1.1], [2.0], [2.1], [2.2], [2.3]])
    y = np.array(["a", "a", "b", "b", "c", "c", "c", "c"])
    model = CalibratedLinearSVM().fit(X, y)
    assert model.predict_proba(X).shape == (8, 3)
    with pytest.raises(StanceError, match="at least 2 training examples of every class"):
        CalibratedLinearSVM().fit(X[1:], y[1:])
