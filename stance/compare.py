"""`python -m stance.compare ITEM [ITEM ...]`: one table of runs, paired tests, learning curves.

An ITEM is a run folder, a folder of runs (every complete run in it), a training config (its
newest complete run), or an experiment config (a YAML file with `models:`). An experiment trains each of its models as an ordinary run on
the same data, task, split and seeds (a complete run of the same config is reused, an
interrupted one resumed), then trains the learning-curve runs if the config asks for them.

Writes to reports/compare/<name>/:
    runs.{csv,md,tex}        macro-F1 and accuracy with 95% bootstrap CIs (resampling story
                             clusters), mean +- sd over folds and seeds, calibration error
    pairs.{csv,md,tex}       every pair of runs scored on the same test items: the paired
                             bootstrap difference (CI, p) and McNemar's test
    refused.txt              pairs that were not compared, and why
    reliability.{pdf,png}    reliability diagram of each run
    learning_curve.{csv,md,tex,pdf,png}  with an experiment's learning_curve section
Reports are views of runs: rerunning writes the same bytes again (runs are never touched).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pandas as pd
import yaml

from stance import files
from stance.config import ExperimentConfig, ModelConfig, TrainConfig, is_experiment_file, load_experiment
from stance.errors import StanceError, cli_entry
from stance.figures import PALETTE, new_figure, save_figure
from stance.models import check_model_config, describe_model
from stance.progress import bar, set_quiet
from stance.runs import (complete_runs, is_run_dir, newest_complete_run, read_complete_record, read_run_json,
                         read_run_metrics, read_run_predictions, run_file, run_id_for)
from stance.evaluate import f_avg_classes, scored_targets
from stance.stats import mcnemar, paired_bootstrap


@dataclass
class Run:
    """A complete run as compare reads it: run.json, the config as a plain dict (runs of older
    stance versions still load), metrics.json and every fit's predictions."""

    path: Path
    record: dict[str, Any]
    config: dict[str, Any]
    metrics: dict[str, Any]
    predictions: pd.DataFrame

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def primary_test(self) -> pd.DataFrame:
        """Test predictions of the headline scores: first model seed, repeat 0, all folds."""
        p = self.predictions
        first_seed = self.metrics["seeds"][0]
        return p[(p["split"] == "test") & (p["repeat"] == 0) & (p["seed"] == first_seed)]


def load_run(path: Path) -> Run:
    """Read a complete run folder (each file checked against run.json's SHA-256); StanceError
    for an incomplete, damaged or pre-per-fold run."""
    record = read_complete_record(path)
    metrics = read_run_metrics(path, record)
    if "units" not in metrics:
        raise StanceError(f"{path}: made by an older stance without per-fold records; train it again to compare it")
    config = yaml.safe_load(run_file(path, "config.yaml", record).read_text(encoding="utf-8"))
    return Run(path, record, config, metrics, read_run_predictions(path, record))


# ------------------------------------------------------------------ experiments


def ensure_run(cfg: TrainConfig, retrain: bool, say: Callable[..., None]) -> Path:
    """The newest complete run of this exact config, else train it (resuming an interrupted one)."""
    from stance.train import train  # compare sits after train in the data flow

    output_dir = Path(cfg.output_dir)
    run_id = run_id_for(cfg.name, cfg.config_hash())
    done = complete_runs(output_dir, run_id)
    if done and not retrain:
        say(f"  {cfg.name}: reusing {done[-1]}")
        return done[-1]
    interrupted = (output_dir / f"{run_id}.partial").is_dir()
    return train(cfg, resume=interrupted and not retrain, fresh=interrupted and retrain,
                 say=lambda *a, **k: say("  ", *a, **k))


