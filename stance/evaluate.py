"""Metrics for one set of predictions: macro-F1, accuracy, per-class scores, confusion matrix."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd
from stance.runs import unit_name
from stance.stats import bootstrap_scores, calibration
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support


MAX_TARGETS = 30
MIN_PER_TARGET = 20


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
            # Schema actors, or for data with free-form targets the most frequent ones.
            counts = part["target"].value_counts()
            shown = set(counts[counts >= MIN_PER_TARGET].index[:MAX_TARGETS]) if len(counts) > MAX_TARGETS \
                else set(counts.index)
            metrics["per_target"] = {
                str(target): {k: v for k, v in classification_metrics(g["label"], g["pred"], classes).items()
                              if k in ("n", "accuracy", "macro_f1")}
                for target, g in part.groupby("target", sort=True) if target in shown}
        out[split] = metrics
    return out


def majority_baseline(train_labels: Sequence[str], test_labels: Sequence[str], classes: Sequence[str]) -> dict[str, float]:
    """What always predicting the most frequent training class scores: the floor to beat."""
    values, counts = np.unique(np.asarray(train_labels), return_counts=True)
    majority = values[np.argmax(counts)]
    m = classification_metrics(test_labels, [majority] * len(test_labels), classes)
    return {"label": str(majority), "accuracy": m["accuracy"], "macro_f1": m["macro_f1"]}


def mean_sd(values: Sequence[float]) -> dict[str, Any]:
    arr = np.asarray(values, dtype=float)
    return {"mean": float(arr.mean()), "sd": float(arr.std(ddof=1)) if len(arr) > 1 else None, "n": len(arr)}


def probability_matrix(predictions: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Class probabilities (a class a fold's model never saw has probability 0) and gold indices."""
    columns = [c for c in predictions.columns if c.startswith("prob_")]
    classes = [c[len("prob_"):] for c in columns]
    proba = predictions[columns].fillna(0.0).to_numpy(dtype=float)
    index = {c: i for i, c in enumerate(classes)}
    return proba, np.array([index.get(str(label), -1) for label in predictions["label"]])


def run_metrics(predictions: pd.DataFrame, classes: Sequence[str], task: str,
                majority_labels: dict[tuple[int, int], str], seed: int) -> dict[str, Any]:
    """Everything metrics.json holds for a run's predictions (columns repeat, fold, seed, split, ...).

    The headline `val` / `test` scores are those of the first model seed, pooled over the folds
    of the first repeat: each test item is predicted once, by a model that never saw it. Its
    test scores carry a bootstrap CI over story clusters and a calibration error. `per_unit`
    and `summary` give every (repeat, fold, seed) fit and the mean +- sd over them.
    """
    seeds = list(dict.fromkeys(int(s) for s in predictions["seed"]))
    primary = predictions[(predictions["repeat"] == 0) & (predictions["seed"] == seeds[0])]
    metrics = evaluate_predictions(primary, classes, by_target=task == "stance")
    test = primary[primary["split"] == "test"]
    for split in ("val", "test"):
        part = primary[primary["split"] == split]
        if len(part):
            metrics[split]["ci"] = {name: interval.as_dict() for name, interval in
                                    bootstrap_scores(part["label"], part["pred"], groups=part["cluster_id"],
                                                     seed=seed).items()}
    metrics["test"]["calibration"] = calibration(*probability_matrix(test))
    per_unit: dict[str, Any] = {}
    for (repeat, fold, unit_seed), part in predictions.groupby(["repeat", "fold", "seed"], sort=False):
        per_unit[unit_name(int(repeat), int(fold), int(unit_seed))] = {
            split: {k: m[k] for k in ("n", "macro_f1", "accuracy")}
            for split, m in evaluate_predictions(part, classes, by_target=False).items()}
    metrics["seeds"] = seeds
    metrics["units"] = list(per_unit)
    metrics["per_unit"] = per_unit
    metrics["summary"] = {split: {k: mean_sd([u[split][k] for u in per_unit.values() if split in u])
                                  for k in ("macro_f1", "accuracy")}
                          for split in ("val", "test") if any(split in u for u in per_unit.values())}
    floor = [majority_labels[(0, int(f))] for f in test["fold"]]
    m = classification_metrics(test["label"], floor, classes)
    metrics["majority_baseline_test"] = {"label": max(set(floor), key=floor.count), "accuracy": m["accuracy"],
                                         "macro_f1": m["macro_f1"]}
    return metrics
