"""Are the report's 95% intervals 95% intervals? Coverage under the artificial-prevalence protocol.

    python benchmarks/coverage.py                      # example corpus, seed gold set, NewsMTSC
    python benchmarks/coverage.py --reps 40 --data example   # quicker

For each labelled data set, out-of-sample probabilities come from the data set's own config
(TF-IDF + logistic regression): 5-fold cross-validation grouped by story cluster, or for
NewsMTSC the given files (trained on train.jsonl, the pool is both dev files); the pool is cached
in build/coverage-pools/. Then, per calibration size m and sample size n, each replicate draws m
calibration items at random, and a target sample of n items from the rest, without replacement,
with class shares drawn uniformly from the simplex (the artificial-prevalence protocol of the
quantification literature), and estimates its shares with
CC, ACC, PACC (stance.quantify, as the report does), PPI++ (an audit of min(m, n/2) random items
of the target sample) and QuaPy's KDEyML (point estimate only, in the first --kdey-reps
replicates: it is slow). Printed per data set, m, n and method: bias, mean absolute error, empirical coverage of the nominal 95% intervals (all
estimable, and those the report marks ok), mean width, and the share refused (not_estimable)
or flagged (unreliable). Written to benchmarks/coverage.csv.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
# This file's folder comes first on sys.path and its name would shadow the `coverage` package
# (which numba, imported under ppi_py, needs): put the repository there instead.
sys.path[:] = [str(REPO)] + [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from stance.annotate.examples import build_examples  # noqa: E402
from stance.annotate.standoff import attach_standoff, resolve_annotations_path  # noqa: E402
from stance.config import load_config  # noqa: E402
from stance.corpus.ingest import ingest  # noqa: E402
from stance.models import build_model  # noqa: E402
from stance.quantify import Settings, app_coverage, coverage_summary  # noqa: E402
from stance.splits import assign_splits, attach_split, fold_keys  # noqa: E402
from stance.train import FEATURE_COLUMNS, aligned_proba  # noqa: E402

DATA = {"example": ("configs/base.yaml", ["split.method=kfold", "split.folds=5", "split.val_size=0.0"]),
        "seeds": ("configs/seeds.yaml", ["split.repeats=1"]),
        "newsmtsc": ("configs/newsmtsc.yaml", [])}


def pool(name: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(classes, gold labels, out-of-sample probabilities) for one data set, cached in build/."""
    cache = REPO / "build" / "coverage-pools" / f"{name}.npz"
    if cache.is_file():
        saved = np.load(cache, allow_pickle=False)
        return [str(c) for c in saved["classes"]], saved["y"].astype(str), saved["proba"]
    classes, y, proba = fit_pool(name)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, classes=np.asarray(classes), y=y.astype(str), proba=proba)
    return classes, y, proba


def fit_pool(name: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    path, overrides = DATA[name]
    cfg = load_config(REPO / path, overrides)
    if cfg.model.kind == "tfidf" and cfg.model.tune:  # one fixed model: the pool must not be tuned on itself
        cfg = cfg.model_copy(update={"model": cfg.model.model_copy(update={"tune": {}, "C": 1.0})})
    paragraphs = ingest(cfg.data, cfg.corpus, cfg.label_schema)
    if cfg.data.annotations:
        paragraphs = attach_standoff(paragraphs, resolve_annotations_path(cfg.data.annotations))
    examples = build_examples(paragraphs, cfg.task, cfg.label_schema, getattr(cfg.data.labels, cfg.task),
                              cfg.data.labels.values)
    classes = cfg.label_schema.classes_for(cfg.task)
    assignment = assign_splits(examples, cfg.split, cfg.seed)
    labels, probas = [], []
    for repeat, fold in fold_keys(assignment):
        part = attach_split(examples, assignment, repeat, fold)
        train = part[part["split"] == "train"]
        held = part[part["split"].isin(["test"] if cfg.split.method == "kfold" else ["val", "test"])]
        model = build_model(cfg.model, cfg.task, cfg.seed).fit(train[FEATURE_COLUMNS].reset_index(drop=True),
                                                                train["label"].to_numpy())
        probas.append(aligned_proba(model, held[FEATURE_COLUMNS].reset_index(drop=True), classes))
        labels.append(held["label"].astype(str).to_numpy())
    return classes, np.concatenate(labels), np.vstack(probas)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", nargs="+", default=list(DATA), choices=list(DATA))
    parser.add_argument("--reps", type=int, default=100)
    parser.add_argument("--calibration", nargs="+", type=int, default=[25, 50, 100, 200, 400])
    parser.add_argument("--samples", nargs="+", type=int, default=[50, 200, 500])
    parser.add_argument("--n-boot", type=int, default=300)
    parser.add_argument("--kdey-reps", type=int, default=20, help="replicates that also run KDEyML (slow)")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "coverage.csv"))
    args = parser.parse_args(argv)
    rows = []
    for name in args.data:
        started = time.perf_counter()
        classes, y, proba = pool(name)
        shares = ", ".join(f"{c} {np.mean(y == c):.2f}" for c in classes)
        print(f"\n## {name}: pool of {len(y)} out-of-sample predictions ({shares}), "
              f"accuracy {np.mean(np.asarray(classes)[proba.argmax(1)] == y):.3f}, "
              f"{time.perf_counter() - started:.0f} s to fit", flush=True)
        for m in args.calibration:
            if m > len(y) // 2:
                print(f"  m = {m}: skipped, the pool has {len(y)} items")
                continue
            for n in args.samples:
                if n > len(y) - m:
                    print(f"  m = {m}, n = {n}: skipped, {len(y) - m} items are left for the sample")
                    continue
                records = app_coverage(classes, y, proba, m, n, args.reps, seed=m * 7919 + n,
                                       settings=Settings(n_boot=args.n_boot), kdey=args.kdey_reps)
                summary = coverage_summary(records)
                summary.insert(0, "n", n)
                summary.insert(0, "m", m)
                summary.insert(0, "data", name)
                rows.append(summary)
                line = "  ".join(f"{r.method} cov {r.coverage:.3f}/ok {r.coverage_ok:.3f} mae {r.mae:.3f} "
                                 f"ne {r.not_estimable:.2f}" if not np.isnan(r.coverage) else f"{r.method} mae {r.mae:.3f}"
                                 for r in summary.itertuples())
                print(f"  m={m:4d} n={n:5d}  {line}", flush=True)
    table = pd.concat(rows, ignore_index=True)
    table.to_csv(args.out, index=False, float_format="%.4f")
    default = table[(table["method"] == "PACC") & (table["m"] >= 100)]
    print(f"\nPACC (the default) with m >= 100: coverage of all estimable intervals min {default['coverage'].min():.3f}, "
          f"mean {default['coverage'].mean():.3f}; of ok intervals min {default['coverage_ok'].min():.3f} "
          f"(target >= 0.93); written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
