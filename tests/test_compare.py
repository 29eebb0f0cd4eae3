"""stance.compare: the table, paired tests on the same items only, experiments and learning curves."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from stance.compare import collect, compare, load_run, main
from stance.config import load_config
from stance.errors import StanceError
from stance.train import train
from tests.conftest import write_run_config

QUIET = lambda *a, **k: None  # noqa: E731


@pytest.fixture
def run_config(tmp_path, labelled_table):
    return write_run_config(tmp_path / "c.yaml", labelled_table, "tiny", tmp_path / "runs")


def test_paired_comparison_of_two_models_on_the_same_items(run_config, tmp_path):
    a = train(load_config(run_config, ["model.features=word"]), say=QUIET)
    b = train(load_config(run_config, ["model.features=char"]), say=QUIET)
    result = compare([load_run(a), load_run(b)], tmp_path / "report", n_boot=500)
    pairs = result["pairs"]
    assert len(pairs) == 1 and not result["refused"]
    row = pairs.iloc[0]
    metrics_a = json.loads((a / "metrics.json").read_text())["test"]
    metrics_b = json.loads((b / "metrics.json").read_text())["test"]
    assert row["n"] == metrics_a["n"]
    assert row["macro_f1_diff"] == pytest.approx(metrics_a["macro_f1"] - metrics_b["macro_f1"])
    assert row["diff_low"] <= row["macro_f1_diff"] <= row["diff_high"]
    assert 0 < row["p_mcnemar"] <= 1 and 0 < row["p_bootstrap"] <= 1
    out = tmp_path / "report"
    for name in ("runs.csv", "runs.md", "runs.tex", "pairs.csv", "pairs.md", "pairs.tex", "reliability.pdf",
                 "reliability.png", "refused.txt"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    tex = (out / "runs.tex").read_text()
    assert "\\toprule" in tex and "\\midrule" in tex and "\\bottomrule" in tex
    table = pd.read_csv(out / "runs.csv")
    assert table.loc[0, "macro_f1"] == pytest.approx(metrics_a["macro_f1"])
    assert table.loc[0, "macro_f1_low"] == pytest.approx(metrics_a["ci"]["macro_f1"]["low"])


def test_runs_on_different_test_items_are_refused_a_paired_test(run_config, tmp_path):
    a = train(load_config(run_config), say=QUIET)
    other_split = train(load_config(run_config, ["seed=99"]), say=QUIET)
    result = compare([load_run(a), load_run(other_split)], tmp_path / "report", n_boot=200)
    assert result["pairs"].empty
    assert len(result["refused"]) == 1 and "different test items" in result["refused"][0]
    assert "different test items" in (tmp_path / "report" / "refused.txt").read_text()
    other_task = train(load_config(run_config, ["task=sentiment"]), say=QUIET)
    result = compare([load_run(a), load_run(other_task)], tmp_path / "report2", n_boot=200)
    assert "different tasks" in result["refused"][0]


def write_experiment(tmp_path, labelled_table, models: str) -> Path:
    """An experiment config `exp` on the labelled table, runs under tmp_path/runs."""
    path = tmp_path / "exp.yaml"
    path.write_text(f"name: exp\ndata: {{path: {labelled_table}}}\noutput_dir: {tmp_path / 'runs'}\n{models}",
                    encoding="utf-8")
    return path


def test_experiment_trains_each_model_once_and_draws_a_learning_curve(tmp_path, labelled_table):
    path = write_experiment(tmp_path, labelled_table, """models:
  word: {features: word}
  char: {kind: tfidf, features: char, classifier: sgd_log}
