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


def _f1_per_class(confusion: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """F1 of each class and whether the class occurs (gold or predicted), over the last two axes
    of `confusion` (..., k gold, k predicted)."""
    tp = np.diagonal(confusion, axis1=-2, axis2=-1)
    denominator = confusion.sum(axis=-1) + confusion.sum(axis=-2)
    # A float output whatever the counts' dtype: np.bincount of no items gives integers.
    f1 = np.divide(2 * tp, denominator, out=np.zeros(tp.shape), where=denominator > 0)
    return f1, denominator > 0


def _mean_present(f1: np.ndarray, present: np.ndarray) -> np.ndarray:
    count = present.sum(axis=-1)
    return np.divide((f1 * present).sum(axis=-1), count, out=np.full(count.shape, np.nan), where=count > 0)


def _scores(true: np.ndarray, pred: np.ndarray, k: int, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Macro-F1 and accuracy for each row of `weights` (bootstrap replicates x items)."""
    scores = _all_scores(true, pred, k, weights)
    return scores["macro_f1"], scores["accuracy"]


def _all_scores(true: np.ndarray, pred: np.ndarray, k: int, weights: np.ndarray, pair: list[int] | None = None,
                strata: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Every score for each row of `weights` (bootstrap replicates x items): macro_f1 and
    accuracy; f_avg (the mean F1 of the classes at indices `pair`) when `pair` is given; and
    macro_f1_target_mean (macro-F1 within each stratum, averaged over the strata present; items
    of stratum -1 are left out) when `strata` is given."""
    cells = true * k + pred
    confusion = np.stack([np.bincount(cells, weights=w, minlength=k * k).reshape(k, k) for w in weights])
    f1, present = _f1_per_class(confusion)
    # Average over classes present in the replicate (gold or predicted), as classification_metrics does.
    macro = np.nan_to_num(_mean_present(f1, present), nan=0.0)
    total = confusion.sum(axis=(1, 2))
    tp = np.diagonal(confusion, axis1=1, axis2=2)
    accuracy = np.divide(tp.sum(axis=1), total, out=np.zeros(len(weights)), where=total > 0)
    out = {"macro_f1": macro, "accuracy": accuracy}
    if pair is not None:
        out["f_avg"] = _mean_present(f1[:, pair], present[:, pair])
    if strata is not None and (strata >= 0).any():
        kept = strata >= 0
        n_strata = int(strata.max()) + 1
        by_stratum = strata[kept] * k * k + cells[kept]
        per = np.stack([np.bincount(by_stratum, weights=w[kept], minlength=n_strata * k * k)
                        .reshape(n_strata, k, k) for w in weights])
        f1_s, present_s = _f1_per_class(per)
        macro_s = _mean_present(f1_s, present_s)  # nan for a stratum absent from the replicate
        sampled = per.sum(axis=(2, 3)) > 0
        count = sampled.sum(axis=1)
        out["macro_f1_target_mean"] = np.divide(np.where(sampled, np.nan_to_num(macro_s), 0).sum(axis=1), count,
                                                out=np.full(len(weights), np.nan), where=count > 0)
    return out


def _check_sample(n: int, n_boot: int) -> None:
    """A bootstrap needs items and replicates: a clear ValueError instead of numpy's errors."""
    if n == 0:
        raise ValueError("no items to score: the bootstrap needs at least one item")
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise ValueError(f"n_boot must be a positive whole number of replicates, got {n_boot!r}")


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


def _strata(targets: Sequence[object] | None, scored: set[str] | None) -> np.ndarray | None:
    """Stratum index per item (-1: a target left out of the per-target mean), or None."""
    if targets is None:
        return None
    names = np.asarray([str(t) for t in targets], dtype=object)
    keep = sorted(set(names) if scored is None else set(scored) & set(names))
    index = {t: i for i, t in enumerate(keep)}
    return np.array([index.get(t, -1) for t in names], dtype=np.int64)


def _pair_index(labels_of: dict[str, int], pair: Sequence[str] | None) -> list[int] | None:
    if pair is None:
        return None
    return [labels_of[c] for c in pair if c in labels_of]


def _labels(y_true: Sequence[str], *preds: Sequence[str]) -> dict[str, int]:
    labels = sorted(set(map(str, y_true)).union(*(set(map(str, p)) for p in preds)))
    return {c: i for i, c in enumerate(labels)}


def bootstrap_scores(y_true: Sequence[str], y_pred: Sequence[str], groups: Sequence[object] | None = None,
                     n_boot: int = 2000, level: float = 0.95, seed: int = 0, f_avg_classes: Sequence[str] | None = None,
                     targets: Sequence[object] | None = None, scored_targets: set[str] | None = None
                     ) -> dict[str, Interval]:
    """Percentile bootstrap intervals for macro-F1 and accuracy, resampling groups.

    With `f_avg_classes` (e.g. favourable, unfavourable) also `f_avg`, the mean F1 of those
    classes (SemEval-2016 Task 6's F_avg; Mohammad et al. 2016); with `targets` (one per item)
    also `macro_f1_target_mean`, macro-F1 computed within each target and averaged over targets
    (only `scored_targets`, if given). Every interval comes from the same resampled groups.
    Raises ValueError for no items or `n_boot` < 1 (callers refuse an empty split first).
    """
    true, (pred,), k = _encode(y_true, y_pred)
    _check_sample(len(true), n_boot)
    pair = _pair_index(_labels(y_true, y_pred), f_avg_classes)
    strata = _strata(targets, scored_targets)
    group_of, n_groups = _group_index(groups, len(true))
    point = _all_scores(true, pred, k, np.ones((1, len(true))), pair, strata)
    weights = _replicate_weights(group_of, n_groups, n_boot, np.random.default_rng(seed))
    replicates = _all_scores(true, pred, k, weights, pair, strata)
    tail = (1 - level) / 2 * 100
    out = {}
    for name, reps in replicates.items():
        reps = reps[~np.isnan(reps)]
        if np.isnan(point[name][0]) or not len(reps):
            continue
        out[name] = Interval(float(point[name][0]), float(np.percentile(reps, tail)),
                             float(np.percentile(reps, 100 - tail)), level)
    return out


def paired_bootstrap(y_true: Sequence[str], pred_a: Sequence[str], pred_b: Sequence[str],
                     groups: Sequence[object] | None = None, n_boot: int = 5000, level: float = 0.95,
                     seed: int = 0, f_avg_classes: Sequence[str] | None = None,
                     targets: Sequence[object] | None = None, scored_targets: set[str] | None = None
                     ) -> dict[str, dict[str, float]]:
    """Difference a - b in macro-F1 and accuracy on the same items, resampled jointly (and in
    f_avg and macro_f1_target_mean, given `f_avg_classes` and `targets`, as bootstrap_scores).

    The p-value is two-sided: twice the share of replicates on the far side of zero
    (at least 1/n_boot, so it is never reported as exactly 0). Raises ValueError for no items
    or `n_boot` < 1.
    """
    true, (a, b), k = _encode(y_true, pred_a, pred_b)
    _check_sample(len(true), n_boot)
    pair = _pair_index(_labels(y_true, pred_a, pred_b), f_avg_classes)
    strata = _strata(targets, scored_targets)
    group_of, n_groups = _group_index(groups, len(true))
    ones = np.ones((1, len(true)))
    weights = _replicate_weights(group_of, n_groups, n_boot, np.random.default_rng(seed))
    point_a, point_b = _all_scores(true, a, k, ones, pair, strata), _all_scores(true, b, k, ones, pair, strata)
    reps_a, reps_b = _all_scores(true, a, k, weights, pair, strata), _all_scores(true, b, k, weights, pair, strata)
    out = {}
    tail = (1 - level) / 2 * 100
    for name in reps_a:
        observed = point_a[name][0] - point_b[name][0]
        diffs = reps_a[name] - reps_b[name]
        diffs = diffs[~np.isnan(diffs)]
        if np.isnan(observed) or not len(diffs):
            continue
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
