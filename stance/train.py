"""`python -m stance.train CONFIG [--set key=value ...]`: train, evaluate and record one run.

Steps: validate the config -> ingest the data -> build task examples -> split by story
cluster -> fit (selecting hyperparameters on the validation split) -> evaluate on validation
and test -> write the run directory. Bad input fails before anything is written.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import yaml

from stance import files
from stance.annotate.examples import build_examples
from stance.annotate.standoff import attach_standoff, resolve_annotations_path
from stance.config import TrainConfig, load_config
from stance.corpus.ingest import PAGE_SUFFIXES, ingest, resolve_data_path
from stance.errors import StanceError, cli_entry
from stance.evaluate import classification_metrics, f_avg, majority_baseline, run_metrics, score_lines
from stance import models
from stance.models import build_model, check_model_config, fit_model, save_model, tune_grid, verify_model_files
from stance.progress import bar, set_quiet
from stance.runs import (begin_run, checked_output_dir, environment, file_sha256, finish_run, now, previous_runs,
                         RECORDED_FILES, release_lock, run_id_for, unit_name)
from stance.splits import assign_splits, attach_split, fold_keys

FEATURE_COLUMNS = ["text", "target", "target_spans"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m stance.train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("config", help="YAML config, e.g. configs/base.yaml")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value, e.g. --set model.classifier=linear_svm (repeatable)")
    parser.add_argument("--resume", action="store_true", help="finish an interrupted run of this config")
    parser.add_argument("--fresh", action="store_true", help="discard an interrupted run of this config and redo it")
    parser.add_argument("--quiet", action="store_true", help="print only the run directory")
    return parser


@cli_entry
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    cfg = load_config(args.config, args.overrides)
    set_quiet(args.quiet)
    say = (lambda *a, **k: None) if args.quiet else print
    run_dir = train(cfg, resume=args.resume, fresh=args.fresh, say=say)
    if args.quiet:
        print(run_dir)
    return 0


def data_sources(path: Path) -> list[dict[str, str]]:
    sources = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in PAGE_SUFFIXES) \
        if path.is_dir() else [path]
    return [{"file": str(p), "sha256": file_sha256(p)} for p in sources]


def metadata_source(name: str | None) -> dict[str, str] | None:
    """The metadata sidecar's file and hash: outlets and dates it fills decide outlet splits."""
    if not name:
        return None
    from stance.corpus.metadata import resolve_metadata_path

    path = resolve_metadata_path(name)
    return {"file": str(path), "sha256": file_sha256(path)}


def annotation_source(name: str | None) -> dict[str, str] | None:
    if not name:
        return None
    path = resolve_annotations_path(name)
    return {"file": str(path), "sha256": file_sha256(path)}


# Every column a split or a fit can depend on: ids (doc ids group paragraphs), story clusters,
# outlets (group_by: outlet), dates (method: time), text, targets and labels.
FINGERPRINT_COLUMNS = ["example_id", "paragraph_id", "doc_id", "cluster_id", "outlet", "date", "text", "target",
                       "target_spans", "label"]


def examples_fingerprint(examples: pd.DataFrame) -> str:
    """SHA-256 (hex) of every column a split or a fit can depend on (FINGERPRINT_COLUMNS), row by
    row: the run's data fingerprint, recorded in run.json and the model card."""
    digest = hashlib.sha256()
    columns = [c for c in FINGERPRINT_COLUMNS if c in examples]
    digest.update("\x1f".join(columns).encode("utf-8"))
    for row in examples[columns].itertuples(index=False):
        digest.update("\x1f".join(map(str, row)).encode("utf-8"))
        digest.update(b"\x1e")
    return digest.hexdigest()


def warn_sparse_classes(examples: pd.DataFrame, classes: list[str], cfg: TrainConfig,
                        say: Callable[..., None]) -> dict[str, int]:
    """Warn, with counts, about classes too rare for the split: with fewer examples than folds
    some fold models never see the class (their probability for it is 0) and per-fold scores
    leave it out. Returns {class: count} of the classes warned about."""
    counts = examples["label"].astype(str).value_counts()
    need = cfg.split.folds if cfg.split.method == "kfold" else 2
    sparse = {c: int(counts.get(c, 0)) for c in classes if counts.get(c, 0) < need}
    if sparse:
        listed = ", ".join(f"{c}: {n}" for c, n in sparse.items())
        whole = ", ".join(f"{c}: {int(counts.get(c, 0))}" for c in classes)
        say(f"  WARNING: classes with fewer examples than {'the ' + str(need) + ' folds' if need > 2 else 'two'} "
            f"({listed}; all classes: {whole}): some fits never see them, their probability is 0 there, "
            "and scores over folds leave them out; corrected shares for them will be refused by stance.report")
    return sparse


