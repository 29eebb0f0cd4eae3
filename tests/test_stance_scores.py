"""Stance scores the literature reports (issue 21 item 3): per-target macro-F1 beside the pooled
score, and F_avg (SemEval-2016 Task 6: the mean F1 of favourable and unfavourable), each with a
bootstrap interval, in metrics.json, the printed summary and stance.compare's tables."""

import json
import random

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score

from stance.compare import compare, load_run
from stance.config import load_config
from stance.errors import StanceError
from stance.stats import bootstrap_scores, paired_bootstrap
from stance.train import train
from tests.conftest import write_run_config

GOLD = ["favourable", "favourable", "unfavourable", "neutral", "unfavourable", "neutral", "favourable", "neutral"]
PRED = ["favourable", "neutral", "unfavourable", "neutral", "favourable", "neutral", "favourable", "unfavourable"]
TARGETS = ["A", "A", "A", "A", "B", "B", "B", "B"]


def test_f_avg_and_the_per_target_mean_are_the_textbook_numbers():
    scores = bootstrap_scores(GOLD, PRED, n_boot=300, f_avg_classes=("favourable", "unfavourable"), targets=TARGETS)
    f1 = f1_score(GOLD, PRED, labels=["favourable", "unfavourable"], average=None)
    assert scores["f_avg"].estimate == pytest.approx(f1.mean())
    by_target = [f1_score([g for g, t in zip(GOLD, TARGETS) if t == name], [p for p, t in zip(PRED, TARGETS) if t == name],
                          average="macro") for name in ("A", "B")]
    assert scores["macro_f1_target_mean"].estimate == pytest.approx(np.mean(by_target))
    assert scores["macro_f1"].estimate == pytest.approx(f1_score(GOLD, PRED, average="macro"))
    for interval in scores.values():
        assert interval.low <= interval.estimate <= interval.high
    # Only the targets asked for enter the mean.
    only_a = bootstrap_scores(GOLD, PRED, n_boot=50, targets=TARGETS, scored_targets={"A"})
    assert only_a["macro_f1_target_mean"].estimate == pytest.approx(by_target[0])
    # No target with enough items to be scored alone (free-form targets): no per-target mean, no error.
    none = bootstrap_scores(GOLD, PRED, n_boot=50, targets=TARGETS, scored_targets=set())
    assert "macro_f1_target_mean" not in none and "macro_f1" in none
    # Paired: a model against itself differs by exactly 0 on every score.
    same = paired_bootstrap(GOLD, PRED, PRED, n_boot=100, f_avg_classes=("favourable", "unfavourable"),
                            targets=TARGETS)
    assert set(same) == {"macro_f1", "accuracy", "f_avg", "macro_f1_target_mean"}
    assert all(d["difference"] == 0 and d["low"] == 0 == d["high"] for d in same.values())


WORDS = {"favourable": "praised the generous help from", "unfavourable": "condemned the brutal shelling by",
         "neutral": "listed the meeting schedule of"}


@pytest.fixture
def two_actor_table(tmp_path):
    """Paragraphs naming Russia and Ukraine, each with its own stance, learnable from the words."""
    rng = random.Random(1)
    classes = list(WORDS)
    filler = "harbour winter budget council river market railway school bridge festival".split()
    path = tmp_path / "two.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for d in range(60):
            r, u = classes[d % 3], classes[(d // 3) % 3]
            text = (f"{' '.join(rng.sample(filler, 5)).capitalize()}: officials {WORDS[r]} Russia, "
                    f"while others {WORDS[u]} Ukraine.")
            handle.write(json.dumps({"doc_id": f"d{d}", "text": text, "framing": "neutral",
                                     "stance": {"Russia": r, "Ukraine": u}}) + "\n")
    return path


def test_a_stance_run_reports_f_avg_and_per_target_scores_with_intervals(tmp_path, two_actor_table):
    config = write_run_config(tmp_path / "s.yaml", two_actor_table, "two", tmp_path / "runs", "task: stance\n")
    lines = []
    run = train(load_config(config), say=lines.append)
    metrics = json.loads((run / "metrics.json").read_text())
    test = metrics["test"]
    assert set(test["per_target"]) == {"Russia", "Ukraine"} and test["targets_averaged"] == 2
    assert test["macro_f1_target_mean"] == pytest.approx(np.mean([t["macro_f1"] for t in test["per_target"].values()]))
    per_class = test["per_class"]
    assert test["f_avg"] == pytest.approx((per_class["favourable"]["f1"] + per_class["unfavourable"]["f1"]) / 2)
    for name in ("f_avg", "macro_f1_target_mean"):
        assert test["ci"][name]["low"] <= test[name] <= test["ci"][name]["high"]
        assert name in metrics["summary"]["test"]
    assert metrics["headline_metric"] == "macro_f1"
    printed = "\n".join(lines)
    assert "test F_avg (mean F1 of favourable and unfavourable)" in printed
    assert "test macro-F1 per target: mean" in printed and "over 2 targets" in printed
    assert "F_avg" in (run / "README.md").read_text()

    # F_avg as the headline and selection metric; the tables of stance.compare show both scores.
    other = train(load_config(config, ["evaluation.metric=f_avg", "model.tune={C: [0.3, 3.0]}"]), say=QUIET)
    assert json.loads((other / "metrics.json").read_text())["headline_metric"] == "f_avg"
    result = compare([load_run(run), load_run(other)], tmp_path / "report", n_boot=200)
    runs = (tmp_path / "report" / "runs.md").read_text()
    assert "F_avg [95% CI]" in runs and "per-target macro-F1 [95% CI] (targets)" in runs
    row = result["pairs"].iloc[0]
    assert row["f_avg_low"] <= row["f_avg_diff"] <= row["f_avg_high"]
    assert "ΔF_avg" in (tmp_path / "report" / "pairs.md").read_text()


QUIET = lambda *a, **k: None  # noqa: E731


def test_f_avg_is_refused_where_it_does_not_apply(tmp_path, labelled_table):
    config = write_run_config(tmp_path / "f.yaml", labelled_table, "f", tmp_path / "runs",
                              "evaluation: {metric: f_avg}\n")
    with pytest.raises(StanceError, match=r"f\.yaml:4: evaluation: metric f_avg is a stance score; task is framing"):
        load_config(config)
    # The default adds nothing to the config hash: runs made before the section existed keep their ids.
    plain = write_run_config(tmp_path / "p.yaml", labelled_table, "f", tmp_path / "runs", "")
    explicit = write_run_config(tmp_path / "e.yaml", labelled_table, "f", tmp_path / "runs",
                                "evaluation: {metric: macro_f1}\n")
    assert load_config(plain).config_hash() == load_config(explicit).config_hash()
