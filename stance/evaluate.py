"""Metrics for one set of predictions, and `python -m stance.evaluate RUN FILE --out DIR`.

The metric helpers (macro-F1, accuracy, per-class scores, confusion matrix, calibration,
bootstrap intervals) serve `stance.train` and the command alike. The command scores a trained
run on a labelled file it was not trained on: another outlet's labels, a public benchmark, a
colleague's gold set, with the run's first fit (the model `stance.predict` uses). FILE is read
with the run's own `data` section (change how with
`--set data.columns.text=body`, `--set data.labels.values=...`, `--rows-are documents`), its
examples are built as in training, the run's model predicts them, and DIR gets:

    metrics.json         macro-F1 and accuracy with 95% bootstrap CIs (resampling story clusters:
                         documents that share paragraphs, never single paragraphs), per-class and
                         per-target scores, confusion matrix, calibration (ECE and bins), the
                         run's majority-class floor, and what was evaluated (run, file, hashes)
    predictions.parquet  one row per example: ids, target, gold label, prediction, probabilities

Labels outside the run's classes are refused. DIR must be new; it is written in DIR.partial
and renamed when complete.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd
from pydantic import ValidationError
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from stance import files
from stance.annotate.examples import build_examples
from stance.annotate.standoff import attach_standoff, resolve_annotations_path
from stance.config import F_AVG_CLASSES, TrainConfig, parse_override
from stance.corpus.ingest import IngestReport, ingest, resolve_data_path
from stance.errors import StanceError, cli_entry
from stance.models import load_model
from stance.runs import file_sha256, model_hashes, now, read_complete_record, read_run_config, resolve_run, unit_name
from stance.stats import bootstrap_scores, calibration


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


def scored_targets(part: pd.DataFrame) -> set[str]:
    """The targets scored one by one: all of them (schema actors), or for data with free-form
    targets (thousands of mention strings) the MAX_TARGETS most frequent with MIN_PER_TARGET items."""
    counts = part["target"].astype(str).value_counts()
    return set(counts[counts >= MIN_PER_TARGET].index[:MAX_TARGETS]) if len(counts) > MAX_TARGETS \
        else set(counts.index)


def f_avg_classes(classes: Sequence[str], task: str) -> tuple[str, ...] | None:
    """The classes whose mean F1 is F_avg, or None where F_avg does not apply."""
    return F_AVG_CLASSES if task == "stance" and set(F_AVG_CLASSES) <= set(classes) else None


def f_avg(metrics: dict[str, Any]) -> float | None:
    """SemEval-2016 Task 6's F_avg: the mean F1 of favourable and unfavourable (of those that
    occur in the gold labels or the predictions; None if neither does)."""
    scores = [metrics["per_class"][c]["f1"] for c in F_AVG_CLASSES if c in metrics["per_class"]]
    return float(np.mean(scores)) if scores else None


def evaluate_predictions(predictions: pd.DataFrame, classes: Sequence[str], by_target: bool) -> dict[str, Any]:
    """Metrics per split present in `predictions` (columns: split, label, pred, target).

    With `by_target` (stance): scores per target, `macro_f1_target_mean` (macro-F1 within each
    scored target, averaged over `targets_averaged` targets: every target counts the same,
    however many items it has), and `f_avg` where the classes include favourable and unfavourable.
    """
    out: dict[str, Any] = {}
    for split in ("val", "test"):
        part = predictions[predictions["split"] == split]
        if part.empty:
            continue
        metrics = classification_metrics(part["label"], part["pred"], classes)
        if by_target:
            shown = scored_targets(part)
            metrics["per_target"] = {
                str(target): {k: v for k, v in classification_metrics(g["label"], g["pred"], classes).items()
                              if k in ("n", "accuracy", "macro_f1")}
                for target, g in part.groupby(part["target"].astype(str), sort=True) if target in shown}
            if metrics["per_target"]:
                metrics["macro_f1_target_mean"] = float(np.mean([t["macro_f1"] for t in metrics["per_target"].values()]))
                metrics["targets_averaged"] = len(metrics["per_target"])
            if f_avg_classes(classes, "stance") and f_avg(metrics) is not None:
                metrics["f_avg"] = f_avg(metrics)
        out[split] = metrics
    return out


def score_intervals(part: pd.DataFrame, classes: Sequence[str], task: str, seed: int) -> dict[str, Any]:
    """95% bootstrap intervals (story clusters resampled) for every score evaluate_predictions
    gives the items of `part`: macro_f1, accuracy, and for stance f_avg and macro_f1_target_mean."""
    stance = task == "stance"
    intervals = bootstrap_scores(part["label"], part["pred"], groups=part["cluster_id"].astype(str), seed=seed,
                                 f_avg_classes=f_avg_classes(classes, task),
                                 targets=part["target"].astype(str) if stance else None,
                                 scored_targets=scored_targets(part) if stance else None)
    return {name: interval.as_dict() for name, interval in intervals.items()}


def score_lines(metrics: dict[str, Any], split: str, headline: str = "macro_f1", per_target: int = 8) -> list[str]:
    """Printed lines for the stance scores beside the pooled macro-F1: F_avg and the per-target
    macro-F1 (their mean with its interval, and the largest targets one by one)."""
    m = metrics.get(split) or {}
    lines = []

    def ci(name: str) -> str:
        interval = (m.get("ci") or {}).get(name)
        return f" 95% CI [{interval['low']:.3f}, {interval['high']:.3f}]" if interval else ""

    if "f_avg" in m:
        lines.append(f"  {split} F_avg (mean F1 of favourable and unfavourable) {m['f_avg']:.3f}{ci('f_avg')}"
                     + ("  <- headline metric" if headline == "f_avg" else ""))
    if "macro_f1_target_mean" in m:
        targets = sorted(m["per_target"].items(), key=lambda kv: (-kv[1]["n"], kv[0]))
        shown = ", ".join(f"{t} {s['macro_f1']:.3f} (n={s['n']})" for t, s in targets[:per_target])
        more = f", and {len(targets) - per_target} more" if len(targets) > per_target else ""
        lines.append(f"  {split} macro-F1 per target: mean {m['macro_f1_target_mean']:.3f}{ci('macro_f1_target_mean')} "
                     f"over {m['targets_averaged']} targets (pooled {m['macro_f1']:.3f}); {shown}{more}")
    return lines


def majority_baseline(train_labels: Sequence[str], test_labels: Sequence[str], classes: Sequence[str]) -> dict[str, float]:
    """What always predicting the most frequent training class scores: the floor to beat."""
    values, counts = np.unique(np.asarray(train_labels), return_counts=True)
    majority = values[np.argmax(counts)]
    m = classification_metrics(test_labels, [majority] * len(test_labels), classes)
    return {"label": str(majority), "accuracy": m["accuracy"], "macro_f1": m["macro_f1"]}


def mean_sd(values: Sequence[float]) -> dict[str, Any]:
    """{"mean", "sd" (sample sd, None for one value), "n"} of scores over fits."""
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
                majority_labels: dict[tuple[int, int], str], seed: int, headline: str = "macro_f1") -> dict[str, Any]:
    """Everything metrics.json holds for a run's predictions (columns repeat, fold, seed, split, ...).

    The headline `val` / `test` scores are those of the first model seed, pooled over the folds
    of the first repeat: each test item is predicted once, by a model that never saw it. Its
    test scores carry a bootstrap CI over story clusters and a calibration error. `per_unit`
    and `summary` give every (repeat, fold, seed) fit and the mean +- sd over them.
    """
    seeds = list(dict.fromkeys(int(s) for s in predictions["seed"]))
    primary = predictions[(predictions["repeat"] == 0) & (predictions["seed"] == seeds[0])]
    metrics = evaluate_predictions(primary, classes, by_target=task == "stance")
    metrics["headline_metric"] = headline
    test = primary[primary["split"] == "test"]
    for split in ("val", "test"):
        part = primary[primary["split"] == split]
        if len(part):
            metrics[split]["ci"] = score_intervals(part, classes, task, seed)
    metrics["test"]["calibration"] = calibration(*probability_matrix(test))
    per_unit: dict[str, Any] = {}
    for (repeat, fold, unit_seed), part in predictions.groupby(["repeat", "fold", "seed"], sort=False):
        per_unit[unit_name(int(repeat), int(fold), int(unit_seed))] = {
            split: {k: m[k] for k in ("n", "macro_f1", "accuracy", "f_avg", "macro_f1_target_mean") if k in m}
            for split, m in evaluate_predictions(part, classes, by_target=task == "stance").items()}
    metrics["seeds"] = seeds
    metrics["units"] = list(per_unit)
    metrics["per_unit"] = per_unit
    metrics["summary"] = {split: {k: mean_sd([u[split][k] for u in per_unit.values() if split in u])
                                  for k in ("macro_f1", "accuracy", "f_avg", "macro_f1_target_mean")
                                  if all(k in u[split] for u in per_unit.values() if split in u)}
                          for split in ("val", "test") if any(split in u for u in per_unit.values())}
    floor = [majority_labels[(0, int(f))] for f in test["fold"]]
    m = classification_metrics(test["label"], floor, classes)
    metrics["majority_baseline_test"] = {"label": max(set(floor), key=floor.count), "accuracy": m["accuracy"],
                                         "macro_f1": m["macro_f1"]}
    return metrics


# ---------------------------------------------------------------- stance.evaluate RUN FILE

FEATURES = ["text", "target", "target_spans"]  # what every model's fit and predict take (as in train)
KEEP = ["example_id", "paragraph_id", "doc_id", "cluster_id", "outlet", "target", "label"]


def load_run(run_dir: Path, overrides: list[str]) -> tuple[TrainConfig, dict[str, Any]]:
    """The run's config with `--set data.*` overrides applied, and its run.json."""
    record = read_complete_record(run_dir)
    if not isinstance(record.get("primary_model"), str) or not isinstance(record.get("run_id"), str):
        raise StanceError(f"{run_dir / 'run.json'}: no primary_model or run_id; the file is damaged")
    check_data_overrides(overrides)
    return read_run_config(run_dir, record, overrides), record


