"""The statistics behind comparisons, checked against known values and an independent library."""

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score

from stance.stats import bootstrap_scores, calibration, mcnemar, paired_bootstrap


@pytest.mark.parametrize("table,exact", [
    ([[30, 12], [4, 54]], True),     # few discordant pairs: exact binomial
    ([[30, 12], [4, 54]], False),
    ([[100, 40], [18, 60]], False),  # many: chi-square with continuity correction
    ([[100, 40], [18, 60]], None),
])
def test_mcnemar_matches_statsmodels(table, exact):
    from statsmodels.stats.contingency_tables import mcnemar as reference

    # table[i][j]: model a correct (i == 0) / wrong, model b correct (j == 0) / wrong.
    a, b = [], []
    for i in (0, 1):
        for j in (0, 1):
            a += [i == 0] * table[i][j]
            b += [j == 0] * table[i][j]
    ours = mcnemar(a, b, exact=exact)
    discordant = table[0][1] + table[1][0]
    use_exact = discordant < 25 if exact is None else exact
    theirs = reference(np.array(table), exact=use_exact, correction=True)
    assert ours["p_value"] == pytest.approx(theirs.pvalue, rel=1e-9)
    assert ours["statistic"] == pytest.approx(theirs.statistic, rel=1e-9)
    assert (ours["only_a_correct"], ours["only_b_correct"]) == (table[0][1], table[1][0])


def test_point_estimates_match_scikit_learn():
    rng = np.random.default_rng(1)
    y = rng.choice(list("abc"), 300)
    p = np.where(rng.random(300) < 0.6, y, rng.choice(list("abc"), 300))
    scores = bootstrap_scores(y, p, n_boot=200)
    assert scores["macro_f1"].estimate == pytest.approx(f1_score(y, p, average="macro"))
    assert scores["accuracy"].estimate == pytest.approx(accuracy_score(y, p))
    assert scores["macro_f1"].low < scores["macro_f1"].estimate < scores["macro_f1"].high


def test_bootstrap_interval_covers_the_true_accuracy_in_most_repetitions():
    rng = np.random.default_rng(7)
    true_accuracy, covered, repetitions = 0.7, 0, 200
    for r in range(repetitions):
        y = rng.choice(["x", "y"], 150)
        right = rng.random(150) < true_accuracy
        pred = np.where(right, y, np.where(y == "x", "y", "x"))
        ci = bootstrap_scores(y, pred, n_boot=400, seed=r)["accuracy"]
        covered += ci.low <= true_accuracy <= ci.high
    # Nominal 95%; the percentile bootstrap runs slightly narrow at n=150. A broken interval
    # (too narrow, or centred wrongly) falls far below this.
    assert covered / repetitions >= 0.88, covered


def test_grouped_bootstrap_is_wider_when_copies_are_correlated():
    rng = np.random.default_rng(3)
    # 40 stories, each reprinted 5 times: copies share their label and the model's verdict.
    y = np.repeat(rng.choice(["x", "y"], 40), 5)
    right = np.repeat(rng.random(40) < 0.7, 5)
    pred = np.where(right, y, np.where(y == "x", "y", "x"))
    groups = np.repeat(np.arange(40), 5)
    naive = bootstrap_scores(y, pred, n_boot=1000)["accuracy"]
    grouped = bootstrap_scores(y, pred, groups=groups, n_boot=1000)["accuracy"]
    assert (grouped.high - grouped.low) > 1.6 * (naive.high - naive.low)


def test_paired_bootstrap_finds_a_real_difference_and_not_a_null_one():
    rng = np.random.default_rng(5)
    y = rng.choice(list("abc"), 400)
    good = np.where(rng.random(400) < 0.8, y, rng.choice(list("abc"), 400))
    bad = np.where(rng.random(400) < 0.5, y, rng.choice(list("abc"), 400))
    real = paired_bootstrap(y, good, bad, n_boot=2000)
    assert real["accuracy"]["p_value"] < 0.01 and real["accuracy"]["low"] > 0
    same = paired_bootstrap(y, good, good, n_boot=2000)
    assert same["macro_f1"]["difference"] == 0 and same["macro_f1"]["p_value"] == 1.0


def test_calibration_error_is_zero_for_calibrated_and_large_for_overconfident():
    rng = np.random.default_rng(0)
    n = 20000
    confidence = rng.uniform(0.5, 1.0, n)
    correct = rng.random(n) < confidence  # right exactly as often as it claims
    proba = np.column_stack([confidence, 1 - confidence])
    truth = np.where(correct, 0, 1)
    assert calibration(proba, truth)["ece"] < 0.02
    overconfident = np.column_stack([np.full(n, 0.99), np.full(n, 0.01)])
    truth = np.where(rng.random(n) < 0.6, 0, 1)
    result = calibration(overconfident, truth)
    assert result["ece"] == pytest.approx(0.39, abs=0.02)
    assert sum(b["count"] for b in result["bins"]) == n


def test_no_items_or_no_replicates_is_a_clear_value_error():
    with pytest.raises(ValueError, match="no items to score"):
        bootstrap_scores([], [], groups=[], n_boot=10)
    with pytest.raises(ValueError, match="no items to score"):
        paired_bootstrap([], [], [], n_boot=10)
    for n_boot in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="n_boot must be a positive whole number"):
            bootstrap_scores(["a", "b"], ["a", "a"], n_boot=n_boot)
    # Integer counts (weights of whole numbers) score as floats: one item of one class is F1 1.
    from stance.stats import _f1_per_class

    f1, present = _f1_per_class(np.array([[1, 0], [0, 0]], dtype=np.int64))
    assert f1.tolist() == [1.0, 0.0] and present.tolist() == [True, False]
    assert bootstrap_scores(["a"], ["a"], n_boot=1)["macro_f1"].estimate == 1.0