def check_models(exp: ExperimentConfig, retrain: bool) -> None:
    """Every model's pre-run checks (tune grid, the kind's own check: encoder files, device) for
    each model with a run left to train, before any is trained: a bad last model must not cost
    the training of the first ones. Raises StanceError naming `models.<name>.<key>`."""
    fractions = [f for f in (exp.learning_curve.fractions if exp.learning_curve else []) if f != 1.0]
    runs = [exp.runs()] + [exp.runs(train_fraction=f) for f in fractions]
    for name, model in exp.models.items():
        configs = [point[name] for point in runs]
        if retrain or any(not complete_runs(Path(c.output_dir), run_id_for(c.name, c.config_hash())) for c in configs):
            check_model_config(model, f"models.{name}")


def run_experiment(exp: ExperimentConfig, retrain: bool, say: Callable[..., None]
                   ) -> tuple[list[Path], pd.DataFrame | None]:
    say(f"stance.compare: experiment {exp.name}, models {', '.join(exp.models)}")
    check_models(exp, retrain)
    main_runs = {name: ensure_run(cfg, retrain, say) for name, cfg in exp.runs().items()}
    paths = list(main_runs.values())
    if exp.learning_curve is None:
        return paths, None
    rows = []
    for fraction in exp.learning_curve.fractions:
        configs = exp.runs() if fraction == 1.0 else exp.runs(train_fraction=fraction)
        for model_name, cfg in configs.items():
            try:
                # The whole training side is each model's main run: never trained twice.
                run = load_run(main_runs[model_name] if fraction == 1.0 else ensure_run(cfg, retrain, say))
            except StanceError as exc:
                # One model that cannot be fitted on a small share (a class with one example)
                # leaves a gap in its curve; the other models and points are still worth having.
                say(f"  {cfg.name}: learning-curve point skipped: {exc}")
                rows.append({"model": model_name, "fraction": fraction, "train_examples": None, "macro_f1": None,
                             "macro_f1_low": None, "macro_f1_high": None, "accuracy": None, "n_test": None,
                             "run": f"skipped: {exc}"})
                continue
            test = run.metrics["test"]
            rows.append({"model": model_name, "fraction": fraction,
                         "train_examples": run.record["split"]["sizes_first_fold"].get("train", 0),
                         "macro_f1": test["macro_f1"], "macro_f1_low": test["ci"]["macro_f1"]["low"],
                         "macro_f1_high": test["ci"]["macro_f1"]["high"], "accuracy": test["accuracy"],
                         "n_test": test["n"], "run": run.name})
    return paths, pd.DataFrame(rows)


def only_models(exp: ExperimentConfig, names: list[str] | None) -> ExperimentConfig:
    """The experiment restricted to some of its models (--models), in the config's order."""
    if not names:
        return exp
    unknown = [n for n in names if n not in exp.models]
    if unknown:
        raise StanceError(f"--models: {unknown[0]!r} is not a model of experiment {exp.name} "
                          f"(its models: {', '.join(exp.models)})")
    return exp.model_copy(update={"models": {k: v for k, v in exp.models.items() if k in names}})


def collect(items: list[str], overrides: list[str], retrain: bool, say: Callable[..., None],
            models: list[str] | None = None) -> tuple[list[Run], pd.DataFrame | None, str | None]:
    """The runs named by the command's items (run folders, folders of runs, training configs:
    their newest complete run, experiment configs: trained if needed, only `models` of them when
    given), each once; the learning curve and the experiment's name when an experiment was given."""
    runs: list[Path] = []
    curve, experiment_name = None, None
    for item in items:
        path = Path(item)
        if path.is_file() and path.suffix in (".yaml", ".yml") and is_experiment_file(path):
            exp = only_models(load_experiment(path, overrides), models)
            found, curve = run_experiment(exp, retrain, say)
            runs += found
            experiment_name = exp.name
        elif path.is_file() and path.suffix.lower() in (".yaml", ".yml"):
            runs.append(newest_complete_run(path))  # a training config: its newest complete run
        elif path.is_file():
            raise StanceError(f"{path}: not a run folder, a training config or an experiment config "
                              "(a YAML file with `models:`)")
        elif is_run_dir(path):
            runs.append(path)
        elif path.is_dir():
            inside = sorted(p for p in path.iterdir() if p.is_dir() and is_run_dir(p)
                            and read_run_json(p).get("status") == "complete")
            if not inside:
                raise StanceError(f"{path}: no complete runs in this folder")
            runs += inside
        else:
            raise StanceError(f"{path}: no such run folder or experiment config")
    if overrides and experiment_name is None:
        raise StanceError("--set applies to experiment configs only; runs are compared as they were made")
    unique = list(dict.fromkeys(p.resolve() for p in runs))
    return [load_run(p) for p in unique], curve, experiment_name


