"""Uncertainty and significance for classifier scores.

Bootstraps resample *groups* (story clusters by default), not single paragraphs: syndicated
copies of one story are not independent evidence, and resampling them one by one would make
intervals too narrow. With one item per group this is the ordinary bootstrap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import stats as scipy_stats


def _encode(y_true: Sequence[str], *preds: Sequence[str]) -> tuple[np.ndarray, list[np.ndarray], int]:
    labels = sorted(set(map(str, y_true)).union(*(set(map(str, p)) for p in preds)))
    index = {c: i for i, c in enumerate(labels)}
    true = np.array([index[str(c)] for c in y_true], dtype=np.int64)
    return true, [np.array([index[str(c)] for c in p], dtype=np.int64) for p in preds], len(labels)


def _group_index(groups: Sequence[object] | None, n: int) -> tuple[np.ndarray, int]:
    if groups is None:
        return np.arange(n), n
    _, inverse = np.unique(np.asarray(groups, dtype=str), return_inverse=True)
    return inverse, int(inverse.max()) + 1 if n else 0


def _scores(true: np.ndarray, pred: np.ndarray, k: int, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Macro-F1 and accuracy for each row of `weights` (bootstrap replicates x items)."""
    cells = true * k + pred
    confusion = np.stack([np.bincount(cells, weights=w, minlength=k * k).reshape(k, k) for w in weights])
    tp = np.diagonal(confusion, axis1=1, axis2=2)
    support, predicted = confusion.sum(axis=2), confusion.sum(axis=1)
    denominator = support + predicted
    f1 = np.divide(2 * tp, denominator, out=np.zeros_like(tp), where=denominator > 0)
    # Average over classes present in the replicate (gold or predicted), as classification_metrics does.
    present = denominator > 0
    macro = np.divide(f1.sum(axis=1), present.sum(axis=1), out=np.zeros(len(weights)), where=present.any(axis=1))
    total = confusion.sum(axis=(1, 2))
    accuracy = np.divide(tp.sum(axis=1), total, out=np.zeros(len(weights)), where=total > 0)
    return macro, accuracy


def _replicate_weights(group_of: np.ndarray, n_groups: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    counts = rng.multinomial(n_groups, np.full(n_groups, 1.0 / n_groups), size=n_boot)
    return counts[:, group_of].astype(np.float64)


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float
    level: float

    def as_dict(self) -> dict[str, float]:
        return {"estimate": self.estimate, "low": self.low, "high": self.high, "level": self.level}


def bootstrap_scores(y_true: Sequence[str], y_pred: Sequence[str], groups: Sequence[object] | None = None,
                     n_boot: int = 2000, level: float = 0.95, seed: int = 0) -> dict[str, Interval]:
    """Percentile bootstrap intervals for macro-F1 and accuracy, resampling groups."""
    true, (pred,), k = _encode(y_true, y_pred)
    group_of, n_groups = _group_index(groups, len(true))
    point_macro, point_acc = _scores(true, pred, k, np.ones((1, len(true))))
    weights = _replicate_weights(group_of, n_groups, n_boot, np.random.default_rng(seed))
    macro, accuracy = _scores(true, pred, k, weights)
    tail = (1 - level) / 2 * 100
    return {name: Interval(float(point[0]), float(np.percentile(reps, tail)), float(np.percentile(reps, 100 - tail)),
                           level)
            for name, point, reps in (("macro_f1", point_macro, macro), ("accuracy", point_acc, accuracy))}


def paired_bootstrap(y_true: Sequence[str], pred_a: Sequence[str], pred_b: Sequence[str],
                     groups: Sequence[object] | None = None, n_boot: int = 5000, level: float = 0.95,
                     seed: int = 0) -> dict[str, dict[str, float]]:
    """Difference a - b in macro-F1 and accuracy on the same items, resampled jointly.

    The p-value is two-sided: twice the share of replicates on the far side of zero
    (at least 1/n_boot, so it is never reported as exactly 0).
    """
    true, (a, b), k = _encode(y_true, pred_a, pred_b)
    group_of, n_groups = _group_index(groups, len(true))
    ones = np.ones((1, len(true)))
    weights = _replicate_weights(group_of, n_groups, n_boot, np.random.default_rng(seed))
    out = {}
    for i, name in enumerate(("macro_f1", "accuracy")):
        observed = _scores(true, a, k, ones)[i][0] - _scores(true, b, k, ones)[i][0]
        diffs = _scores(true, a, k, weights)[i] - _scores(true, b, k, weights)[i]
        tail = (1 - level) / 2 * 100
        p = 2 * min((diffs <= 0).mean(), (diffs >= 0).mean())
        out[name] = {"difference": float(observed), "low": float(np.percentile(diffs, tail)),
                     "high": float(np.percentile(diffs, 100 - tail)), "p_value": float(min(1.0, max(p, 1 / n_boot))),
                     "level": level, "n_boot": n_boot}
    return out


def mcnemar(correct_a: Sequence[bool], correct_b: Sequence[bool], exact: bool | None = None) -> dict[str, float]:
    """McNemar's test on paired correctness.

    Exact binomial test when the discordant pairs are few (under 25, or exact=True), else the
    chi-square statistic with continuity correction; the same conventions as statsmodels.
    """
    a, b = np.asarray(correct_a, dtype=bool), np.asarray(correct_b, dtype=bool)
    only_a, only_b = int((a & ~b).sum()), int((~a & b).sum())
    discordant = only_a + only_b
    use_exact = discordant < 25 if exact is None else exact
    if discordant == 0:
        return {"only_a_correct": 0, "only_b_correct": 0, "statistic": 0.0, "p_value": 1.0, "exact": use_exact}
    if use_exact:
        statistic = float(min(only_a, only_b))
        p = float(scipy_stats.binomtest(min(only_a, only_b), discordant, 0.5).pvalue)
    else:
        statistic = float((abs(only_a - only_b) - 1) ** 2 / discordant)
        p = float(scipy_stats.chi2.sf(statistic, 1))
    return {"only_a_correct": only_a, "only_b_correct": only_b, "statistic": statistic, "p_value": min(p, 1.0),
            "exact": use_exact}


def calibration(proba: np.ndarray, y_true_index: np.ndarray, n_bins: int = 10) -> dict[str, object]:
    """Expected calibration error of the top-class probability, with the reliability-diagram bins.

    ECE = sum over equal-width confidence bins of (share of items) * |accuracy - mean confidence|.
    """
    proba = np.asarray(proba, dtype=float)
    confidence = proba.max(axis=1)
    correct = proba.argmax(axis=1) == np.asarray(y_true_index)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, n_bins - 1)
    bins, ece = [], 0.0
    for b in range(n_bins):
        inside = which == b
        count = int(inside.sum())
        if count:
            gap = abs(correct[inside].mean() - confidence[inside].mean())
            ece += count / len(confidence) * gap
        bins.append({"low": float(edges[b]), "high": float(edges[b + 1]), "count": count,
                     "confidence": float(confidence[inside].mean()) if count else None,
                     "accuracy": float(correct[inside].mean()) if count else None})
    return {"ece": float(ece), "n_bins": n_bins, "bins": bins}
