"""Class prevalence corrected for classifier error, with bootstrap confidence intervals.

Counting predicted labels (classify and count, CC) is biased whenever the classifier errs
unevenly across classes: a model that over-predicts "neutral" reports too much neutral
coverage in every outlet. Adjusted classify and count (ACC) and its probabilistic version
(PACC) invert the classifier's confusion rates, estimated on held-out gold labels (a run's
test predictions). The estimators come from QuaPy; this module feeds them predictions made
elsewhere and bootstraps both the held-out set and the corpus part being measured.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

METHODS = ("CC", "PCC", "ACC", "PACC")


class _Fitted(ClassifierMixin, BaseEstimator):
    """Stands in for the run's classifier: QuaPy checks the estimator API, then only reads
    `classes_`, because the predictions are passed in ready-made."""

    def __init__(self, classes: Sequence[str] = ()):
        self.classes = classes
        self.classes_ = np.asarray(classes)

    def fit(self, X, y):  # pragma: no cover - never called with fit_classifier=False
        raise RuntimeError("the classifier is already fitted")

    def predict(self, X):  # pragma: no cover
        raise RuntimeError("predictions are passed to the quantifier directly")

    predict_proba = predict


def _estimators(classes: Sequence[str]):
    from quapy.method.aggregative import ACC, CC, PACC, PCC

    clf = _Fitted(classes)
    return {"CC": CC(clf, fit_classifier=False), "PCC": PCC(clf, fit_classifier=False),
            "ACC": ACC(clf, fit_classifier=False, val_split=None),
            "PACC": PACC(clf, fit_classifier=False, val_split=None)}


def _estimate(classes: list[str], cal_true: np.ndarray, cal_pred: np.ndarray, cal_proba: np.ndarray,
              pred: np.ndarray, proba: np.ndarray) -> dict[str, np.ndarray]:
    methods = _estimators(classes)
    methods["ACC"].aggregation_fit(cal_pred, cal_true)
    methods["PACC"].aggregation_fit(cal_proba, cal_true)
    return {"CC": methods["CC"].aggregate(pred), "PCC": methods["PCC"].aggregate(proba),
            "ACC": methods["ACC"].aggregate(pred), "PACC": methods["PACC"].aggregate(proba)}


def prevalence(classes: Sequence[str], cal_true: Sequence[str], cal_proba: np.ndarray, proba: np.ndarray,
               n_boot: int = 500, level: float = 0.95, seed: int = 0, keep_replicates: bool = False
               ) -> dict[str, dict[str, np.ndarray]]:
    """Prevalence of each class in the items with probabilities `proba`, by method.

    `cal_true`/`cal_proba`: gold labels and predicted probabilities of held-out items, used to
    estimate the classifier's error rates. Returns {method: {"estimate", "low", "high"}}, each
    an array over `classes`. Bootstrap replicates resample the held-out items and the measured
    items independently, so the interval carries the uncertainty of both.
    """
    classes = [str(c) for c in classes]
    cal_true = np.asarray([str(c) for c in cal_true])
    cal_proba, proba = np.asarray(cal_proba, dtype=float), np.asarray(proba, dtype=float)
    cal_pred = np.asarray(classes)[cal_proba.argmax(axis=1)]
    pred = np.asarray(classes)[proba.argmax(axis=1)]
    point = _estimate(classes, cal_true, cal_pred, cal_proba, pred, proba)
    rng = np.random.default_rng(seed)
    replicates: dict[str, list[np.ndarray]] = {m: [] for m in METHODS}
    for _ in range(n_boot):
        c = rng.integers(0, len(cal_true), len(cal_true))
        t = rng.integers(0, len(pred), len(pred))
        for method, value in _estimate(classes, cal_true[c], cal_pred[c], cal_proba[c], pred[t], proba[t]).items():
            replicates[method].append(value)
    tail = (1 - level) / 2 * 100
    out = {m: {"estimate": np.asarray(point[m]), "low": np.percentile(replicates[m], tail, axis=0),
               "high": np.percentile(replicates[m], 100 - tail, axis=0)} for m in METHODS}
    if keep_replicates:  # for intervals of derived quantities, e.g. favourable minus unfavourable
        for m in METHODS:
            out[m]["replicates"] = np.asarray(replicates[m])
    return out
