"""Metrics for one set of predictions: macro-F1, accuracy, per-class scores, confusion matrix."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support


def classification_metrics(y_true: Sequence[str], y_pred: Sequence[str], classes: Sequence[str]) -> dict[str, Any]:
    """Scores over the schema's classes that occur in the gold labels or the predictions.

    A class that never occurs in either cannot be scored and is listed under `absent_classes`
    instead of being counted as F1 = 0, which would lower macro-F1 for no reason.
    """
    y_true, y_pred = list(y_true), list(y_pred)
    present = [c for c in classes if c in set(y_true) | set(y_pred)]
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=present, zero_division=0)
    return {
        "n": len(y_true),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)),
        "per_class": {c: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
                      for c, p, r, f, s in zip(present, precision, recall, f1, support)},
        "confusion": {"labels": list(classes),
                      "matrix": confusion_matrix(y_true, y_pred, labels=list(classes)).tolist()},
        "absent_classes": [c for c in classes if c not in present],
    }


def evaluate_predictions(predictions: pd.DataFrame, classes: Sequence[str], by_target: bool) -> dict[str, Any]:
    """Metrics per split present in `predictions` (columns: split, label, pred, target)."""
    out: dict[str, Any] = {}
    for split in ("val", "test"):
        part = predictions[predictions["split"] == split]
        if part.empty:
            continue
        metrics = classification_metrics(part["label"], part["pred"], classes)
        if by_target:
            metrics["per_target"] = {
                str(target): {k: v for k, v in classification_metrics(g["label"], g["pred"], classes).items()
                              if k in ("n", "accuracy", "macro_f1")}
                for target, g in part.groupby("target", sort=True)}
        out[split] = metrics
    return out


def majority_baseline(train_labels: Sequence[str], test_labels: Sequence[str], classes: Sequence[str]) -> dict[str, float]:
    """What always predicting the most frequent training class scores: the floor to beat."""
    values, counts = np.unique(np.asarray(train_labels), return_counts=True)
    majority = values[np.argmax(counts)]
    m = classification_metrics(test_labels, [majority] * len(test_labels), classes)
    return {"label": str(majority), "accuracy": m["accuracy"], "macro_f1": m["macro_f1"]}