# ------------------------------------------------------------------ tables


def describe(run: Run) -> str:
    """The run's model in one line, as the registry describes its kind (the kind's name alone for
    a config section this stance no longer validates)."""
    from pydantic import TypeAdapter, ValidationError

    model = run.config["model"]
    try:
        return describe_model(TypeAdapter(ModelConfig).validate_python(model, context={"saved_run": True}))
    except (ValidationError, KeyError):
        return str(model.get("kind"))


def runs_table(runs: list[Run]) -> pd.DataFrame:
    """One row per run: model, split, test macro-F1 and accuracy with their 95% cluster-bootstrap
    intervals, mean and sd over fits, ECE and the majority-class floor."""
    rows = []
    for run in runs:
        test, summary = run.metrics["test"], run.metrics["summary"]["test"]
        split = run.config["split"]
        rows.append({
            "run": run.name, "task": run.config["task"], "model": describe(run),
            "split": "as given (data.split_files)" if split["method"] == "files" else
            split["method"] + (f" {split['folds']}x{split['repeats']}" if split["method"] == "kfold" else "")
            + f" by {split['group_by']}",
            "n_test": test["n"], "fits": summary["macro_f1"]["n"],
            "macro_f1": test["macro_f1"], "macro_f1_low": test["ci"]["macro_f1"]["low"],
            "macro_f1_high": test["ci"]["macro_f1"]["high"],
            "macro_f1_mean": summary["macro_f1"]["mean"], "macro_f1_sd": summary["macro_f1"]["sd"],
            "accuracy": test["accuracy"], "accuracy_low": test["ci"]["accuracy"]["low"],
            "accuracy_high": test["ci"]["accuracy"]["high"],
            "ece": test["calibration"]["ece"], "majority_macro_f1": run.metrics["majority_baseline_test"]["macro_f1"],
            **stance_scores(test),
        })
    return pd.DataFrame(rows)


def stance_scores(test: dict[str, Any]) -> dict[str, Any]:
    """F_avg and the per-target mean macro-F1 with their intervals (None for runs without them:
    other tasks, or runs made before these scores existed)."""
    out: dict[str, Any] = {"targets": test.get("targets_averaged")}
    for name, key in (("f_avg", "f_avg"), ("target_mean", "macro_f1_target_mean")):
        interval = (test.get("ci") or {}).get(key) or {}
        out.update({name: test.get(key), f"{name}_low": interval.get("low"), f"{name}_high": interval.get("high")})
    return out


def same_items_problem(a: Run, b: Run) -> str | None:
    if a.config["task"] != b.config["task"]:
        return f"different tasks ({a.config['task']} vs {b.config['task']})"
    ta, tb = a.primary_test, b.primary_test
    ids_a, ids_b = set(ta["example_id"]), set(tb["example_id"])
    if ids_a != ids_b:
        return (f"evaluated on different test items ({len(ids_a)} vs {len(ids_b)}, {len(ids_a & ids_b)} in common); "
                "a paired test needs the same data, split and seed")
    la = ta.set_index("example_id")["label"]
    lb = tb.set_index("example_id")["label"].reindex(la.index)
    if not (la == lb).all():
        return f"the same items carry different gold labels ({int((la != lb).sum())} differ)"
    return None


