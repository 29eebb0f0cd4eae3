"""The NewsMTSC table of benchmarks/RESULTS.md from finished runs: both dev files, every score.

    python benchmarks/newsmtsc_table.py experiments/newsmtsc-d30c6200 experiments/newsmtsc-transformer-*

For each run (trained on train.jsonl, rw-dev.jsonl as validation, mt-dev.jsonl as test; see
configs/newsmtsc*.yaml): macro-F1, F_avg and accuracy with 95% bootstrap intervals, on rw-dev
and on mt-dev, scored from the run's predictions.parquet by stance.evaluate's code (so runs
made before F_avg existed get it too), and the fit's training throughput. Then for
every two runs, on each dev file, the paired bootstrap difference in macro-F1 (5,000
replicates, story clusters resampled; NewsMTSC's are single sentences) and McNemar's test.
rw-dev chose each run's epoch or C, so its scores are optimistic; mt-dev chose nothing.

Runs are read as stance.compare reads them (complete runs only, each file checked against
run.json's SHA-256), and must be stance runs whose val and test files are rw-dev and mt-dev.
A run that is missing, unfinished, altered or of another kind, a --pair that does not name two
of the runs given, or --n-boot under 100 is a one-line error (exit 2) before anything is
printed. Two runs with the same folder name are shown, and named in --pair, by their paths.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from stance.errors import StanceError, cli_entry
from stance.evaluate import evaluate_predictions, score_intervals
from stance.runs import read_complete_record, read_run_predictions, run_file
from stance.stats import mcnemar, paired_bootstrap

SPLITS = {"val": "rw-dev", "test": "mt-dev"}
COLUMNS = ("repeat", "seed", "split", "example_id", "cluster_id", "target", "label", "pred")


@dataclass
class Run:
    path: Path  # as given on the command line
    record: dict[str, Any]
    config: dict[str, Any]
    fit: dict[str, Any]
    primary: pd.DataFrame  # repeat 0, first model seed: the predictions the scores are of
    label: str = ""  # the folder name, or the path as given where two runs share a folder name


def load(path: Path) -> Run:
    """A complete NewsMTSC stance run, read as stance.compare reads runs (each file checked
    against run.json's SHA-256); StanceError naming the run for anything else."""
    record = read_complete_record(path)
    config = yaml.safe_load(run_file(path, "config.yaml", record).read_text(encoding="utf-8"))
    if not isinstance(config, dict):
        raise StanceError(f"{path / 'config.yaml'}: not a run config (not a mapping)")
    data = config.get("data") if isinstance(config.get("data"), dict) else {}
    files = data.get("split_files") if isinstance(data.get("split_files"), dict) else {}
    if config.get("task") != "stance":
        raise StanceError(f"{path}: not a NewsMTSC run: its task is {config.get('task')!r}, this table scores stance")
    for split, name in SPLITS.items():
        given = str(files.get(split) or "")
        if Path(given).name.split(".")[0] != name:
            raise StanceError(f"{path}: not a NewsMTSC run: its {split} split is not {name}.jsonl (data.split_files."
                              f"{split}: {given or 'none; split.method ' + repr((config.get('split') or {}).get('method'))})")
    fits, seeds = record.get("fits"), record.get("seeds")
    if not isinstance(fits, dict) or not fits or not isinstance(seeds, list) or not seeds:
        raise StanceError(f"{path / 'run.json'}: no fits or seeds recorded; train the run again")
    frame = read_run_predictions(path, record)
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing or not any(c.startswith("prob_") for c in frame.columns):
        raise StanceError(f"{path / 'predictions.parquet'}: lacks the columns {missing or ['prob_<class>']}")
    primary = frame[(frame["repeat"] == 0) & (frame["seed"] == seeds[0])]
    for split, name in SPLITS.items():
        if not (primary["split"] == split).any():
            raise StanceError(f"{path}: no {name} ({split}) predictions in predictions.parquet; nothing to score")
    return Run(path, record, config, next(iter(fits.values())), primary)


def label_runs(runs: list[Run]) -> None:
    """Each run's name in the tables: its folder name, or the path as given when another run
    has the same folder name. The same folder given twice is refused."""
    seen: dict[Path, Path] = {}
    for run in runs:
        where = run.path.resolve()
        if where in seen:
            raise StanceError(f"{run.path}: the same run is given twice (also as {seen[where]})")
        seen[where] = run.path
    names = [run.path.name for run in runs]
    for run in runs:
        run.label = run.path.name if names.count(run.path.name) == 1 else str(run.path)


def find(runs: list[Run], item: str, pair: str) -> Run:
    """The run a --pair names: its label, folder name or path as given."""
    by_path = [r for r in runs if r.label == item or str(r.path) == item
               or (Path(item).exists() and Path(item).resolve() == r.path.resolve())]
    if by_path:
        return by_path[0]
    by_name = [r for r in runs if r.path.name == item]
    if len(by_name) > 1:
        raise StanceError(f"--pair {pair}: {len(by_name)} runs are named {item}; name it by its path "
                          f"({', '.join(str(r.path) for r in by_name)})")
    if not by_name:
        raise StanceError(f"--pair {pair}: {item} is not among the runs given ({', '.join(r.label for r in runs)})")
    return by_name[0]


def parse_pairs(items: list[str], runs: list[Run]) -> list[tuple[Run, Run]]:
    pairs = []
    for item in items:
        names = [name.strip() for name in item.split(",")]
        if len(names) != 2 or not all(names):
            raise StanceError(f"--pair {item}: give two runs separated by a comma (A,B)")
        a, b = (find(runs, name, item) for name in names)
        if a is b:
            raise StanceError(f"--pair {item}: a run compared with itself; name two different runs")
        pairs.append((a, b))
    return pairs


def describe(run: Run) -> str:
    model, fit = run.config.get("model") or {}, run.fit
    if model.get("kind") == "tfidf":
        return f"TF-IDF {model['features']} {model['classifier']}"
    if "epochs" not in model:
        return f"{model.get('kind', '?')} {model.get('model', '')}".strip()
    markers = "with markers" if model.get("target_markers") else "no markers"
    where = f"{fit.get('device', '?')} {fit.get('precision', '')}".strip()
    return f"{model['model']} fine-tuned, {model['epochs']:g} epochs, {markers}, seed {run.config['seed']}, {where}"


@cli_entry
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--n-boot", type=int, default=5000, help="paired bootstrap replicates (at least 100)")
    parser.add_argument("--pair", action="append", default=[], metavar="A,B",
                        help="compare only these two runs (folder names, or the paths as given; repeatable); "
                             "default: every two runs")
    args = parser.parse_args(argv)
    if args.n_boot < 100:
        raise StanceError("--n-boot: use at least 100 bootstrap replicates")
    # Every run and every pair is checked before a line is printed: a table is all or nothing.
    runs = [load(path) for path in args.runs]
    label_runs(runs)
    pairs = parse_pairs(args.pair, runs) if args.pair else list(itertools.combinations(runs, 2))

    def cell(m: dict, name: str) -> str:
        ci = (m.get("ci") or {}).get(name)
        return f"{m[name]:.3f} [{ci['low']:.3f}, {ci['high']:.3f}]" if name in m and ci else "–"

    lines = ["| run | model | " + " | ".join(f"{f} {s}" for s in SPLITS.values()
                                           for f in ("macro-F1", "F_avg", "accuracy")) + " | train examples/s | fit |",
             "|---|---|" + "---|" * 6 + "---:|---:|"]
    for run in runs:
        primary = run.primary
        classes = sorted({c[len("prob_"):] for c in primary.columns if c.startswith("prob_")})
        metrics = evaluate_predictions(primary, classes, by_target=True)
        for split in SPLITS:
            metrics[split]["ci"] = score_intervals(primary[primary["split"] == split], classes, "stance", seed=13)
        cells = [cell(metrics[s], name) for s in SPLITS for name in ("macro_f1", "f_avg", "accuracy")]
        lines.append(f"| {run.label} | {describe(run)} | " + " | ".join(cells)
                     + f" | {run.fit.get('examples_per_second') or 0:.1f} | {run.fit.get('fit_seconds', 0):.0f} s |")
    print("\n".join(lines))

    print("\n| A | B | dev file | n | Δmacro-F1 (A−B) [95% CI] | p (bootstrap) | A only / B only right | p (McNemar) |")
    print("|---|---|---|---:|---|---:|---|---:|")
    for ra, rb in pairs:
        a, b = ra.label, rb.label
        for split, name in SPLITS.items():
            pa = ra.primary[ra.primary["split"] == split]
            pb = rb.primary[rb.primary["split"] == split]
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