def check_data_overrides(overrides: list[str]) -> None:
    """Only data.* settings (how a file is read) may change when a run is applied to new data."""
    for item in overrides:
        path, _ = parse_override(item)
        if path[0] != "data":
            raise StanceError(f"--set {item!r}: only data.* settings (how FILE is read) can change; the model, task "
                              "and schema are the run's")


def gold_examples(cfg: TrainConfig, file: Path, rows_are: str | None, annotations: str | None,
                  report: IngestReport) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(paragraphs, labelled examples) of FILE, read like the run's training data."""
    if not file.exists():
        raise StanceError(f"{file}: file to evaluate on not found")
    update: dict[str, Any] = {"path": str(file), "annotations": None, "split_files": None}
    if rows_are:
        update["rows_are"] = rows_are
    try:
        data = type(cfg.data).model_validate({**cfg.data.model_dump(), **update})
    except ValidationError as exc:
        raise StanceError(f"data: {exc.errors()[0]['msg']}") from None
    paragraphs = ingest(data, cfg.corpus, cfg.label_schema, report)
    if annotations:
        paragraphs = attach_standoff(paragraphs, resolve_annotations_path(annotations))
    label_column = getattr(data.labels, cfg.task)
    examples = build_examples(paragraphs, cfg.task, cfg.label_schema, label_column, data.labels.values)
    return paragraphs, examples


