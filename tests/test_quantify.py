"""Corrected prevalence recovers known class shares where counting predictions is biased."""

import numpy as np

from stance.quantify import prevalence

CLASSES = ["neutral", "pro-Russia", "pro-Ukraine"]


def simulate(rng, prevalences, n, confusion):
    """Items with true classes drawn at `prevalences`, and a classifier whose probabilities
    follow `confusion` (row: true class -> distribution of its output)."""
    truth = rng.choice(len(CLASSES), n, p=prevalences)
    proba = np.stack([rng.dirichlet(confusion[t] * 20) for t in truth])
    return np.asarray(CLASSES)[truth], proba


def test_adjusted_counts_recover_the_true_shares_where_classify_and_count_is_biased():
    rng = np.random.default_rng(1)
    # A classifier that pulls everything toward "neutral".
    confusion = np.array([[0.85, 0.075, 0.075], [0.45, 0.5, 0.05], [0.45, 0.05, 0.5]])
    cal_true, cal_proba = simulate(rng, [1 / 3, 1 / 3, 1 / 3], 3000, confusion)
    true_share = np.array([0.2, 0.5, 0.3])
    _, proba = simulate(rng, true_share, 4000, confusion)
    result = prevalence(CLASSES, cal_true, cal_proba, proba, n_boot=100)
    cc_error = np.abs(result["CC"]["estimate"] - true_share).max()
    for method in ("ACC", "PACC"):
        estimate = result[method]["estimate"]
        assert np.abs(estimate - true_share).max() < 0.05, (method, estimate)
        assert np.abs(estimate - true_share).max() < cc_error / 3
        assert np.all(result[method]["low"] <= true_share) and np.all(true_share <= result[method]["high"])
    assert cc_error > 0.15  # the naive count really is off, so the test means something
    assert abs(result["PACC"]["estimate"].sum() - 1) < 1e-9