learning_curve: {fractions: [0.5, 1.0]}
""")
    runs, curve, name = collect([str(path)], [], retrain=False, say=QUIET)
    assert name == "exp" and [r.config["name"] for r in runs] == ["exp-word", "exp-char"]
    assert len(curve) == 4 and set(curve["fraction"]) == {0.5, 1.0}
    half, full = (curve[curve["fraction"] == f].iloc[0] for f in (0.5, 1.0))
    assert half["train_examples"] < full["train_examples"] and half["n_test"] == full["n_test"]
    made = sorted(p.name for p in (tmp_path / "runs").iterdir())
    assert len(made) == 4  # two models x two fractions; 1.0 is the models' own run
    # A second invocation reuses every complete run.
    collect([str(path)], [], retrain=False, say=QUIET)
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == made
    result = compare(runs, tmp_path / "report", curve, n_boot=200)
    for name in ("learning_curve.csv", "learning_curve.tex", "learning_curve.png", "learning_curve.pdf"):
        assert (tmp_path / "report" / name).is_file()
    assert result["pairs"].iloc[0]["n"] == runs[0].metrics["test"]["n"]


def test_models_option_trains_only_the_named_models(tmp_path, labelled_table):
    path = write_experiment(tmp_path, labelled_table, "models:\n  word: {features: word}\n  char: {features: char}\n")
    runs, _, _ = collect([str(path)], [], retrain=False, say=QUIET, models=["char"])
    assert [r.config["name"] for r in runs] == ["exp-char"]
    with pytest.raises(StanceError, match=r"--models: 'chr' is not a model of experiment exp \(its models: word, char\)"):
        collect([str(path)], [], retrain=False, say=QUIET, models=["chr"])


def test_figures_and_tables_are_byte_identical_on_a_rerun(run_config, tmp_path):
    a = train(load_config(run_config), say=QUIET)
    b = train(load_config(run_config, ["model.classifier=sgd_log"]), say=QUIET)
    runs = [load_run(a), load_run(b)]
    compare(runs, tmp_path / "one", n_boot=200)
    compare(runs, tmp_path / "two", n_boot=200)
    for f in sorted((tmp_path / "one").iterdir()):
        assert f.read_bytes() == (tmp_path / "two" / f.name).read_bytes(), f.name


def test_bad_items_are_one_line_errors(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main([str(tmp_path / "empty")]) == 2
    assert "no complete runs in this folder" in capsys.readouterr().err
    (tmp_path / "x.yaml").write_text("name: x\n")  # a training config: its newest complete run, here none
    assert main([str(tmp_path / "x.yaml")]) == 2
    assert "no complete run of this config" in capsys.readouterr().err
    (tmp_path / "notes.txt").write_text("runs\n")
    assert main([str(tmp_path / "notes.txt")]) == 2
    assert "not a run folder, a training config or an experiment config" in capsys.readouterr().err
    with pytest.raises(StanceError, match="not a run folder"):
        load_run(tmp_path / "empty")


@pytest.mark.slow
def test_compare_command_on_an_experiment(tmp_path, labelled_table):
    path = write_run_config(tmp_path / "exp.yaml", labelled_table, "cli", tmp_path / "runs",
                            "models:\n  a: {features: word}\n  b: {features: char}\n")
    result = subprocess.run([sys.executable, "-m", "stance.compare", str(path), "--out", str(tmp_path / "out"),
                             "--n-boot", "300"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "macro-F1 [95% CI]" in result.stdout and "p (McNemar)" in result.stdout
    assert (tmp_path / "out" / "pairs.md").is_file()


def test_every_models_checks_run_before_any_model_is_trained(tmp_path, labelled_table):
    # Model b's encoder does not exist: found before model a is trained, and named as models.b.model.
    path = write_experiment(tmp_path, labelled_table, "models:\n  a: {features: word}\n"
                                                      "  b: {kind: embeddings, model: no-such-encoder}\n")
    with pytest.raises(StanceError, match=r"^models\.b\.model: 'no-such-encoder' is neither a known model alias"):
        collect([str(path)], [], retrain=False, say=QUIET)
    assert not (tmp_path / "runs").exists()
    path.write_text(path.read_text().replace("model: no-such-encoder", "tune: {C: [1, 2]}, max_length: 8"))
    with pytest.raises(StanceError, match=r"models\.b\.max_length: Input should be greater than or equal to 16"):
        collect([str(path)], [], retrain=False, say=QUIET)


def test_an_experiment_names_its_models_under_models(tmp_path, labelled_table, capsys):
    path = write_experiment(tmp_path, labelled_table, "models:\n  a: {features: word}\n  v1.2: {features: char}\n")
    with pytest.raises(StanceError, match=r"--set model\.kind: model: an experiment config lists its models under `models:`"):
        collect([str(path)], ["model.kind=tfidf"], retrain=False, say=QUIET)
    # A model's name may hold dots: the --set key runs up to the first field of a model section.
    from stance.config import load_experiment

    assert load_experiment(path, ["models.v1.2.C=3"]).models["v1.2"].C == 3.0