def check_run_classes(examples: pd.DataFrame, classes: Sequence[str], model_classes: Sequence[str],
                      file: Path) -> list[str]:
    """Refuse gold labels outside the run's classes; return the gold classes the model never
    saw in training (it cannot predict them, so their recall is 0 by construction)."""
    outside = sorted(set(examples["label"]) - set(classes))
    if outside:
        raise StanceError(f"{file}: labels {outside} are not among the run's classes {list(classes)}; "
                          "map them with --set data.labels.values='{raw: class}'")
    return sorted(set(examples["label"]) - set(map(str, model_classes)))


def score_file(examples: pd.DataFrame, model: Any, classes: Sequence[str], task: str, seed: int,
               majority_label: str | None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Predict `examples` and score them: (predictions frame, metrics dict)."""
    proba = model.predict_proba(examples[FEATURES].reset_index(drop=True))
    model_classes = [str(c) for c in model.classes_]
    out = examples[KEEP].reset_index(drop=True).copy()
    out["pred"] = np.asarray(model_classes)[proba.argmax(axis=1)]
    for k, c in enumerate(model_classes):
        out[f"prob_{c}"] = proba[:, k]
    out["split"] = "test"
    metrics = evaluate_predictions(out, classes, by_target=task == "stance")["test"]
    groups = out["cluster_id"].astype(str)
    metrics["ci"] = score_intervals(out, classes, task, seed)
    metrics["ci_resampled"] = {"unit": "story cluster", "groups": int(groups.nunique()),
                               "documents": int(out["doc_id"].nunique())}
    metrics["calibration"] = calibration(*probability_matrix(out))
    if majority_label is not None:
        m = classification_metrics(out["label"], [majority_label] * len(out), classes)
        metrics["majority_baseline"] = {"label": majority_label, "accuracy": m["accuracy"], "macro_f1": m["macro_f1"]}
    return out.drop(columns=["split"]), metrics


def evaluate_file(run_dir: Path, file: Path, out: Path, overrides: list[str] | None = None,
                  rows_are: str | None = None, annotations: str | None = None,
                  say: Any = print) -> dict[str, Any]:
    """Score the run's model on a labelled FILE; write metrics.json and predictions.parquet to
    `out` (a new folder). Returns the metrics. Bad input raises StanceError before `out` exists."""
    started = time.perf_counter()
    cfg, record = load_run(run_dir, list(overrides or []))
    if out.exists():
        raise StanceError(f"{out}: exists; choose a new --out (nothing is overwritten)")
    staging = out.with_name(out.name + ".partial")
    if staging.exists():
        raise StanceError(f"{staging}: left by an interrupted evaluation; remove it or choose a new --out")
    report = IngestReport()
    paragraphs, examples = gold_examples(cfg, file, rows_are, annotations, report)
    classes = cfg.label_schema.classes_for(cfg.task)
    # The model stance.predict uses for a holdout run, its files checked against run.json.
    model = load_model(run_dir / record["primary_model"], expected=model_hashes(record, record["primary_model"]))
    unseen = check_run_classes(examples, classes, model.classes_, file)
    fits = record.get("fits") or {}
    first_fit = fits.get(Path(record["primary_model"]).parent.name, {})
    predictions, metrics = score_file(examples, model, classes, cfg.task, cfg.seed,
                                      first_fit.get("train_majority_label"))
    source = resolve_data_path(str(file))
    metrics = {
        "run": str(run_dir), "run_id": record["run_id"], "task": cfg.task, "model": record["primary_model"],
        "file": str(file), "file_sha256": file_sha256(source) if source.is_file() else None,
        "annotations": ({"file": annotations, "sha256": file_sha256(resolve_annotations_path(annotations))}
                        if annotations else None),
        "data": cfg.data.model_dump(mode="json") | {"path": str(file)} | ({"rows_are": rows_are} if rows_are else {}),
        "paragraphs": int(paragraphs["paragraph_id"].nunique()), "examples": len(examples),
        "classes_unseen_in_training": unseen,
        "problems": [{"where": w, "why": why} for w, why in report.skipped],
        "evaluated": now(), **metrics}
    staging.mkdir(parents=True)
    try:
        files.write_json(staging / "metrics.json", metrics)
        files.write_parquet(staging / "predictions.parquet", predictions)
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    ci = metrics["ci"]["macro_f1"]
    say(f"stance.evaluate: {record['run_id']} ({cfg.task}) on {file}: {len(examples)} examples in "
        f"{metrics['paragraphs']} paragraphs")
    say(f"  macro-F1 {metrics['macro_f1']:.3f} 95% CI [{ci['low']:.3f}, {ci['high']:.3f}]  accuracy "
        f"{metrics['accuracy']:.3f}  (bootstrap over {metrics['ci_resampled']['groups']} story clusters), "
        f"ECE {metrics['calibration']['ece']:.3f}")
    for line in score_lines({"test": metrics}, "test", cfg.evaluation.metric):
        say(line.replace("  test ", "  ", 1))
    if "majority_baseline" in metrics:
        say(f"  majority-class floor ({metrics['majority_baseline']['label']}): macro-F1 "
            f"{metrics['majority_baseline']['macro_f1']:.3f}")
    if unseen:
        say(f"  warning: classes {unseen} never occurred in the run's training data; the model cannot predict them")
    for item in metrics["problems"][:10]:
        say(f"  problem: {item['where']}: {item['why']}")
    say(f"  wrote {out}/metrics.json and predictions.parquet in {time.perf_counter() - started:.1f} s")
    return metrics


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m stance.evaluate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", help="a run folder made by stance.train, or a config (its newest complete run)")
    parser.add_argument("file", help="a labelled table (or pages folder with --annotations) of the run's shape")
    parser.add_argument("--out", required=True, help="new folder for metrics.json and predictions.parquet")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="data.KEY=VALUE",
                        help="how FILE differs from the training data, e.g. --set data.columns.text=body (repeatable)")
    parser.add_argument("--rows-are", choices=["paragraphs", "documents"],
                        help="each row of FILE is a paragraph or a whole document (targets' offsets then point "
                             "into the document)")
    parser.add_argument("--annotations", help="stand-off gold labels (paragraph_id, text_sha1, labels) for FILE")
    return parser


@cli_entry
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    evaluate_file(resolve_run(args.run), Path(args.file), Path(args.out), args.overrides, args.rows_are, args.annotations)
    return 0


if __name__ == "__main__":
    sys.exit(main())
