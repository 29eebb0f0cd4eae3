"""Train an experiment's learning-curve runs smallest first, then tabulate what is complete.

    python benchmarks/fewshot_curves.py configs/newsmtsc-fewshot.yaml --up-to 0.12
    python benchmarks/fewshot_curves.py configs/newsmtsc-fewshot.yaml --report-only

`python -m stance.compare EXPERIMENT` trains every model on all the data before the first
learning-curve point; on a shared 2-core CPU the small sizes (the few-shot question) would
then come last. This script trains the very same runs (same configs, so the same run ids;
stance.compare reuses them later) in the order fractions ascending, models as listed, and
writes the tables of stance.compare for the runs complete so far into
reports/compare/<experiment>-partial/: per training size lcNNN/ (runs, paired bootstrap and
McNemar tests between the models at that size) and the learning curve.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import pandas as pd

from stance.compare import (compare, display_curve, display_pairs, ensure_run, learning_curve_figure, load_run,
                            write_table)
from stance.config import load_experiment
from stance.errors import StanceError
from stance.runs import previous_runs, run_id_for


def complete_run(cfg) -> Path | None:
    done = [p for p in previous_runs(Path(cfg.output_dir), run_id_for(cfg.name, cfg.config_hash()))
            if json.loads((p / "run.json").read_text(encoding="utf-8")).get("status") == "complete"]
    return done[-1] if done else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("experiment")
    parser.add_argument("--up-to", type=float, default=1.0, help="train fractions up to this one (default all)")
    parser.add_argument("--models", default="", help="comma-separated model names (default all)")
    parser.add_argument("--only", type=float, default=None, help="train this one fraction only")
    parser.add_argument("--report-only", action="store_true", help="train nothing, tabulate complete runs")
    parser.add_argument("--n-boot", type=int, default=2000)
    args = parser.parse_args(argv)
    exp = load_experiment(args.experiment)
    fractions = sorted(exp.learning_curve.fractions if exp.learning_curve else [1.0])
    models = [m for m in (args.models.split(",") if args.models else exp.models)]
    configs = {f: (exp.runs() if f == 1.0 else exp.runs(train_fraction=f)) for f in fractions}
    if not args.report_only:
        for fraction in [f for f in fractions if f <= args.up_to and args.only in (None, f)]:
            for model in models:
                cfg = configs[fraction][model]
                started = time.perf_counter()
                try:
                    path = ensure_run(cfg, retrain=False, say=print)
                except StanceError as exc:
                    print(f"{cfg.name}: skipped: {exc}", flush=True)
                    continue
                print(f"== {cfg.name}: {path} ({time.perf_counter() - started:.0f} s)", flush=True)
    rows, by_size = [], {}
    for fraction in fractions:
        for model in exp.models:
            path = complete_run(configs[fraction][model])
            if path is None:
                continue
            run = load_run(path)
            by_size.setdefault(fraction, []).append(run)
            test = run.metrics["test"]
            rows.append({"model": model, "fraction": fraction,
                         "train_examples": run.record["split"]["sizes_first_fold"].get("train", 0),
                         "macro_f1": test["macro_f1"], "macro_f1_low": test["ci"]["macro_f1"]["low"],
                         "macro_f1_high": test["ci"]["macro_f1"]["high"], "accuracy": test["accuracy"],
                         "n_test": test["n"], "run": run.name,
                         "val_macro_f1": run.metrics.get("val", {}).get("macro_f1"),
                         "fit_seconds": sum(f.get("fit_seconds", 0) for f in run.record["fits"].values())})
    if not rows:
        print("no complete runs yet")
        return 0
    curve = pd.DataFrame(rows)
    out = Path("reports") / "compare" / f"{exp.name}-partial"
    # Pairs only between runs of one size: across sizes the question is the curve, not the pair.
    for fraction, runs in by_size.items():
        result = compare(runs, out / f"lc{round(fraction * 100):03d}", curve[curve["fraction"] == fraction],
                         n_boot=args.n_boot)
        if not result["pairs"].empty:
            print(display_pairs(result["pairs"]).to_markdown(index=False))
    write_table(curve, display_curve(curve), out / "learning_curve", "Test macro-F1 by amount of training data")
    learning_curve_figure(curve, out / "learning_curve", exp.task)
    print(display_curve(curve).to_markdown(index=False))
    print(curve[["model", "train_examples", "val_macro_f1", "macro_f1", "fit_seconds"]].to_markdown(index=False))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
