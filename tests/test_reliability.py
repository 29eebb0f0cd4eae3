"""Killed runs resume to the same result; the same config gives the same result in two processes."""

import json
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow


def train_command(config, *extra):
    return [sys.executable, "-m", "stance.train", str(config), "--quiet", *extra]


def only_run(folder):
    (run,) = [p for p in folder.iterdir() if p.is_dir() and not p.name.endswith(".partial")]
    return run


@pytest.fixture
def many_fits_config(tmp_path, labelled_table):
    # 5 folds x 4 repeats x 3 seeds = 60 fits: long enough to be killed in the middle.
    path = tmp_path / "k.yaml"
    path.write_text(f"name: killme\ndata: {{path: {labelled_table}}}\n"
                    "split: {method: kfold, folds: 5, repeats: 4, val_size: 0.1}\nseeds: [1, 2, 3]\n"
                    "model: {classifier: sgd_log, features: word}\n", encoding="utf-8")
    return path


def test_sigkilled_tfidf_run_resumes_to_the_metrics_of_an_uninterrupted_run(many_fits_config, tmp_path):
    killed_dir, whole_dir = tmp_path / "killed", tmp_path / "whole"
    process = subprocess.Popen(train_command(many_fits_config, "--set", f"output_dir={killed_dir}"), cwd=REPO,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline and process.poll() is None:
        if len(list(killed_dir.glob("*.partial/fits/*/fit.json"))) >= 3:
            break
        time.sleep(0.01)
    assert process.poll() is None, "the run finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    (partial,) = killed_dir.glob("*.partial")
    done_before = len(list(partial.glob("fits/*/fit.json")))
    assert 3 <= done_before < 60 and not (partial / "metrics.json").exists()

    resumed = subprocess.run(train_command(many_fits_config, "--set", f"output_dir={killed_dir}", "--resume"),
                             cwd=REPO, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    whole = subprocess.run(train_command(many_fits_config, "--set", f"output_dir={whole_dir}"), cwd=REPO,
                           capture_output=True, text=True)
    assert whole.returncode == 0, whole.stderr
    a, b = only_run(killed_dir), only_run(whole_dir)
    assert (a / "metrics.json").read_text() == (b / "metrics.json").read_text()
    pa, pb = pd.read_parquet(a / "predictions.parquet"), pd.read_parquet(b / "predictions.parquet")
    pd.testing.assert_frame_equal(pa, pb)
    assert len(pa) == len(pa.drop_duplicates(["repeat", "fold", "seed", "example_id"]))  # nothing twice
    assert json.loads((a / "run.json").read_text())["status"] == "complete"
    print(f"killed after {done_before} of 60 fits; resumed run matches the uninterrupted one")


def test_same_config_and_seed_give_identical_tfidf_results_in_two_processes(tmp_path):
    runs = []
    for k in range(2):
        out = tmp_path / f"p{k}"
        result = subprocess.run(train_command(REPO / "configs" / "base.yaml", "--set", f"output_dir={out}",
                                              "--set", "task=stance"), cwd=REPO, capture_output=True, text=True,
                                env={**__import__("os").environ, "PYTHONHASHSEED": str(k + 1)})
        assert result.returncode == 0, result.stderr
        runs.append(only_run(out))
    assert (runs[0] / "metrics.json").read_bytes() == (runs[1] / "metrics.json").read_bytes()
    pd.testing.assert_frame_equal(pd.read_parquet(runs[0] / "predictions.parquet"),
                                  pd.read_parquet(runs[1] / "predictions.parquet"))


TRANSFORMER_TOLERANCE = 1e-5  # class probabilities, CPU, same torch build and thread count


def test_same_config_and_seed_give_transformer_results_within_tolerance(tmp_path, labelled_table, tiny_encoder):
    config = tmp_path / "t.yaml"
    config.write_text(f"name: det\ndata: {{path: {labelled_table}}}\n"
                      f"model: {{kind: transformer, model: {tiny_encoder}, epochs: 3, batch_size: 8, "
                      "max_length: 48, learning_rate: 0.003, device: cpu}\n", encoding="utf-8")
    runs = []
    for k in range(2):
        out = tmp_path / f"p{k}"
        result = subprocess.run(train_command(config, "--set", f"output_dir={out}"), cwd=REPO, capture_output=True,
                                text=True)
        assert result.returncode == 0, result.stderr
        runs.append(only_run(out))
    a, b = (pd.read_parquet(r / "predictions.parquet") for r in runs)
    assert (a["pred"] == b["pred"]).all()
    difference = np.abs(a.filter(like="prob_").to_numpy() - b.filter(like="prob_").to_numpy()).max()
    assert difference <= TRANSFORMER_TOLERANCE, difference
    ma, mb = (json.loads((r / "metrics.json").read_text())["test"]["macro_f1"] for r in runs)
    assert ma == mb