def pairs_table(runs: list[Run], n_boot: int, seed: int) -> tuple[pd.DataFrame, list[str]]:
    rows, refused = [], []
    pairs = list(itertools.combinations(runs, 2))
    for a, b in bar(pairs, desc="paired bootstrap", unit="pair", show=len(pairs) > 1):
        problem = same_items_problem(a, b)
        if problem:
            refused.append(f"{a.name} vs {b.name}: not compared: {problem}")
            continue
        both = a.primary_test.merge(b.primary_test[["example_id", "pred"]], on="example_id", suffixes=("_a", "_b"))
        stance = a.config["task"] == "stance"
        classes = a.config["schema"]["stance_classes"] if stance else []
        boot = paired_bootstrap(both["label"], both["pred_a"], both["pred_b"], groups=both["cluster_id"],
                                n_boot=n_boot, seed=seed, f_avg_classes=f_avg_classes(classes, a.config["task"]),
                                targets=both["target"].astype(str) if stance else None,
                                scored_targets=scored_targets(both) if stance else None)
        test = mcnemar(both["pred_a"] == both["label"], both["pred_b"] == both["label"])
        rows.append({
            "run_a": a.name, "run_b": b.name, "n": len(both),
            "macro_f1_a": a.metrics["test"]["macro_f1"], "macro_f1_b": b.metrics["test"]["macro_f1"],
            "macro_f1_diff": boot["macro_f1"]["difference"], "diff_low": boot["macro_f1"]["low"],
            "diff_high": boot["macro_f1"]["high"], "p_bootstrap": boot["macro_f1"]["p_value"],
            "accuracy_diff": boot["accuracy"]["difference"], "only_a_correct": test["only_a_correct"],
            "only_b_correct": test["only_b_correct"], "mcnemar_statistic": test["statistic"],
            "p_mcnemar": test["p_value"], "mcnemar_exact": test["exact"],
            **{f"{key}_{field}": (boot.get(key) or {}).get(name) for key in ("f_avg", "macro_f1_target_mean")
               for field, name in (("diff", "difference"), ("low", "low"), ("high", "high"), ("p", "p_value"))},
        })
    return pd.DataFrame(rows), refused


def _ci(value: float, low: float, high: float) -> str:
    return f"{value:.3f} [{low:.3f}, {high:.3f}]"


def _optional_ci(table: pd.DataFrame, name: str) -> list[str]:
    return ["–" if pd.isna(v) else _ci(v, lo, hi) for v, lo, hi in
            table[[name, f"{name}_low", f"{name}_high"]].itertuples(index=False)]


def display_runs(table: pd.DataFrame) -> pd.DataFrame:
    shown = pd.DataFrame({
        "run": table["run"], "model": table["model"], "split": table["split"], "n test": table["n_test"],
        "macro-F1 [95% CI]": [_ci(*r) for r in table[["macro_f1", "macro_f1_low", "macro_f1_high"]].to_numpy()],
        "mean ± sd (fits)": [f"{m:.3f} ± {s:.3f} ({n})" if n > 1 else f"{m:.3f} (1)"
                             for m, s, n in table[["macro_f1_mean", "macro_f1_sd", "fits"]].itertuples(index=False)],
        "accuracy [95% CI]": [_ci(*r) for r in table[["accuracy", "accuracy_low", "accuracy_high"]].to_numpy()],
        "ECE": table["ece"].map("{:.3f}".format),
        "majority F1": table["majority_macro_f1"].map("{:.3f}".format),
    })
    # Stance runs: the per-target macro-F1 (mean over targets) and F_avg beside the pooled score.
    if "target_mean" in table and table["target_mean"].notna().any():
        shown.insert(5, "per-target macro-F1 [95% CI] (targets)",
                     [f"{c} ({int(n)})" if not pd.isna(n) else c
                      for c, n in zip(_optional_ci(table, "target_mean"), table["targets"])])
    if "f_avg" in table and table["f_avg"].notna().any():
        shown.insert(5, "F_avg [95% CI]", _optional_ci(table, "f_avg"))
    return shown


