"""The NewsMTSC table of benchmarks/RESULTS.md from finished runs: both dev files, every score.

    python benchmarks/newsmtsc_table.py experiments/newsmtsc-d30c6200 experiments/newsmtsc-transformer-*

For each run (trained on train.jsonl, rw-dev.jsonl as validation, mt-dev.jsonl as test; see
configs/newsmtsc*.yaml): macro-F1, F_avg and accuracy with 95% bootstrap intervals, on rw-dev
and on mt-dev, scored from the run's predictions.parquet by stance.evaluate's code (so runs
made before F_avg existed get it too), and the fit's training throughput. Then for
every two runs, on each dev file, the paired bootstrap difference in macro-F1 (5,000
replicates, story clusters resampled; NewsMTSC's are single sentences) and McNemar's test.
rw-dev chose each run's epoch or C, so its scores are optimistic; mt-dev chose nothing.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import pandas as pd

from stance.evaluate import evaluate_predictions, score_intervals
from stance.stats import mcnemar, paired_bootstrap

SPLITS = {"val": "rw-dev", "test": "mt-dev"}


def describe(run: Path, fit: dict) -> str:
    import yaml

    config = yaml.safe_load((run / "config.yaml").read_text(encoding="utf-8"))
    model = config["model"]
    if model["kind"] == "tfidf":
        return f"TF-IDF {model['features']} {model['classifier']}"
    markers = "with markers" if model.get("target_markers") else "no markers"
    where = f"{fit.get('device', '?')} {fit.get('precision', '')}".strip()
    return f"{model['model']} fine-tuned, {model['epochs']:g} epochs, {markers}, seed {config['seed']}, {where}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--n-boot", type=int, default=5000)
    parser.add_argument("--pair", action="append", default=[], metavar="A,B",
                        help="compare only these two runs (folder names; repeatable); default: every two runs")
    args = parser.parse_args(argv)

    def cell(m: dict, name: str) -> str:
        ci = (m.get("ci") or {}).get(name)
        return f"{m[name]:.3f} [{ci['low']:.3f}, {ci['high']:.3f}]" if name in m and ci else "–"

    print("| run | model | " + " | ".join(f"{f} {s}" for s in SPLITS.values()
                                        for f in ("macro-F1", "F_avg", "accuracy")) + " | train examples/s | fit |")
    print("|---|---|" + "---|" * 6 + "---:|---:|")
    predictions = {}
    for run in args.runs:
        record = json.loads((run / "run.json").read_text(encoding="utf-8"))
        fit = next(iter(record["fits"].values()))
        frame = pd.read_parquet(run / "predictions.parquet")
        primary = frame[(frame["repeat"] == 0) & (frame["seed"] == record["seeds"][0])]
        classes = sorted({c[len("prob_"):] for c in primary.columns if c.startswith("prob_")})
        metrics = evaluate_predictions(primary, classes, by_target=True)
        for split in SPLITS:
            metrics[split]["ci"] = score_intervals(primary[primary["split"] == split], classes, "stance", seed=13)
        cells = [cell(metrics[s], name) for s in SPLITS for name in ("macro_f1", "f_avg", "accuracy")]
        print(f"| {run.name} | {describe(run, fit)} | " + " | ".join(cells)
              + f" | {fit.get('examples_per_second') or 0:.1f} | {fit.get('fit_seconds', 0):.0f} s |")
        predictions[run.name] = primary

    print("\n| A | B | dev file | n | Δmacro-F1 (A−B) [95% CI] | p (bootstrap) | A only / B only right | p (McNemar) |")
    print("|---|---|---|---:|---|---:|---|---:|")
    pairs = [tuple(p.split(",")) for p in args.pair] or list(itertools.combinations(predictions, 2))
    for a, b in pairs:
        if a not in predictions or b not in predictions:
            print(f"error: --pair {a},{b}: both must be among the runs given", file=sys.stderr)
            return 2
        for split, name in SPLITS.items():
            pa = predictions[a][predictions[a]["split"] == split]
            pb = predictions[b][predictions[b]["split"] == split]
            both = pa.merge(pb[["example_id", "pred", "label"]], on="example_id", suffixes=("_a", "_b"))
            if len(both) != len(pa) or not (both["label_a"] == both["label_b"]).all():
                print(f"| {a} | {b} | {name} | – | not the same items | | | |")
                continue
            boot = paired_bootstrap(both["label_a"], both["pred_a"], both["pred_b"], groups=both["cluster_id"],
                                    n_boot=args.n_boot, seed=0)["macro_f1"]
            test = mcnemar(both["pred_a"] == both["label_a"], both["pred_b"] == both["label_a"])
            print(f"| {a} | {b} | {name} | {len(both)} | {boot['difference']:+.3f} [{boot['low']:+.3f}, "
                  f"{boot['high']:+.3f}] | {boot['p_value']:.4f} | {test['only_a_correct']} / "
                  f"{test['only_b_correct']} | {test['p_value']:.4f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