def check_trainable(examples: pd.DataFrame, task: str) -> None:
    train_labels = examples.loc[examples["split"] == "train", "label"]
    if train_labels.nunique() < 2:
        only = train_labels.iloc[0] if len(train_labels) else "none"
        raise StanceError(f"the training split has one {task} class only ({only!r}); a classifier needs "
                          "two or more: add labelled data or check data.labels")
    if (examples["split"] == "test").sum() == 0:
        raise StanceError("the test split is empty: add data or raise split.test_size")


def features(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[FEATURE_COLUMNS].reset_index(drop=True)


TIE_BREAK = "the first tied grid point in the order the config lists the values"


def grid_choice(grid: dict[str, list[Any]], points: list[dict[str, Any]], scores: list[float],
                chosen: int) -> dict[str, Any]:
    """What the grid search chose and why: every point's validation macro-F1, the selected
    point, the points that tied with it and how the tie was broken, and a warning for each
    tuned value that won at the edge of its grid (the optimum may lie beyond it)."""
    best = scores[chosen]
    ties = [points[i] for i, score in enumerate(scores) if i != chosen and score == best]
    warnings = []
    for key, values in grid.items():
        numeric = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
        value = points[chosen][key]
        # An edge value that won only by the tie-break (an inner value scored the same) is no sign
        # that the grid is too narrow.
        tied_values = {p[key] for p in ties}
        if len(set(numeric)) >= 2 and len(numeric) == len(values) and value in (min(numeric), max(numeric)) \
                and tied_values <= {value}:
            side = "smallest" if value == min(numeric) else "largest"
            warnings.append(f"model.tune.{key}: the {side} value {value!r} of {values} won; the best value may lie "
                            "beyond the grid, widen it")
    if ties:
        warnings.append(f"{len(ties)} other grid point(s) tied on validation macro-F1 {best:.4f}: {ties}; "
                        f"kept {points[chosen]} ({TIE_BREAK})")
    return {"criterion": "validation macro-F1", "grid": grid, "selected": points[chosen],
            "selected_val_macro_f1": best, "points": [{"params": p, "val_macro_f1": s} for p, s in zip(points, scores)],
            "ties": ties, "tie_break": TIE_BREAK if ties else None, "warnings": warnings}


def fit_with_tuning(cfg: TrainConfig, train: pd.DataFrame, val: pd.DataFrame, seed: int, work_dir: Path,
                    say: Callable[..., None]) -> tuple[Any, pd.DataFrame, dict[str, Any]]:
    """Fit every grid point on train, keep the best by validation macro-F1 (first on ties).

    Models whose fit takes an `eval_set` (transformers) select their best epoch on the
    validation split themselves and checkpoint into `work_dir`. The returned info holds
    `choices`: the grid point kept, ties and how they were broken, the best epoch, and warnings
    (an edge value of the grid won; the best epoch was the last).
    """
    grid = tune_grid(cfg.model)  # {} for a kind that tunes itself (setfit's head) or has no grid
    keys = list(grid)
    combos = list(itertools.product(*(grid[k] for k in keys))) or [()]
    if len(combos) > 1 and val.empty:
        raise StanceError("model.tune needs a validation split: set split.val_size above 0")
    classes = cfg.label_schema.classes_for(cfg.task)
    metric = cfg.evaluation.metric
    rows, best, best_score, best_info = [], None, -1.0, {}
    points, scores, chosen = [], [], 0
    for combo in bar(combos, desc="tune grid", unit="point", show=len(combos) > 1):
        params = dict(zip(keys, combo))
        model_cfg = cfg.model.grid_point(params) if params else cfg.model
        started = time.perf_counter()
        # The transformer picks its best epoch by evaluation.metric too.
        model = fit_model(model_cfg, build_model(model_cfg, cfg.task, seed), features(train), train["label"].to_numpy(),
                          eval_set=(features(val), val["label"].to_numpy()) if not val.empty else None,
                          work_dir=work_dir, progress=lambda message: say(f"    {message}"), metric=metric)
        fit_seconds = time.perf_counter() - started
        info = {"fit_seconds": round(fit_seconds, 3), "train_examples": len(train),
                "examples_per_second": round(len(train) / fit_seconds, 2) if fit_seconds > 0 else None,
                **getattr(model, "fit_info_", {})}
        score = selection_score(val["label"], model.predict(features(val)), classes, metric) \
            if not val.empty else float("nan")
        rows.append({**{k: str(v) for k, v in params.items()}, "val_macro_f1": score,
                     "fit_seconds": round(fit_seconds, 3)})
        if len(combos) > 1:
            say(f"  tune {params}: val {'F_avg' if metric == 'f_avg' else 'macro-F1'} {score:.3f}")
        points.append(params)
        scores.append(score)
        if best is None or score > best_score:
            best, best_score, best_info, chosen = model, score, info, len(points) - 1
    choices: dict[str, Any] = {"grid": grid_choice(grid, points, scores, chosen) if len(combos) > 1 else None}
    epoch_keys = ("best_epoch", "selection_metric", "val_macro_f1_by_epoch", "val_f_avg_by_epoch", "best_epoch_ties",
                  "best_epoch_tie_break", "epochs_planned", "stopped_early")
    if "best_epoch" in best_info:
        choices["epoch"] = {k: best_info.pop(k) for k in epoch_keys if k in best_info}
    choices["warnings"] = (choices["grid"]["warnings"] if choices["grid"] else []) + best_info.pop("warnings", [])
    for warning in choices["warnings"]:
        say(f"  warning: {warning}")
    return best, pd.DataFrame(rows), {**best_info, "choices": choices}


def selection_score(gold: Any, predicted: Any, classes: list[str], metric: str) -> float:
    """The validation score that picks grid points: macro-F1, or F_avg (evaluation.metric)."""
    scores = classification_metrics(gold, predicted, classes)
    if metric == "f_avg":
        value = f_avg(scores)
        return 0.0 if value is None else value
    return scores["macro_f1"]


def aligned_proba(model: Any, X: pd.DataFrame, classes: list[str]) -> np.ndarray:
    """(n, len(classes)) probabilities in the schema's class order, whatever classes the model saw.

    A fold whose training part lacks a class has no output for it; its probability is 0, so every
    fit's predictions have the same columns (a missing column broke reports and averaging)."""
    proba = np.asarray(model.predict_proba(X), dtype=float)
    seen = [str(c) for c in model.classes_]
    out = np.zeros((proba.shape[0], len(classes)))
    for k, c in enumerate(seen):
        if c in classes:
            out[:, classes.index(c)] = proba[:, k]
    return out


def predict_frame(model: Any, part: pd.DataFrame, classes: list[str] | None = None) -> pd.DataFrame:
    """Predictions with one `prob_<class>` column per class of `classes` (default: the model's)."""
    classes = classes if classes is not None else [str(c) for c in model.classes_]
    proba = aligned_proba(model, features(part), classes)
    out = part[["example_id", "paragraph_id", "cluster_id", "outlet", "target", "split", "label"]]
    out = out.reset_index(drop=True).copy()
    out["pred"] = [classes[i] for i in proba.argmax(axis=1)]
    for k, c in enumerate(classes):
        out[f"prob_{c}"] = proba[:, k]
    return out


def train_one_unit(cfg: TrainConfig, examples: pd.DataFrame, repeat: int, fold: int, seed: int, staging: Path,
                   say: Callable[..., None]) -> dict[str, Any]:
    """Fit, predict and save one (fold, seed); `fit.json` is written last and marks it done."""
    name = unit_name(repeat, fold, seed)
    folder = staging / "fits" / name
    if (folder / "fit.json").is_file():
        done = files.read_json(folder / "fit.json", "a finished fit's record")
        try:
            verify_model_files(folder / "model", done.get("model_files") or {"(no record)": ""})
            say(f"  {name}: already done, kept")
            return done
        except StanceError as exc:
            say(f"  {name}: {exc}; fitting it again")
    say(f"  {name}: fitting {cfg.model.kind} (repeat {repeat}, fold {fold}, seed {seed})")
    train_part = examples[examples["split"] == "train"]
    val_part = examples[examples["split"] == "val"]
    test_part = examples[examples["split"] == "test"]
    checkpoints = staging / "checkpoints" / name
    model, tuning, info = fit_with_tuning(cfg, train_part, val_part, seed, checkpoints, say)
    classes = cfg.label_schema.classes_for(cfg.task)
    predictions = pd.concat([predict_frame(model, part, classes) for part in (val_part, test_part) if not part.empty],
                            ignore_index=True)
    predictions.insert(0, "seed", seed)
    predictions.insert(0, "fold", fold)
    predictions.insert(0, "repeat", repeat)
    majority = majority_baseline(train_part["label"], test_part["label"], cfg.label_schema.classes_for(cfg.task))
    # Which targets the model saw labels for: stance.predict flags predictions for any other.
    targets = {"train_targets": {str(t): int(n) for t, n in train_part["target"].value_counts().sort_index().items()}} \
        if cfg.task == "stance" else {}
    model_hashes = save_model(model, folder / "model", cfg.model.kind, cfg.task,
                              {"seed": seed, "repeat": repeat, "fold": fold, "feature_columns": FEATURE_COLUMNS,
                               **targets})
    files.write_csv(folder / "tuning.csv", tuning)
    files.write_parquet(folder / "predictions.parquet", predictions)
    files.write_json(folder / "fit.json", {"unit": name, "repeat": repeat, "fold": fold, "seed": seed,
                                           "train_majority_label": majority["label"], **info,
                                           "model_files": model_hashes})
    # Checkpoints hold optimizer state (about three times the model); the saved model replaces them.
    shutil.rmtree(checkpoints, ignore_errors=True)
    return files.read_json(folder / "fit.json", "a finished fit's record")


def split_fingerprint(assignment: pd.DataFrame) -> str:
    return hashlib.sha256(assignment.to_csv(index=False).encode("utf-8")).hexdigest()


def check_resumable(staging: Path, data: dict[str, Any]) -> None:
    """Resuming on different data would mix two experiments in one run folder: refuse any
    change in the source files, the annotations, the examples (every column a split or fit
    uses) or the split itself."""
    earlier = staging / "run.json"
    if not earlier.is_file():
        return  # killed before its record was written: nothing was fitted yet
    previous = files.read_json(earlier, "the interrupted run's record")
    before = previous.get("data") if isinstance(previous, dict) else None
    if not isinstance(before, dict):
        raise StanceError(f"{earlier}: no data record; pass --fresh to discard the interrupted run and start again")
    changed = [what for key, what in (("sources", "the data files' SHA-256"), ("annotations", "the annotations file"),
                                      ("metadata", "the metadata sidecar"), ("fingerprint", "the examples (ids, clusters, outlets, dates, text or labels)"),
                                      ("split_fingerprint", "the split"))
               if before.get(key) != data.get(key)]
    if changed:
        raise StanceError(f"{staging}: the data changed since this run was interrupted ({', '.join(changed)}); "
                          "resuming would mix two experiments: pass --fresh to discard it and start again")


def train(cfg: TrainConfig, resume: bool = False, fresh: bool = False,
          say: Callable[..., None] = print) -> Path:
    """Train and test one run of `cfg`; returns the finished run folder
    (`<output_dir>/<name>-<hash8>[-n]`).

    Bad input (data, labels, split, model settings, a missing pretrained model) raises
    StanceError before the folder exists. `resume` finishes an interrupted run of the same
    config (fits already done are kept; changed data is refused), `fresh` discards it. `say`
    gets the progress lines printed by `stance train`.
    """
    started = time.perf_counter()
    config_hash = cfg.config_hash()
    run_id = run_id_for(cfg.name, config_hash)
    output_dir = checked_output_dir(cfg.output_dir)
    schema, task = cfg.label_schema, cfg.task
    classes = schema.classes_for(task)
    seeds = cfg.model_seeds()
    label = getattr(cfg.model, "classifier", None) or getattr(cfg.model, "model", None)
    say(f"stance.train: {cfg.name} ({task}, {cfg.model.kind}{' ' + str(label) if label else ''}) -> run {run_id}")

    # Everything that can fail on bad input happens before the run folder exists. The model's
    # checks first (a grid point, a value the model library would refuse, a missing or broken
    # pretrained model, a device or precision this machine lacks): they are quicker than the data's.
    check_model_config(cfg.model)
    data_path = resolve_data_path(cfg.data.path)
    paragraphs = ingest(cfg.data, cfg.corpus, schema)
    if cfg.data.annotations:
        paragraphs = attach_standoff(paragraphs, resolve_annotations_path(cfg.data.annotations))
    examples = build_examples(paragraphs, task, schema, getattr(cfg.data.labels, task), cfg.data.labels.values)
    assignment = assign_splits(examples, cfg.split, cfg.seed)
    keys = fold_keys(assignment)
    for repeat, fold in keys:
        check_trainable(attach_split(examples, assignment, repeat, fold), task)
    sizes = attach_split(examples, assignment, *keys[0])["split"].value_counts().to_dict()
    folds = f"{cfg.split.folds} folds x {cfg.split.repeats} repeats, fold 1: " if cfg.split.method == "kfold" else ""
    say(f"  data: {len(paragraphs)} paragraphs, {len(examples)} {task} examples ({cfg.split.method}, {folds}"
        f"train {sizes.get('train', 0)} / val {sizes.get('val', 0)} / test {sizes.get('test', 0)}), "
        + (f"{paragraphs['cluster_id'].nunique()} story clusters, grouped by {cfg.split.group_by}"
           if cfg.split.method != "files" else "split as given by data.split_files"))
    warn_sparse_classes(examples, classes, cfg, say)
    fingerprint = examples_fingerprint(examples)

    data_record = {"path": str(data_path), "sources": data_sources(data_path),
                   "annotations": annotation_source(cfg.data.annotations),
                   "metadata": metadata_source(cfg.data.metadata),
                   "paragraphs": len(paragraphs), "examples": len(examples), "fingerprint": fingerprint,
                   "split_fingerprint": split_fingerprint(assignment)}

    earlier = previous_runs(output_dir, run_id)
    staging = begin_run(output_dir, run_id, resume=resume, fresh=fresh)
    try:
        if resume:
            check_resumable(staging, data_record)
        return _train_in(staging, cfg, run_id, config_hash, output_dir, examples, assignment, keys, sizes,
                         data_record, earlier, started, say)
    except BaseException:
        release_lock(staging)  # a later attempt in this process may resume it
        raise


def fit_units(cfg: TrainConfig, examples: pd.DataFrame, assignment: pd.DataFrame, keys: list[tuple[int, int]],
              staging: Path, say: Callable[..., None]) -> dict[str, dict[str, Any]]:
    """Fit every (repeat, fold) x model seed of the run (fits already done are kept); returns
    each fit's record (`fit.json`) by unit name, in order."""
    fits = {}
    units = bar(total=len(keys) * len(cfg.model_seeds()), desc="fits", unit="fit")
    for repeat, fold in keys:
        unit_examples = attach_split(examples, assignment, repeat, fold)
        for seed in cfg.model_seeds():
            fits[unit_name(repeat, fold, seed)] = train_one_unit(cfg, unit_examples, repeat, fold, seed, staging, say)
            units.update()
    units.close()
    return fits


def _train_in(staging: Path, cfg: TrainConfig, run_id: str, config_hash: str, output_dir: Path,
              examples: pd.DataFrame, assignment: pd.DataFrame, keys: list[tuple[int, int]], sizes: dict[str, int],
              data_record: dict[str, Any], earlier: list[Path], started: float, say: Callable[..., None]) -> Path:
    task, classes, seeds = cfg.task, cfg.label_schema.classes_for(cfg.task), cfg.model_seeds()
    record: dict[str, Any] = {
        "run_id": run_id, "status": "running", "name": cfg.name, "task": task,
        "config_hash": config_hash, "seed": cfg.seed, "seeds": seeds, "started": now(),
        "environment": environment(),
        "data": data_record,
        "split": {"method": cfg.split.method, "group_by": cfg.split.group_by, "folds": len(keys),
                  "sizes_first_fold": {k: int(v) for k, v in sizes.items()},
                  "groups": int(assignment["group"].nunique())},
    }
    files.write_text(staging / "config.yaml", yaml.safe_dump(cfg.canonical(), sort_keys=False, allow_unicode=True))
    files.write_json(staging / "run.json", record)
    files.write_csv(staging / "split.csv", assignment)

    fits = fit_units(cfg, examples, assignment, keys, staging, say)
    predictions = pd.concat([files.read_parquet(staging / "fits" / unit / "predictions.parquet", "a fit's predictions file")
                             for unit in fits],
                            ignore_index=True)
    majority = {(f["repeat"], f["fold"]): f["train_majority_label"] for f in fits.values()}
    metrics = run_metrics(predictions, classes, task, majority, seed=cfg.seed, headline=cfg.evaluation.metric)
    files.write_parquet(staging / "predictions.parquet", predictions)
    files.write_json(staging / "metrics.json", metrics)
    shutil.rmtree(staging / "checkpoints", ignore_errors=True)
    record.update(status="complete", finished=now(), seconds=round(time.perf_counter() - started, 2),
                  same_config_as=[p.name for p in earlier],
                  models={unit: f"fits/{unit}/model" for unit in fits}, primary_model=f"fits/{next(iter(fits))}/model",
                  # Checked before any model is loaded (stance.models.load_model).
                  model_files={f"fits/{unit}/model/{name}": digest for unit, fit in fits.items()
                               for name, digest in fit["model_files"].items()},
                  fits={unit: {k: v for k, v in fit.items() if k not in ("log", "model_files")}
                        for unit, fit in fits.items()})
    files.write_text(staging / "README.md", model_card(cfg, record, metrics))
    # Checked by every reader (stance.runs.run_file): a damaged or altered file is refused by name.
    record["files"] = {name: file_sha256(staging / name) for name in RECORDED_FILES}
    files.write_json(staging / "run.json", record)
    run_dir = finish_run(staging, output_dir, run_id)
    say_scores(metrics, n_fits=len(fits), say=say, metric=cfg.evaluation.metric)
    if earlier:
        kept = "both" if len(earlier) == 1 else f"all {len(earlier) + 1}"
        say(f"  same config as {', '.join(p.name for p in earlier)}: kept {kept}")
    say(f"  wrote {run_dir} in {time.perf_counter() - started:.1f} s")
    return run_dir


def say_scores(metrics: dict[str, Any], n_fits: int, say: Callable[..., None], metric: str = "macro_f1") -> None:
    """The run's headline scores for the terminal: pooled test macro-F1 and accuracy with the
    majority-class floor, the CI and ECE, the spread over fits, and a warning at the floor."""
    test = metrics.get("test", {})
    say(f"  test macro-F1 {test.get('macro_f1', float('nan')):.3f}  accuracy {test.get('accuracy', float('nan')):.3f}"
        f"  (majority-class baseline macro-F1 {metrics['majority_baseline_test']['macro_f1']:.3f})")
    ci = metrics["test"]["ci"]["macro_f1"]
    say(f"  test macro-F1 95% CI [{ci['low']:.3f}, {ci['high']:.3f}] (bootstrap over story clusters), "
        f"ECE {metrics['test']['calibration']['ece']:.3f}")
    for line in score_lines(metrics, "test", metric):
        say(line)
    if n_fits > 1:
        s = metrics["summary"]["test"]["macro_f1"]
        say(f"  test macro-F1 over {s['n']} fits (folds x repeats x seeds): {s['mean']:.3f} +- {s['sd']:.3f} "
            "(each fit scored on the classes its own test items hold; the pooled score above is the headline)")
    floor = metrics["majority_baseline_test"]["macro_f1"]
    if test.get("macro_f1", float("nan")) <= floor + 1e-9:
        say(f"  WARNING: pooled test macro-F1 {test['macro_f1']:.3f} is at or below the majority-class baseline "
            f"{floor:.3f}: the model has learned nothing beyond predicting the majority class "
            f"({metrics['majority_baseline_test']['label']!r})")
    if "val" in metrics:
        say(f"  val  macro-F1 {metrics['val']['macro_f1']:.3f}")


def choices_section(fits: dict[str, Any]) -> list[str]:
    """Model-card lines: per fit, the grid point kept (and ties), the best epoch, and warnings."""
    lines: list[str] = []
    for unit, fit in fits.items():
        choices = fit.get("choices") or {}
        parts = []
        if choices.get("grid"):
            grid = choices["grid"]
            parts.append(f"grid point {grid['selected']} (val macro-F1 {grid['selected_val_macro_f1']:.3f} over "
                         f"{len(grid['points'])} points" + (f"; {len(grid['ties'])} tied, {grid['tie_break']}"
                                                            if grid["ties"] else "") + ")")
        if choices.get("epoch"):
            epoch = choices["epoch"]
            evaluated = epoch.get("val_macro_f1_by_epoch") or epoch.get("val_f_avg_by_epoch") or {}
            parts.append(f"best epoch {epoch['best_epoch']:g} of {len(evaluated)} evaluated"
                         + (" (stopped early)" if epoch.get("stopped_early") else ""))
        if parts or choices.get("warnings"):
            lines.append(f"- `{unit}`: " + ("; ".join(parts) or "no choice made"))
            lines += [f"  - warning: {w}" for w in choices.get("warnings", [])]
    if lines:
        lines = ["", "Choices made on the validation split (all in each fit's `fit.json` → `choices`):", ""] + lines
    return lines


def describe_model(cfg: TrainConfig) -> str:
    return models.describe_model(cfg.model)


INTENDED_USE = (
    "Research on news coverage: label paragraphs of a corpus like the training data, then estimate {task} "
    "shares per outlet, period or story with `stance report`, which corrects the shares for this model's "
    "errors (PACC, ACC, PPI) and gives every estimate an interval. Read single predictions as noisy.")
LIMITS = [
    "Single predictions err (test macro-F1 {f1:.3f}, 95% CI [{low:.3f}, {high:.3f}], on held-out data like the "
    "training data): do not judge an article, author or outlet by individual predictions, and do not use the model "
    "for moderation or any decision about a person.",
    "Scores hold for data like the training data ({data}, {examples} examples, {groups} groups by {group_by}); on "
    "other outlets, periods or languages they are unknown until measured (`stance evaluate RUN FILE`).",
    "Classes with few training examples are predicted poorly or never; see the per-class scores.",
    "The labels reflect the codebook and its annotators (docs/codebook.md); other definitions of {task} differ.",
]


def card_metadata(cfg: TrainConfig, record: dict[str, Any], metrics: dict[str, Any]) -> Any:
    """Hugging Face model-card metadata (`huggingface_hub.ModelCardData`, the YAML header of the
    run's README.md): task, labels, data fingerprint, scores with their 95% intervals as a
    model-index, intended use and limits. Built offline; nothing is sent to the Hub."""
    from huggingface_hub import EvalResult, ModelCardData

    data = record["data"]
    dataset = Path(data["path"]).name or data["path"]
    results, scored = [], []
    for split in ("test", "val"):
        if split not in metrics:
            continue
        m = metrics[split]
        for key, metric_type, name in (("macro_f1", "f1", "macro-F1"), ("accuracy", "accuracy", "accuracy")):
            results.append(EvalResult(task_type="text-classification", task_name=cfg.task,
                                      dataset_type="stance-corpus", dataset_name=dataset, dataset_split=split,
                                      metric_type=metric_type, metric_name=name, metric_value=float(m[key]),
                                      metric_args={"average": "macro"} if key == "macro_f1" else None))
            ci = (m.get("ci") or {}).get(key, {})
            scored.append({"split": split, "metric": name, "value": float(m[key]), "low": ci.get("low"),
                           "high": ci.get("high"), "n": int(m["n"])})
    test_ci = metrics["test"]["ci"]["macro_f1"]
    limits = [line.format(f1=metrics["test"]["macro_f1"], low=test_ci["low"], high=test_ci["high"],
                          data=dataset, examples=data["examples"], groups=record["split"]["groups"],
                          group_by=cfg.split.group_by, task=cfg.task) for line in LIMITS]
    return ModelCardData(
        model_name=record["run_id"], library_name="stance", pipeline_tag="text-classification", language="en",
        tags=["stance", cfg.task, cfg.model.kind, "news"], metrics=["f1", "accuracy"], eval_results=results,
        stance={"task": cfg.task, "labels": [str(c) for c in cfg.label_schema.classes_for(cfg.task)],
                "targets": list(cfg.label_schema.actors) if cfg.task == "stance" else None,
                "model": describe_model(cfg), "config_hash": record["config_hash"],
                "data": {"path": data["path"], "fingerprint": data["fingerprint"],
                         "split_fingerprint": data["split_fingerprint"], "examples": data["examples"]},
                "metrics": scored,
                "interval": "95% bootstrap over story clusters (reprints are not independent)",
                "majority_baseline_macro_f1": metrics["majority_baseline_test"]["macro_f1"],
                "intended_use": INTENDED_USE.format(task=cfg.task), "limitations": limits})


def model_card(cfg: TrainConfig, record: dict[str, Any], metrics: dict[str, Any]) -> str:
    """The run's README.md: Hugging Face model-card metadata (`card_metadata`) over the text."""
    from huggingface_hub import ModelCard

    meta = card_metadata(cfg, record, metrics)
    body = card_text(cfg, record, metrics, meta.stance)
    return str(ModelCard(f"---\n{meta.to_yaml()}\n---\n{body}"))


def card_text(cfg: TrainConfig, record: dict[str, Any], metrics: dict[str, Any], meta: dict[str, Any]) -> str:
    seeds, split = metrics["seeds"], record["split"]
    how = (f"{cfg.split.folds}-fold cross-validation x {cfg.split.repeats} repeats"
           if cfg.split.method == "kfold" else f"a {cfg.split.method} split")
    lines = [f"# {record['run_id']}", "",
             f"Task **{cfg.task}**, {describe_model(cfg)}; split seed {cfg.seed}, model seeds "
             f"{', '.join(map(str, seeds))}.", "",
             f"Data: `{record['data']['path']}`, {record['data']['examples']} examples in {split['groups']} groups "
             f"({cfg.split.group_by}), evaluated by {how}.", "",
             f"Headline scores: model seed {seeds[0]}"
             + (", test predictions pooled over the folds of repeat 1" if cfg.split.method == "kfold" else "")
             + ". The CI is a 95% bootstrap over story clusters.", "",
             "| split | n | macro-F1 | 95% CI | accuracy |", "|---|---|---|---|---|"]
    for name in ("val", "test"):
        if name in metrics:
            m = metrics[name]
            ci = f"[{m['ci']['macro_f1']['low']:.3f}, {m['ci']['macro_f1']['high']:.3f}]" if "ci" in m else ""
            lines.append(f"| {name} | {m['n']} | {m['macro_f1']:.3f} | {ci} | {m['accuracy']:.3f} |")
    if len(metrics["units"]) > 1:
        lines += ["", f"Over {len(metrics['units'])} fits (folds x repeats x seeds), mean +- sd:", ""]
        for name, scores in metrics["summary"].items():
            lines.append(f"- {name}: macro-F1 {scores['macro_f1']['mean']:.3f} +- {scores['macro_f1']['sd']:.3f}, "
                         f"accuracy {scores['accuracy']['mean']:.3f} +- {scores['accuracy']['sd']:.3f}")
    lines += [f"\n{line.strip()}." for name in ("val", "test")
              for line in score_lines(metrics, name, cfg.evaluation.metric)]
    base = metrics["majority_baseline_test"]
    lines += ["", f"Majority-class baseline on test ({base['label']}): macro-F1 {base['macro_f1']:.3f}. "
              f"Expected calibration error on test: {metrics['test']['calibration']['ece']:.3f}.", "",
              "Per-class scores on test:", "", "| class | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    for c, s in metrics.get("test", {}).get("per_class", {}).items():
        lines.append(f"| {c} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | {s['support']} |")
    lines += choices_section(record.get("fits", {}))
    lines += ["", "## Intended use", "", meta["intended_use"], "", "## Limitations", ""]
    lines += [f"- {line}" for line in meta["limitations"]]
    lines += ["", f"Data fingerprint (SHA-256 of the examples): `{meta['data']['fingerprint']}`.", "",
              "Files: `config.yaml` (resolved config), `run.json` (environment, data fingerprint, fit times), "
              "`split.csv` (one row per paragraph and fold), `metrics.json`, `predictions.parquet` (every fit: "
              "`repeat`, `fold`, `seed` columns), and per fit `fits/r<repeat>-f<fold>-s<seed>/` with `model/`, "
              "`tuning.csv`, `fit.json`. `stance.predict` uses the first fit's model; for a cross-validated run, "
              "the average of the probabilities of the first seed's fold models of repeat 1 (the models whose "
              "out-of-fold predictions stance.report uses as its calibration set).", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