def display_pairs(table: pd.DataFrame) -> pd.DataFrame:
    shown = pd.DataFrame({
        "A": table["run_a"], "B": table["run_b"], "n": table["n"],
        "ΔF1 (A−B) [95% CI]": [_ci(*r) for r in table[["macro_f1_diff", "diff_low", "diff_high"]].to_numpy()],
        "p (bootstrap)": table["p_bootstrap"].map("{:.4f}".format),
        "A only / B only right": [f"{a} / {b}" for a, b in table[["only_a_correct", "only_b_correct"]].to_numpy()],
        "p (McNemar)": table["p_mcnemar"].map("{:.4f}".format),
    })
    if "f_avg_diff" in table and table["f_avg_diff"].notna().any():
        shown.insert(5, "ΔF_avg [95% CI] (p)", ["–" if pd.isna(d) else f"{_ci(d, lo, hi)} ({p:.4f})" for d, lo, hi, p in
                                                table[["f_avg_diff", "f_avg_low", "f_avg_high", "f_avg_p"]]
                                                .itertuples(index=False)])
    return shown


def display_curve(curve: pd.DataFrame) -> pd.DataFrame:
    curve = curve.dropna(subset=["macro_f1"])
    return pd.DataFrame({
        "model": curve["model"], "train share": curve["fraction"].map("{:.2f}".format),
        "train examples": curve["train_examples"],
        "macro-F1 [95% CI]": [_ci(*r) for r in curve[["macro_f1", "macro_f1_low", "macro_f1_high"]].to_numpy()],
        "accuracy": curve["accuracy"].map("{:.3f}".format),
    })


def to_latex(table: pd.DataFrame, caption: str) -> str:
    """A booktabs table (\\toprule, \\midrule, \\bottomrule), cells escaped for LaTeX."""
    styler = table.style.hide(axis="index").format(escape="latex").format_index(escape="latex", axis=1)
    body = styler.to_latex(hrules=True, column_format="l" * table.shape[1], caption=caption, position="htbp")
    return "% needs \\usepackage{booktabs}\n" + body.replace("±", r"$\pm$").replace("Δ", r"$\Delta$").replace(
        "−", "-")


def write_table(table: pd.DataFrame, display: pd.DataFrame, stem: Path, caption: str) -> None:
    files.write_csv(stem.with_suffix(".csv"), table)
    files.write_text(stem.with_suffix(".md"), display.to_markdown(index=False) + "\n")
    files.write_text(stem.with_suffix(".tex"), to_latex(display, caption))


# ------------------------------------------------------------------ figures


def reliability_figure(runs: list[Run], stem: Path) -> None:
    fig, ax = new_figure(4.2, 4.2 + 0.15 * len(runs))
    ax.plot([0, 1], [0, 1], color="0.6", linestyle="--", linewidth=0.8, label="perfect calibration")
    for i, run in enumerate(runs):
        bins = [b for b in run.metrics["test"]["calibration"]["bins"] if b["count"]]
        ece = run.metrics["test"]["calibration"]["ece"]
        ax.plot([b["confidence"] for b in bins], [b["accuracy"] for b in bins], marker="o", markersize=3,
                color=PALETTE[i % len(PALETTE)], label=f"{run.name} (ECE {ece:.3f})")
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="confidence (top-class probability)", ylabel="accuracy on test",
           title="Reliability on the test items")
    # Below the axes: inside, the legend hides the points it describes.
    ax.legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.16), frameon=False)
    save_figure(fig, stem)


def learning_curve_figure(curve: pd.DataFrame, stem: Path, task: str) -> None:
    fig, ax = new_figure(4.8, 3.2)
    for i, (model, part) in enumerate(curve.dropna(subset=["macro_f1"]).groupby("model", sort=False)):
        part = part.sort_values("train_examples")
        color = PALETTE[i % len(PALETTE)]
        ax.plot(part["train_examples"], part["macro_f1"], marker="o", markersize=3, color=color, label=model)
        ax.fill_between(part["train_examples"], part["macro_f1_low"], part["macro_f1_high"], color=color,
                        alpha=0.15, linewidth=0)
    ax.set(xlabel="training examples", ylabel="test macro-F1 (95% CI)", title=f"Learning curve: {task}")
    ax.legend(fontsize=7, frameon=False)
    save_figure(fig, stem)


# ------------------------------------------------------------------ command


def default_name(runs: list[Run]) -> str:
    digest = hashlib.sha256("\n".join(sorted(r.name for r in runs)).encode()).hexdigest()[:8]
    return f"runs-{digest}"


def compare(runs: list[Run], out: Path, curve: pd.DataFrame | None = None, n_boot: int = 5000,
            seed: int = 0) -> dict[str, Any]:
    """Write the tables and figures of the module docstring to `out`; returns {"runs": table,
    "pairs": paired tests (n_boot cluster-bootstrap replicates, `seed`), "refused": pairs not
    compared and why, "curve": the learning curve or None, "out": out}."""
    if not runs:
        raise StanceError("nothing to compare: no runs given")
    table = runs_table(runs)
    pairs, refused = pairs_table(runs, n_boot, seed)
    out.mkdir(parents=True, exist_ok=True)
    write_table(table, display_runs(table), out / "runs", "Test scores with 95\\% bootstrap CIs over story clusters")
    if not pairs.empty:
        write_table(pairs, display_pairs(pairs), out / "pairs",
                    "Paired comparison on the same test items: bootstrap difference and McNemar's test")
    files.write_text(out / "refused.txt", "".join(line + "\n" for line in refused)
                     or "every pair of runs was compared on the same test items\n")
    reliability_figure(runs, out / "reliability")
    if curve is not None and not curve.empty:
        write_table(curve, display_curve(curve), out / "learning_curve", "Test macro-F1 by amount of training data")
        learning_curve_figure(curve, out / "learning_curve", runs[0].config["task"])
    return {"runs": table, "pairs": pairs, "refused": refused, "curve": curve, "out": out}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m stance.compare", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("items", nargs="+", metavar="RUN_OR_DIR_OR_CONFIG",
                        help="run folders, folders of runs, training configs (their newest complete run) or "
                             "experiment configs")
    parser.add_argument("--out", help="output folder (default reports/compare/<experiment or runs-hash>)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a value of the experiment config (repeatable)")
    parser.add_argument("--retrain", action="store_true", help="train experiment runs again even if complete")
    parser.add_argument("--models", help="comma-separated: train and compare only these models of an experiment "
                                         "config (e.g. tfidf,emb)")
    parser.add_argument("--n-boot", type=int, default=5000, help="bootstrap replicates (default 5000)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


@cli_entry
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.n_boot < 100:
        raise StanceError("--n-boot: use at least 100 bootstrap replicates")
    set_quiet(args.quiet)
    models = [m.strip() for m in args.models.split(",") if m.strip()] if args.models else None
    runs, curve, experiment = collect(args.items, args.overrides, args.retrain, print, models)
    out = Path(args.out) if args.out else Path("reports") / "compare" / (experiment or default_name(runs))
    result = compare(runs, out, curve, n_boot=args.n_boot, seed=args.seed)
    print()
    print(display_runs(result["runs"]).to_markdown(index=False))
    if not result["pairs"].empty:
        print()
        print(display_pairs(result["pairs"]).to_markdown(index=False))
    for line in result["refused"]:
        print(line)
    if curve is not None:
        print()
        print(display_curve(curve).to_markdown(index=False))
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
