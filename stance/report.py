"""`python -m stance.report CONFIG_OR_RUN [...]`: how outlets differ, with honest uncertainty.

For each trained run (a run folder, or a config whose newest complete run is used) the report
labels the run's corpus (or `--predictions` from stance.predict), estimates class shares per
outlet, period and outlet x period, corrected for the classifier's errors (PACC and ACC, with the
run's held-out test predictions as the calibration set; stance.quantify), next to naive
classify-and-count and, where the corpus has them, gold labels; with `--audit` (a random labelled
sample of the corpus) also prediction-powered estimates (PPI++). `--external` reports on
predictions from any other classifier or annotator. Every estimate has a 95% interval, n, the
calibration count and a status (ok / unreliable / not_estimable, with the reason). Writes to
reports/<name>/:

    estimates.csv    group, class, method, estimate, low, high, n, n_calibration, status, reason
    differences.csv  group_a, group_b, class, method, difference, low, high, status: every pair of
                     outlets and each outlet against the rest
    distribution.*   class shares per outlet with intervals                         framing, sentiment
    net_stance.*     favourable minus unfavourable, outlet x actor heatmap (CI, n)  stance
    trend.*          shares per month or quarter, one panel per outlet (where dates exist)
    syndication.*    how the outlets carrying the same story label its paragraphs
    index.html       one self-contained page with every figure, table and a summary

Figures and the summary are drawn from estimates.csv and differences.csv only. Every figure is
PDF + 300-dpi PNG with its numbers as CSV and a LaTeX table. Figures from stance.compare under
reports/compare/ are shown when their runs share this report's task and data. The report is a
view: rerunning it rewrites the same bytes; runs are never touched.
"""

from __future__ import annotations

import argparse
import base64
import html
import json
import sys
from pathlib import Path
from typing import Any, Callable

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from stance import files
from stance.annotate.standoff import attach_standoff, resolve_annotations_path
from stance.compare import to_latex
from stance.config import TrainConfig
from stance.corpus.ingest import ingest, resolve_data_path
from stance.errors import StanceError, cli_entry
from stance.config import corpus_defaults
from stance.figures import PALETTE, STYLE, new_figure, save_figure
from stance.progress import bar, set_quiet
from stance.predict import check_predictions_provenance, predict_corpus, read_predictions
from stance.quantify import (DEFAULT_METHOD, NOT_ESTIMABLE, OK, UNRELIABLE, Estimate, Quantifier, Settings,
                             clopper_pearson, difference, ppi_estimate, worst)
from stance.runs import (read_complete_record, read_run_config, read_run_json, read_run_metrics, read_run_predictions,
                         resolve_run, run_file)

NO_OUTLET = "(no outlet)"


# ------------------------------------------------------------------ inputs


def calibration_set(run_dir: Path) -> pd.DataFrame:
    """Held-out test predictions with gold labels: first model seed, repeat 0, all folds."""
    record = read_complete_record(run_dir)
    predictions = read_run_predictions(run_dir, record)
    first_seed = read_run_metrics(run_dir, record)["seeds"][0]
    keep = (predictions["split"] == "test") & (predictions["repeat"] == 0) & (predictions["seed"] == first_seed)
    return predictions[keep].reset_index(drop=True)


def corpus_predictions(run_dir: Path, cfg: TrainConfig, out: Path, given: str | None,
                       say: Callable[..., None], progress: bool = False) -> pd.DataFrame:
    """The run's predictions of its corpus: `given` (checked to come from this run), or those
    written earlier under `out/predictions/<run>`, else predicted now (resuming a cut-off one)."""
    if given:
        check_predictions_provenance(run_dir, Path(given))
        return read_predictions(Path(given))
    folder = out / "predictions" / run_dir.name
    resume = (folder / "manifest.json").is_file()
    if resume and files.read_json(folder / "manifest.json", "the prediction manifest").get("status") == "complete":
        check_predictions_provenance(run_dir, folder)
        return read_predictions(folder)
    # Shares per outlet need every actor each paragraph mentions, not only the pairs labelled.
    predict_corpus(run_dir, resolve_data_path(cfg.data.path), folder, resume=resume, progress=progress, say=say,
                   pairs="mentions")
    return read_predictions(folder)


def training_paragraphs(run_dir: Path) -> set[str]:
    """Paragraphs the predicting model was trained on: the first fit's, or for a cross-validated
    run (predicted by the average of its repeat-0 fold models) those of any fold of repeat 0."""
    record = read_complete_record(run_dir)
    split = pd.read_csv(run_file(run_dir, "split.csv", record), dtype={"paragraph_id": str})
    cfg = read_run_config(run_dir, record)
    first = split[(split["repeat"] == 0) & ((split["fold"] == 0) | (cfg.split.method == "kfold"))]
    return set(first.loc[first["split"] == "train", "paragraph_id"])


def with_out_of_fold(predictions: pd.DataFrame, run_dir: Path, seen: set[str]) -> pd.DataFrame:
    """For a cross-validated run, replace the fold models' in-sample predictions of their training
    paragraphs by the out-of-fold ones the run recorded (each from the fold that held it out)."""
    run_predictions = calibration_set(run_dir)
    prob = [c for c in predictions.columns if c.startswith("prob_")]
    oof = run_predictions[["paragraph_id", "target", "pred", *[c for c in prob if c in run_predictions]]]
    oof = oof.assign(target=oof["target"].astype("string").fillna(""))
    keyed = predictions.assign(target=predictions["target"].astype("string").fillna(""))
    merged = keyed.merge(oof, on=["paragraph_id", "target"], how="left", suffixes=("", "_oof"))
    replace = merged["paragraph_id"].isin(seen) & merged["pred_oof"].notna()
    for column in ["pred", *[c for c in prob if f"{c}_oof" in merged]]:
        merged.loc[replace, column] = merged.loc[replace, f"{column}_oof"]
    merged["out_of_fold"] = replace
    return merged.drop(columns=[c for c in merged.columns if c.endswith("_oof")])


def gold_paragraphs(cfg: TrainConfig) -> pd.DataFrame | None:
    try:
        paragraphs = ingest(cfg.data, cfg.corpus, cfg.label_schema)
        if cfg.data.annotations:
            paragraphs = attach_standoff(paragraphs, resolve_annotations_path(cfg.data.annotations))
    except StanceError:
        return None
    column = getattr(cfg.data.labels, cfg.task)
    if not column or column not in paragraphs:
        return None
    return paragraphs.rename(columns={column: "gold"})


def _outlet(series: pd.Series) -> pd.Series:
    return series.astype("string").fillna(NO_OUTLET).replace("", NO_OUTLET)


# ------------------------------------------------------------------ estimates

ESTIMATE_COLUMNS = ["run", "task", "dimension", "group", "outlet", "period", "target", "class", "method", "estimate",
                    "low", "high", "n", "n_calibration", "status", "reason"]
DIFFERENCE_COLUMNS = ["run", "task", "dimension", "group_a", "group_b", "target", "class", "method", "difference",
                      "low", "high", "n_a", "n_b", "status", "reason"]
ALL = "(all outlets)"
REST = "(all other outlets)"
NET = "net"  # stance: favourable minus unfavourable share


def proba_matrix(frame: pd.DataFrame, classes: list[str]) -> np.ndarray:
    """(n, classes) probabilities; a class without a column (a model that never saw it) is 0."""
    if not len(frame):
        return np.zeros((0, len(classes)))
    return np.column_stack([pd.to_numeric(frame[f"prob_{c}"], errors="coerce").fillna(0).to_numpy(float)
                            if f"prob_{c}" in frame else np.zeros(len(frame)) for c in classes])


def read_labelled_table(path: Path, what: str) -> pd.DataFrame:
    """A CSV/JSONL/Parquet table of labelled items (`paragraph_id`, `label`, optional `target`)."""
    if not path.is_file():
        raise StanceError(f"{path}: {what} table not found")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            table = pd.read_parquet(path)
        elif suffix in (".jsonl", ".json"):
            table = pd.read_json(path, lines=suffix == ".jsonl", dtype=False)
        else:
            table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (ValueError, OSError) as error:
        raise StanceError(f"{path}: cannot read the {what} table ({str(error).splitlines()[0]})") from None
    missing = [c for c in ("paragraph_id", "label") if c not in table]
    if missing:
        raise StanceError(f"{path}: the {what} table needs the column(s) {', '.join(missing)} "
                          f"(it has {', '.join(map(str, table.columns))})")
    table = table.assign(paragraph_id=table["paragraph_id"].astype(str), label=table["label"].astype(str))
    table["target"] = table["target"].astype("string").fillna("") if "target" in table else ""
    check_unique_items(table, path, what)
    return table


def check_unique_items(table: pd.DataFrame, path: Path, what: str) -> None:
    """An item counted twice would weigh twice in every share and interval: refuse it, naming
    both lines (CSV lines: header is line 1; JSONL: row n is line n)."""
    keys = ["paragraph_id", "target"] if "target" in table else ["paragraph_id"]
    repeated = table.duplicated(keys, keep=False)
    if repeated.any():
        first, second = [int(i) for i in table.index[repeated][:2]]
        offset = 1 if path.suffix.lower() in (".jsonl", ".json") else 2
        row = table.loc[second]
        target = f" target {row['target']!r}" if "target" in table and row["target"] else ""
        raise StanceError(f"{path}: line {second + offset}: {what} item paragraph {row['paragraph_id']!r}{target} "
                          f"appears twice (first on line {first + offset})")


def check_labels(table: pd.DataFrame, classes: list[str], path: Path, what: str) -> None:
    bad = table.loc[~table["label"].isin(classes), "label"]
    if len(bad):
        line = int(bad.index[0]) + 2
        raise StanceError(f"{path}: line {line}: {what} label {bad.iloc[0]!r} is not a class of the schema "
                          f"({', '.join(classes)})")


def check_against_audit(est: Estimate, ppi: Estimate, n_classes: int) -> None:
    """ACC/PACC assume the classifier's error rates on the calibration set hold in every group
    (prior probability shift only; Moreno-Torres et al. 2012). Different sources break that: on
    the official statements PACC's "ok" intervals missed the gold share of 4 of 12 publisher x
    class cells. Where a group has an audit sample, PPI measures the share without that
    assumption, so an ACC/PACC interval disjoint from the PPI interval is evidence the assumption
    fails there: the cell is marked unreliable, with the reason. In place."""
    for j in range(n_classes):
        if est.status[j] != OK or ppi.status[j] == NOT_ESTIMABLE or np.isnan(ppi.low[j]) or np.isnan(est.low[j]):
            continue
        if est.high[j] < ppi.low[j] or est.low[j] > ppi.high[j]:
            est.status[j] = UNRELIABLE
            est.reason[j] = (f"disagrees with PPI on the audit sample ({ppi.estimate[j]:.2f} [{ppi.low[j]:.2f}, "
                             f"{ppi.high[j]:.2f}]): the calibration error rates do not hold in this group")


class GroupEstimator:
    """Every method's estimates for groups of predictions (outlets, periods, outlet x period)."""

    def __init__(self, classes: list[str], cal_true: pd.Series, cal_proba: np.ndarray, settings: Settings,
                 audit: pd.DataFrame | None, task: str):
        self.classes, self.settings, self.task = classes, settings, task
        self.quantifier = Quantifier(classes, cal_true, cal_proba, settings)
        self.audit = audit
        self.labels = classes + ([NET] if task == "stance" else [])
        self.counter = 0

    def _net(self, est: Estimate, n: int, method: str) -> Estimate:
        """Append favourable minus unfavourable as one more column."""
        fav, unf = self.classes.index("favourable"), self.classes.index("unfavourable")
        point = est.estimate[fav] - est.estimate[unf]
        status = worst(est.status[fav], est.status[unf])
        reason = "; ".join(r for r in dict.fromkeys([est.reason[fav], est.reason[unf]]) if r)
        floor = 1 - ((1 - self.settings.level) / 2) ** (1 / n)  # nothing finer than n items resolve
        if est.replicates is not None:
            reps = est.replicates[:, fav] - est.replicates[:, unf]
            tail = (1 - self.settings.level) / 2 * 100
            low, high = np.percentile(reps, tail), np.percentile(reps, 100 - tail)
        else:
            reps = None
            low, high = est.low[fav] - est.high[unf], est.high[fav] - est.low[unf]
        if np.isnan(point):
            low = high = np.nan
        else:
            low, high = max(-1.0, min(low, point - floor)), min(1.0, max(high, point + floor))
            if status == OK and (high - low > 2 * self.settings.max_width or n < self.settings.min_n):
                status, reason = UNRELIABLE, (f"n = {n} < {self.settings.min_n}" if n < self.settings.min_n
                                              else f"interval width {high - low:.2f} > {2 * self.settings.max_width:g}")
        se = None
        if est.se is not None:
            se = np.append(est.se, np.sqrt(est.se[fav] ** 2 + est.se[unf] ** 2))
        return Estimate(np.append(est.estimate, point), np.append(est.low, low), np.append(est.high, high),
                        [*est.status, status], [*est.reason, reason],
                        replicates=None if reps is None else np.column_stack([est.replicates, reps]), se=se,
                        extra=est.extra)

    def estimate(self, frame: pd.DataFrame) -> dict[str, Estimate]:
        self.counter += 1
        proba = proba_matrix(frame, self.classes)
        result = self.quantifier.estimate(proba, seed=self.counter)
        if self.audit is not None:
            keys = set(zip(frame["paragraph_id"].astype(str), frame["target"].astype("string").fillna("")))
            part = self.audit[[k in keys for k in zip(self.audit["paragraph_id"], self.audit["target"])]]
            weights = part["weight"].to_numpy(float) if "weight" in part and len(part) else None
            ppi = ppi_estimate(self.classes, part["label"], proba_matrix(part, self.classes), proba, self.settings,
                               weights=weights)
            if self.task == "stance":
                contrast = np.array([1.0 if c == "favourable" else -1.0 if c == "unfavourable" else 0.0
                                     for c in self.classes])
                net = ppi_estimate(self.classes, part["label"], proba_matrix(part, self.classes), proba,
                                   self.settings, contrast=contrast, weights=weights)
                ppi = Estimate(np.append(ppi.estimate, net.estimate), np.append(ppi.low, net.low),
                               np.append(ppi.high, net.high), [*ppi.status, *net.status], [*ppi.reason, *net.reason],
                               se=np.append(ppi.se, net.se), extra=ppi.extra)
                result["PPI"] = ppi
            else:
                result["PPI"] = ppi
        if "PPI" in result:
            for method in ("ACC", "PACC"):
                if method in result:
                    check_against_audit(result[method], result["PPI"], len(self.classes))
        if self.task == "stance":
            result = {m: (r if m == "PPI" else self._net(r, len(frame), m)) for m, r in result.items()}
        return result

    def rows(self, base: dict[str, Any], n: int, result: dict[str, Estimate]) -> list[dict[str, Any]]:
        rows = []
        for method, r in result.items():
            for j, c in enumerate(self.labels):
                if method == "PPI":
                    n_cal = r.extra.get("n_audit", 0)
                elif method == "CC":
                    n_cal = 0
                else:
                    n_cal = (int(self.quantifier.n_calibration[j]) if c != NET else
                             int(min(self.quantifier.n_calibration[self.classes.index(x)]
                                     for x in ("favourable", "unfavourable"))))
                rows.append({**base, "class": c, "method": method, "estimate": _num(r.estimate[j]),
                             "low": _num(r.low[j]), "high": _num(r.high[j]), "n": n, "n_calibration": n_cal,
                             "status": r.status[j], "reason": r.reason[j]})
        return rows

    def differences(self, base: dict[str, Any], a: dict[str, Estimate], b: dict[str, Estimate]) -> list[dict[str, Any]]:
        rows = []
        for method in a:
            ra, rb = a[method], b[method]
            for j, c in enumerate(self.labels):
                status = worst(ra.status[j], rb.status[j])
                reason = "; ".join(r for r in dict.fromkeys([ra.reason[j], rb.reason[j]]) if r)
                if status == NOT_ESTIMABLE:
                    d = low = high = np.nan
                else:
                    kind = ("newcombe" if method == "CC" and c != NET else "normal" if method == "PPI"
                            else "bootstrap")
                    d, low, high = difference(ra, rb, j, self.settings.level, kind)
                    if c != NET and kind != "newcombe":  # no finer than counting the two groups resolves
                        _, nl, nh = difference(ra, rb, j, self.settings.level, "newcombe")
                        low, high = min(low, nl), max(high, nh)
                    low, high = max(low, -1.0 if c != NET else -2.0), min(high, 1.0 if c != NET else 2.0)
                rows.append({**base, "class": c, "method": method, "difference": _num(d), "low": _num(low),
                             "high": _num(high), "n_a": ra.extra.get("n"), "n_b": rb.extra.get("n"),
                             "status": status, "reason": reason})
        return rows


def _num(value: Any) -> float | None:
    value = float(value)
    return None if np.isnan(value) else value


def period_labels(dates: pd.Series) -> tuple[pd.Series, str]:
    """Month labels (2024-03) where months hold enough paragraphs to estimate from, else quarters (2024Q1)."""
    when = pd.to_datetime(dates, errors="coerce")
    freq = "M" if when.notna().any() and when.dt.to_period("M").value_counts().median() >= 30 else "Q"
    return when.dt.to_period(freq).astype("string"), "month" if freq == "M" else "quarter"


def estimate_run(predictions: pd.DataFrame, estimator: GroupEstimator, run: str, task: str,
                 gold: pd.DataFrame | None, progress: bool) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """estimates.csv and differences.csv rows for one run (see ESTIMATE_COLUMNS, DIFFERENCE_COLUMNS)."""
    frame = predictions.assign(target=predictions["target"].astype("string").fillna(""))
    periods, unit = (period_labels(frame["date"]) if "date" in frame else (pd.Series(pd.NA, index=frame.index), "quarter"))
    frame = frame.assign(period=periods)
    jobs = []  # (dimension, outlet, period, target, part)
    for target, by_target in frame.groupby("target", sort=True):
        jobs.append(("all", ALL, "", target, by_target))
        for outlet, part in by_target.groupby("outlet", sort=True):
            jobs.append(("outlet", outlet, "", target, part))
        if task != "stance" and by_target["period"].nunique() >= 2:
            for period, part in by_target.dropna(subset=["period"]).groupby("period", sort=True):
                jobs.append(("period", ALL, period, target, part))
            for (outlet, period), part in by_target.dropna(subset=["period"]).groupby(["outlet", "period"], sort=True):
                jobs.append(("outlet-period", outlet, period, target, part))
    rows, diffs, results = [], [], {}
    for dimension, outlet, period, target, part in bar(jobs, desc="estimates", unit="group", show=progress):
        result = estimator.estimate(part)
        group = " · ".join(x for x in (outlet if outlet != ALL or dimension == "all" else "", period, target) if x) or ALL
        if dimension == "period":
            group = period + (f" · {target}" if target else "")
        base = {"run": run, "task": task, "dimension": dimension, "group": group, "outlet": outlet,
                "period": period, "target": target}
        rows += estimator.rows(base, len(part), result)
        if dimension == "outlet":
            results[(target, outlet)] = (result, len(part))
    # Differences between outlets (every pair, and each against all the others), per target.
    targets = sorted({t for t, _ in results})
    pairs = []
    for target in targets:
        outlets = sorted(o for t, o in results if t == target)
        for i, a in enumerate(outlets):
            for b in outlets[i + 1:]:
                pairs.append((target, a, b))
            if len(outlets) > 2:
                pairs.append((target, a, REST))
    by_target = dict(tuple(frame.groupby("target", sort=True)))
    for target, a, b in bar(pairs, desc="differences", unit="pair", show=progress):
        # "The rest" is cut out one pair at a time: holding every outlet's complement at once took
        # (outlets x corpus) memory, 7.9 GiB at 10^6 paragraphs and 40 outlets.
        rest = by_target[target][by_target[target]["outlet"] != a] if b == REST else None
        other = estimator.estimate(rest) if rest is not None else results[(target, b)][0]
        base = {"run": run, "task": task, "dimension": "outlet vs rest" if rest is not None else "outlet pair",
                "group_a": a, "group_b": b, "target": target}
        diffs += estimator.differences(base, results[(target, a)][0], other)
    if gold is not None and len(gold):
        for r in gold.rename(columns={"class": "cls"}).itertuples():
            n = int(r.gold_n)
            low, high = clopper_pearson(np.array([round(r.gold_share * n)]), n, estimator.settings.level)
            group = r.outlet + (f" · {r.target}" if r.target else "")
            rows.append({"run": run, "task": task, "dimension": "outlet", "group": group, "outlet": r.outlet,
                         "period": "", "target": r.target, "class": r.cls, "method": "gold",
                         "estimate": r.gold_share, "low": float(low[0]), "high": float(high[0]), "n": n,
                         "n_calibration": n, "status": OK, "reason": "gold labels of the outlet's labelled paragraphs"})
    return (pd.DataFrame(rows, columns=ESTIMATE_COLUMNS), pd.DataFrame(diffs, columns=DIFFERENCE_COLUMNS), unit)


def gold_shares(gold: pd.DataFrame | None, classes: list[str], task: str) -> pd.DataFrame:
    if gold is None:
        return pd.DataFrame(columns=["outlet", "target", "class", "gold_share", "gold_n"])
    rows = []
    frame = gold.assign(outlet=_outlet(gold["outlet"]))
    if task == "stance":
        for r in frame.itertuples():
            labels = r.gold if isinstance(r.gold, dict) else (json.loads(r.gold) if isinstance(r.gold, str) and r.gold
                                                              else {})
            rows += [{"outlet": r.outlet, "target": a, "label": v} for a, v in labels.items()]
        long = pd.DataFrame(rows, columns=["outlet", "target", "label"])
    else:
        long = frame.loc[frame["gold"].notna(), ["outlet", "gold"]].rename(columns={"gold": "label"})
        long["target"] = ""
    out = []
    for key, part in long.groupby(["outlet", "target"]):
        for c in classes:
            out.append({"outlet": key[0], "target": key[1], "class": c,
                        "gold_share": float((part["label"] == c).mean()), "gold_n": len(part)})
    return pd.DataFrame(out, columns=["outlet", "target", "class", "gold_share", "gold_n"])


# ------------------------------------------------------------------ figures (drawn from estimates.csv only)

GREY = "0.6"
MAX_PANELS = 12  # small multiples beyond this are unreadable on a page; the CSV has every outlet


def _label(outlet: str, n: Any) -> str:
    return f"{outlet} (n={int(n)})"


def distribution_figure(est: pd.DataFrame, classes: list[str], stem: Path, method: str) -> pd.DataFrame:
    """One panel per class, one row per outlet: the corrected share (`method`) with its 95% interval,
    naive classify-and-count (open circle) and gold where labelled (x). Unreliable estimates are
    grey and hollow; not-estimable ones are marked, never drawn as a value."""
    rows = est[est["dimension"].isin(["outlet", "all"])]
    outlets = sorted(set(rows["outlet"]) - {ALL}, reverse=True) + [ALL]  # all outlets together on top
    n_of = rows.groupby("outlet")["n"].max()
    y = np.arange(len(outlets))
    fig, axes = new_figure(1.4 + 1.55 * len(classes), 1.1 + 0.3 * len(outlets), ncols=len(classes))
    axes = np.atleast_1d(axes)
    for k, c in enumerate(classes):
        ax, color = axes[k], PALETTE[k % len(PALETTE)]
        part = rows[rows["class"] == c]
        main = part[part["method"] == method].set_index("outlet").reindex(outlets)
        cc = part[part["method"] == "CC"].set_index("outlet")["estimate"].reindex(outlets)
        gold = part[part["method"] == "gold"].set_index("outlet")["estimate"].reindex(outlets)
        blank = (main["status"] == NOT_ESTIMABLE) | main["estimate"].isna()
        for i in np.flatnonzero(blank.to_numpy()):
            ax.text(1.0, i + 0.28, "not estimable", ha="right", va="center", fontsize=5.5, color="0.35",
                    style="italic")
        for ok in (True, False):
            keep = (~blank & ((main["status"] == OK) == ok)).to_numpy()
            if not keep.any():
                continue
            shade = color if ok else GREY
            ax.hlines(y[keep], main["low"].to_numpy(float)[keep], main["high"].to_numpy(float)[keep], color=shade,
                      linewidth=1.4 if ok else 1.0, linestyles="solid" if ok else (0, (2, 1)))
            for value, i in zip(main["estimate"].to_numpy(float)[keep], y[keep]):
                ax.plot(value, i, "o", markersize=4, markerfacecolor=color if ok else "white", markeredgecolor=shade)
        ax.plot(cc.to_numpy(float), y, "o", markerfacecolor="none", markeredgecolor="0.3", markersize=2.5,
                markeredgewidth=0.6)
        ax.plot(gold.to_numpy(float), y, "x", color="0.1", markersize=3.5)
        ax.set(xlim=(-0.02, 1.02), title=c, yticks=y, ylim=(-0.7, len(outlets) - 0.3))
        ax.set_yticklabels([_label(o, n_of[o]) for o in outlets] if k == 0 else [])
        ax.grid(axis="x", color="0.9", linewidth=0.5)
        ax.set_xlabel("share")
    handles = [plt.Line2D([], [], marker="o", color="0.2", markersize=4, label=f"{method}, 95% CI"),
               plt.Line2D([], [], marker="o", color=GREY, markerfacecolor="white", linestyle=(0, (2, 1)), markersize=4,
                          label="unreliable (wide CI or small n)"),
               plt.Line2D([], [], marker="o", linestyle="none", markerfacecolor="none", markeredgecolor="0.3",
                          markersize=3, label="classify & count (uncorrected)")]
    if rows["method"].eq("gold").any():
        handles.append(plt.Line2D([], [], marker="x", linestyle="none", color="0.1", markersize=4, label="gold labels"))
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), frameon=False, fontsize=6)
    save_figure(fig, stem)
    return rows[rows["method"].isin([method, "CC", "gold"])]


def net_stance_figure(est: pd.DataFrame, stem: Path, actors: list[str], method: str) -> pd.DataFrame:
    """Outlet x actor heatmap of net stance with its interval and n in every cell. Colour only for
    `ok` cells; unreliable cells are hatched grey, not-estimable cells say so, and an outlet that
    never mentions an actor is left blank with a dash (not a zero)."""
    net = est[(est["dimension"] == "outlet") & (est["class"] == NET) & (est["method"] == method)]
    outlets = sorted(net["outlet"].unique())
    targets = [a for a in actors if a in set(net["target"])] + sorted(set(net["target"]) - set(actors))
    fig, ax = new_figure(1.6 + 1.05 * len(targets), 0.9 + 0.5 * len(outlets))
    cmap = matplotlib.colormaps["RdBu"]
    cells = net.set_index(["outlet", "target"])
    for i, o in enumerate(outlets):
        for j, t in enumerate(targets):
            box = dict(xy=(j - 0.5, i - 0.5), width=1, height=1)
            if (o, t) not in cells.index:
                ax.add_patch(plt.Rectangle(**box, facecolor="white", edgecolor="0.85", linewidth=0.5))
                ax.text(j, i, "—\nno items", ha="center", va="center", fontsize=5.5, color="0.5")
                continue
            r = cells.loc[(o, t)]
            if r["status"] == NOT_ESTIMABLE or pd.isna(r["estimate"]):
                ax.add_patch(plt.Rectangle(**box, facecolor="white", edgecolor="0.6", hatch="xxx", linewidth=0.5))
                ax.text(j, i, f"not estimable\nn={int(r['n'])}", ha="center", va="center", fontsize=5.5,
                        color="0.2", bbox=dict(facecolor="white", edgecolor="none", pad=0.5))
                continue
            ok = r["status"] == OK
            face = cmap((r["estimate"] + 1) / 2) if ok else "0.88"
            ax.add_patch(plt.Rectangle(**box, facecolor=face, edgecolor="0.85" if ok else "0.6",
                                       hatch=None if ok else "///", linewidth=0.5))
            dark = ok and abs(r["estimate"]) > 0.55
            ax.text(j, i, f"{r['estimate']:+.2f}\n[{r['low']:+.2f}, {r['high']:+.2f}]\nn={int(r['n'])}",
                    ha="center", va="center", fontsize=5.5, color="white" if dark else "0.1",
                    bbox=None if ok else dict(facecolor="0.88", edgecolor="none", pad=0.5))
    ax.set(xlim=(-0.5, len(targets) - 0.5), ylim=(len(outlets) - 0.5, -0.5), xticks=range(len(targets)),
           yticks=range(len(outlets)))
    ax.set_xticklabels(targets, rotation=30, ha="right")
    ax.set_yticklabels(outlets)
    ax.spines[:].set_visible(False)
    ax.tick_params(length=0)
    mappable = matplotlib.cm.ScalarMappable(norm=matplotlib.colors.Normalize(-1, 1), cmap=cmap)
    fig.colorbar(mappable, ax=ax, label=f"favourable − unfavourable ({method})", shrink=0.8)
    ax.set_title("Net stance toward each actor: estimate, [95% CI], n\n"
                 "grey hatched: unreliable · crossed: not estimable · dash: no paragraphs", fontsize=7)
    save_figure(fig, stem)
    return net


def trend_figure(est: pd.DataFrame, classes: list[str], stem: Path, method: str, unit: str) -> pd.DataFrame:
    """Small multiples: one panel per outlet (and all outlets), shares per period with 95% CIs.
    Periods are labelled as what they are (2024Q1 for quarters, 2024-03 for months)."""
    rows = est[est["dimension"].isin(["period", "outlet-period"]) & (est["method"] == method)]
    periods = sorted(rows["period"].unique())
    sizes = rows[rows["outlet"] != ALL].drop_duplicates(["outlet", "period"]).groupby("outlet")["n"].sum()
    largest = sizes.sort_values(ascending=False, kind="stable").index[:MAX_PANELS - 1]
    panels = [ALL] + sorted(largest)
    ncols = min(4, len(panels))
    nrows = -(-len(panels) // ncols)
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(nrows, ncols, figsize=(1.9 * ncols + 0.4, 1.55 * nrows + 0.7), layout="constrained",
                                 sharex=True, sharey=True, squeeze=False)
    x = {p: i for i, p in enumerate(periods)}
    for ax, outlet in zip(axes.flat, panels):
        part = rows[rows["outlet"] == outlet]
        n = part.drop_duplicates("period")["n"].sum()
        for k, c in enumerate(classes):
            color = PALETTE[k % len(PALETTE)]
            pc = part[part["class"] == c].sort_values("period")
            xs = np.array([x[p] for p in pc["period"]]) + (k - (len(classes) - 1) / 2) * 0.08
            ax.plot(xs, pc["estimate"].to_numpy(float), color=color, linewidth=0.6, alpha=0.45, label=c)
            blank = ((pc["status"] == NOT_ESTIMABLE) | pc["estimate"].isna()).to_numpy()
            if blank.any():
                ax.plot(xs[blank], np.full(blank.sum(), 0.02), "x", color=GREY, markersize=3, linestyle="none")
            for ok in (True, False):
                keep = ~blank & ((pc["status"] == OK).to_numpy() == ok)
                if not keep.any():
                    continue
                est = pc["estimate"].to_numpy(float)[keep]
                ax.errorbar(xs[keep], est, yerr=[est - pc["low"].to_numpy(float)[keep],
                                                 pc["high"].to_numpy(float)[keep] - est],
                            fmt="o", markersize=2.5, color=color if ok else GREY, ecolor=color if ok else GREY,
                            elinewidth=0.8 if ok else 0.5, markerfacecolor=color if ok else "white",
                            markeredgecolor=color if ok else GREY, markeredgewidth=0.6, alpha=1 if ok else 0.7)
        ax.set_title(f"{outlet} (n={int(n)})", fontsize=7)
        ax.set_ylim(0, 1)
        ax.grid(axis="y", color="0.92", linewidth=0.5)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    step = -(-len(periods) // 12)  # at most 12 labels per axis; every period keeps its tick
    for ax in axes.flat:
        ax.set_xticks(range(len(periods)))
        ax.set_xticklabels([p if i % step == 0 else "" for i, p in enumerate(periods)], rotation=45, ha="right",
                           fontsize=6)
    for ax in axes[:, 0]:
        ax.set_ylabel(f"share ({method})")
    handles = [plt.Line2D([], [], color=PALETTE[k % len(PALETTE)], marker="o", markersize=3, label=c)
               for k, c in enumerate(classes)]
    handles.append(plt.Line2D([], [], color=GREY, marker="o", markerfacecolor="white", markersize=3,
                              label="unreliable"))
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), frameon=False, fontsize=6)
    left_out = f"; the {len(largest)} largest of {len(sizes)} outlets, all in the CSV" if len(sizes) > len(largest) else ""
    fig.suptitle(f"Shares per {unit}, by outlet ({method}, 95% CI{left_out})", fontsize=8)
    save_figure(fig, stem)
    return rows


def syndication_figure(shares: pd.DataFrame, classes: list[str], stem: Path) -> pd.DataFrame:
    rows = list(dict.fromkeys(zip(shares["story"], shares["outlet"])))
    n_of = shares.drop_duplicates(["story", "outlet"]).set_index(["story", "outlet"])["paragraphs"]
    labels = [f"{s} · {o} (n={int(n_of[(s, o)])})" for s, o in rows]
    fig, ax = new_figure(6.0, 1.4 + 0.28 * len(rows))
    left = np.zeros(len(rows))
    for k, c in enumerate(classes):
        width = np.array([shares[(shares["story"] == s) & (shares["outlet"] == o) & (shares["class"] == c)]["share"].sum()
                          for s, o in rows])
        ax.barh(labels[::-1], width[::-1], left=left[::-1], color=PALETTE[k % len(PALETTE)], label=c, height=0.6)
        left = left + width
    ax.set(xlim=(0, 1), xlabel="share of the story's paragraphs (predicted labels, uncorrected)")
    ax.set_title("Shared stories across outlets", pad=4)
    fig.legend(ncols=len(classes), loc="outside lower center", frameon=False, fontsize=7)
    save_figure(fig, stem)
    return shares


# ------------------------------------------------------------------ one run


def estimate_and_draw(name: str, task: str, classes: list[str], predictions: pd.DataFrame, cal_true: pd.Series,
                      cal_proba: np.ndarray, audit: pd.DataFrame | None, gold: pd.DataFrame | None, actors: list[str],
                      out: Path, settings: Settings, progress: bool) -> dict[str, Any]:
    """Estimates, differences, figures and page sections for one set of predictions."""
    method = "PPI" if audit is not None else DEFAULT_METHOD
    estimator = GroupEstimator(classes, cal_true, cal_proba, settings, audit, task)
    est, diff, unit = estimate_run(predictions, estimator, name, task, gold, progress)
    sections = []
    prefix = f"{task}-" if task != "framing" else ""
    if task == "stance":
        stem = out / f"{prefix}net_stance"
        data = net_stance_figure(est, stem, actors, method)
        files.write_csv(stem.with_suffix(".csv"), data)
        files.write_text(stem.with_suffix(".tex"), to_latex(
            data[["outlet", "target", "estimate", "low", "high", "n", "status"]].round(3),
            f"Net stance (favourable minus unfavourable, {method}) with 95\\% CI"))
        sections.append({"title": "Net stance toward each actor, by outlet", "stem": stem,
                         "table": data[["outlet", "target", "estimate", "low", "high", "n", "status", "reason"]],
                         "text": f"Favourable minus unfavourable share of each outlet's paragraphs that mention the "
                                 f"actor, corrected for classifier error ({method}), with its 95% interval and the "
                                 "number of paragraphs. Only cells with status ok are coloured; grey hatched cells "
                                 "are unreliable (interval wider than the limit, or too few paragraphs), crossed "
                                 "cells cannot be estimated, and a dash means the outlet never mentions the actor."})
    else:
        stem = out / f"{prefix}distribution"
        data = distribution_figure(est, classes, stem, method)
        files.write_csv(stem.with_suffix(".csv"), data)
        files.write_text(stem.with_suffix(".tex"), to_latex(
            data[["outlet", "method", "class", "estimate", "low", "high", "n", "status"]].round(3),
            f"{task.capitalize()} shares by outlet: corrected ({method}), naive (CC) and gold where labelled"))
        sections.append({"title": f"{task.capitalize()} by outlet", "stem": stem,
                         "table": data[["outlet", "class", "method", "estimate", "low", "high", "n", "n_calibration",
                                        "status", "reason"]],
                         "text": f"Share of each {task} class among each outlet's paragraphs, corrected for the "
                                 f"classifier's errors ({method}), with 95% intervals; n is the number of paragraphs. "
                                 "Grey hollow points are unreliable, 'not estimable' says the data cannot give a "
                                 "corrected share (reasons in the table and estimates.csv). Open circles: naive "
                                 "classify-and-count; x: gold labels where the corpus has them."})
        if est["dimension"].eq("outlet-period").any():
            stem = out / f"{prefix}trend"
            data = trend_figure(est, classes, stem, method, unit)
            files.write_csv(stem.with_suffix(".csv"), data)
            files.write_text(stem.with_suffix(".tex"), to_latex(
                data[["outlet", "period", "class", "estimate", "low", "high", "n", "status"]].round(3),
                f"{task.capitalize()} shares per {unit} ({method})"))
            sections.append({"title": "Over time", "stem": stem,
                             "table": data[["outlet", "period", "class", "estimate", "low", "high", "n", "status"]],
                             "text": f"Shares per {unit}, one panel per outlet and one for all outlets ({method}, "
                                     "95% intervals; grey hollow points are unreliable, x marks a period that "
                                     "cannot be estimated)."})
        spread = predictions.groupby("cluster_id")["outlet"].nunique() if "cluster_id" in predictions else pd.Series()
        stories = spread[spread >= 2].sort_values(ascending=False).index[:6]
        if len(stories):
            rows = []
            for k, story in enumerate(stories, start=1):
                part = predictions[predictions["cluster_id"] == story]
                for outlet, op in part.groupby("outlet", sort=True):
                    for c in classes:
                        rows.append({"story": f"story {k}", "cluster_id": story, "outlet": outlet, "class": c,
                                     "share": float((op["pred"] == c).mean()), "paragraphs": len(op)})
            shares = pd.DataFrame(rows)
            stem = out / f"{prefix}syndication"
            syndication_figure(shares, classes, stem)
            files.write_csv(stem.with_suffix(".csv"), shares)
            files.write_text(stem.with_suffix(".tex"), to_latex(shares.round(3), "Predicted labels of shared stories by outlet"))
            sections.append({"title": "Syndicated stories", "stem": stem, "table": shares,
                             "text": "Stories carried by two or more outlets (the same story cluster) and the share "
                                     "of each label the model gives the paragraphs each outlet printed; differences "
                                     "come from what each outlet kept, cut or added. Counts are small and the labels "
                                     "uncorrected: read, don't test."})
    return {"sections": [{**s, "run": name, "task": task} for s in sections], "estimates": est, "differences": diff,
            "method": method, "task": task, "name": name}


def audit_weights(table: pd.DataFrame, path: Path) -> pd.DataFrame:
    """An optional `weight` (or `design_weight`, as stance.annotate sample names it) column: each
    audit item's design weight (1 / its inclusion probability), for an audit drawn with unequal
    probabilities, e.g. stratified by outlet. Positive numbers, or the file is refused."""
    if "design_weight" in table and "weight" not in table:  # the column `stance annotate sample` writes
        table = table.rename(columns={"design_weight": "weight"})
    elif "design_weight" in table:
        raise StanceError(f"{path}: both weight and design_weight columns; keep one")
    if "weight" not in table:
        return table
    values = pd.to_numeric(table["weight"], errors="coerce")
    bad = values.isna() | ~np.isfinite(values) | (values <= 0)
    if bad.any():
        line = int(table.index[bad][0]) + 2
        raise StanceError(f"{path}: line {line}: weight must be a positive number, got {table['weight'][bad].iloc[0]!r}")
    return table.assign(weight=values.astype(float))


def read_audit(path: str | None, classes: list[str], predictions: pd.DataFrame) -> pd.DataFrame | None:
    """Audit labels joined to the model's probabilities for the same items (for PPI)."""
    if not path:
        return None
    table = read_labelled_table(Path(path), "audit")
    check_labels(table, classes, Path(path), "audit")
    table = audit_weights(table, Path(path))
    keyed = predictions.assign(paragraph_id=predictions["paragraph_id"].astype(str),
                               target=predictions["target"].astype("string").fillna("") if "target" in predictions else "")
    prob = [c for c in keyed.columns if c.startswith("prob_")]
    joined = table[["paragraph_id", "target", "label", *(["weight"] if "weight" in table else [])]].merge(keyed[["paragraph_id", "target", *prob]],
                                                             on=["paragraph_id", "target"], how="left", indicator=True)
    missing = joined[joined["_merge"] == "left_only"]
    if len(missing):
        r = missing.iloc[0]
        raise StanceError(f"{path}: {len(missing)} audit item(s) are not among the predictions "
                          f"(first: paragraph {r['paragraph_id']!r}{' target ' + repr(r['target']) if r['target'] else ''})")
    return joined.drop(columns="_merge")


def report_run(run_dir: Path, out: Path, predictions_dir: str | None, settings: Settings, audit_path: str | None,
               say: Callable[..., None], progress: bool) -> tuple[dict[str, Any], list[str]]:
    """Estimates, differences and figures of one run under `out`: its corpus predicted (or the
    `predictions_dir` stance.predict wrote for it), less the paragraphs the model trained on,
    corrected with the run's test predictions as calibration set. Returns (result for the page
    and the summary, notes for the summary)."""
    record = read_complete_record(run_dir)
    cfg = read_run_config(run_dir, record)
    task, classes = cfg.task, cfg.label_schema.classes_for(cfg.task)
    say(f"stance.report: {run_dir.name} ({task})")
    calibration = calibration_set(run_dir)
    if audit_path:  # a bad audit file is refused before the corpus is predicted, not after
        audit_table = read_labelled_table(Path(audit_path), "audit")
        check_labels(audit_table, classes, Path(audit_path), "audit")
        audit_weights(audit_table, Path(audit_path))
    predictions = corpus_predictions(run_dir, cfg, out, predictions_dir, say, progress)
    predictions = predictions.assign(outlet=_outlet(predictions["outlet"]))
    notes = []
    # The model has seen its own training paragraphs: predictions on them are in-sample and far
    # more accurate than the held-out error rates PACC corrects for. Leave them out, wherever
    # the predictions come from (paragraph ids are stable, so they are recognised).
    seen = training_paragraphs(run_dir)
    before = predictions["paragraph_id"].nunique()
    if cfg.split.method == "kfold":
        predictions = with_out_of_fold(predictions, run_dir, seen)
    oof = predictions["out_of_fold"] if "out_of_fold" in predictions else pd.Series(False, index=predictions.index)
    in_sample = predictions["paragraph_id"].isin(seen) & ~oof.astype(bool)
    predictions = predictions[~in_sample]
    if "out_of_fold" in predictions and predictions["out_of_fold"].any():
        notes.append(f"Run {run_dir.name}: {int(predictions['out_of_fold'].sum())} predictions of paragraphs the "
                     "fold models trained on are the run's out-of-fold predictions (cross-validation).")
    if predictions["paragraph_id"].nunique() < before:
        notes.append(f"Run {run_dir.name}: estimates use the {predictions['paragraph_id'].nunique()} of {before} "
                     "corpus paragraphs the model was not trained on (its training paragraphs would be "
                     "predicted in-sample). Report on an unseen corpus with stance.predict for full coverage.")
    gold_source = gold_paragraphs(cfg)
    if gold_source is not None:  # gold over the same paragraphs as the estimates
        gold_source = gold_source[gold_source["paragraph_id"].isin(set(predictions["paragraph_id"]))]
    gold = gold_shares(gold_source, classes, task)
    audit = read_audit(audit_path, classes, predictions)
    result = estimate_and_draw(run_dir.name, task, classes, predictions, calibration["label"],
                               proba_matrix(calibration, classes), audit, gold, list(cfg.label_schema.actors), out,
                               settings, progress)
    metrics = read_run_metrics(run_dir, record)
    test = metrics["test"]
    notes.append(f"Run {run_dir.name}: {task}, test macro-F1 {test['macro_f1']:.3f} [{test['ci']['macro_f1']['low']:.3f}, "
                 f"{test['ci']['macro_f1']['high']:.3f}] on {test['n']} held-out items (majority-class floor "
                 f"{metrics['majority_baseline_test']['macro_f1']:.3f}); they are the calibration set of ACC/PACC.")
    result["data_fingerprint"] = record["data"]["fingerprint"]
    result["run_dir"] = run_dir
    return result, notes


def read_prediction_table(path: Path, classes: list[str], what: str, labelled: bool) -> pd.DataFrame:
    """Predictions from any classifier or annotator: `prob_<class>` columns, or a `pred` label column
    (one-hot probabilities then, so PACC equals ACC)."""
    if labelled:
        table = read_labelled_table(path, what)
        check_labels(table, classes, path, what)
    else:
        if not path.is_file():
            raise StanceError(f"{path}: {what} table not found")
        table = pd.read_parquet(path) if path.suffix.lower() == ".parquet" else (
            pd.read_json(path, lines=True, dtype=False) if path.suffix.lower() == ".jsonl" else pd.read_csv(path, dtype=str))
        if "paragraph_id" not in table:
            raise StanceError(f"{path}: the {what} table needs a paragraph_id column (it has "
                              f"{', '.join(map(str, table.columns))}; a CSV must be comma-separated)")
        table["paragraph_id"] = table["paragraph_id"].astype(str)
        if "target" in table:
            table["target"] = table["target"].astype("string").fillna("")
        check_unique_items(table, path, what)
    prob = [f"prob_{c}" for c in classes if f"prob_{c}" in table]
    if prob:
        check_probabilities(table, prob, classes, path, what)
    if not prob:
        if "pred" not in table:
            raise StanceError(f"{path}: the {what} table needs a pred column or prob_<class> columns "
                              f"(classes: {', '.join(classes)})")
        bad = table.loc[~table["pred"].astype(str).isin(classes), "pred"]
        if len(bad):
            raise StanceError(f"{path}: line {int(bad.index[0]) + 2}: predicted label {bad.iloc[0]!r} is not a class "
                              f"({', '.join(classes)})")
        for c in classes:
            table[f"prob_{c}"] = (table["pred"].astype(str) == c).astype(float)
    proba = proba_matrix(table, classes)
    table["pred"] = np.asarray(classes)[proba.argmax(axis=1)]
    for column, default in (("outlet", None), ("date", None), ("cluster_id", None), ("target", "")):
        if column not in table:
            table[column] = default
    return table


def check_probabilities(table: pd.DataFrame, prob: list[str], classes: list[str], path: Path, what: str) -> None:
    """prob_<class> columns must cover every class with numbers in [0, 1] that sum to 1 per row."""
    missing = [c for c in classes if f"prob_{c}" not in table]
    if missing:
        raise StanceError(f"{path}: the {what} table has no prob_ column for {', '.join(missing)}")
    values = table[prob].apply(pd.to_numeric, errors="coerce")
    offset = 1 if path.suffix.lower() in (".jsonl", ".json") else 2
    bad = values.isna().any(axis=1) | (values < 0).any(axis=1) | (values > 1).any(axis=1)
    if bad.any():
        raise StanceError(f"{path}: line {int(table.index[bad][0]) + offset}: probabilities must be numbers in [0, 1]")
    off = (values.sum(axis=1) - 1).abs() > 1e-3
    if off.any():
        i = table.index[off][0]
        raise StanceError(f"{path}: line {int(i) + offset}: the prob_ columns sum to {values.loc[i].sum():.3f}, not 1")
    table[prob] = values


def report_external(predictions_path: str, calibration_path: str | None, audit_path: str | None, task: str,
                    out: Path, settings: Settings, say: Callable[..., None], progress: bool) -> tuple[dict[str, Any], list[str]]:
    """Report on predictions made outside stance (another package, a language model, annotators)."""
    _, schema = corpus_defaults()
    classes = schema.classes_for(task)
    predictions = read_prediction_table(Path(predictions_path), classes, "predictions", labelled=False)
    predictions = predictions.assign(outlet=_outlet(predictions["outlet"]))
    if calibration_path:
        calibration = read_prediction_table(Path(calibration_path), classes, "calibration", labelled=True)
        cal_true, cal_proba = calibration["label"], proba_matrix(calibration, classes)
    elif audit_path:  # an audit sample is also a calibration set (it is labelled and predicted)
        cal_true, cal_proba = None, None
    else:
        raise StanceError("--external needs labelled data: --calibration (items labelled elsewhere, for ACC/PACC) "
                          "and/or --audit (a random labelled sample of this corpus, for PPI)")
    audit = read_audit(audit_path, classes, predictions)
    if cal_true is None:
        cal_true, cal_proba = audit["label"], proba_matrix(audit, classes)
    name = Path(predictions_path).stem
    say(f"stance.report: external predictions {predictions_path} ({task}, {len(predictions)} rows)")
    result = estimate_and_draw(name, task, classes, predictions, cal_true, cal_proba, audit, None,
                               list(schema.actors), out, settings, progress)
    notes = [f"External predictions {predictions_path}: calibrated on {len(cal_true)} labelled items"
             + (f", PPI on the audit sample {audit_path} ({len(audit)} items)" if audit is not None else "") + "."]
    return result, notes


# ------------------------------------------------------------------ summary


def summary_lines(result: dict[str, Any], settings: Settings, limit: int = 12) -> list[str]:
    """What the tables support, stated from estimates.csv and differences.csv only."""
    est, diff, method, task = result["estimates"], result["differences"], result["method"], result["task"]
    lines = []
    mine = est[(est["method"] == method) & (est["dimension"] == "outlet")]
    refused = mine[mine["status"] == NOT_ESTIMABLE]
    # One line per kind of reason (the counts in it vary by group: give their range).
    kinds = refused["reason"].str.replace(r"^\d+", "N", regex=True)
    for kind, part in refused.groupby(kinds, sort=True):
        counts = part["reason"].str.extract(r"^(\d+)")[0].dropna().astype(int)
        reason = kind.replace("N", f"{counts.min()}" if counts.min() == counts.max() else
                              f"{counts.min()} to {counts.max()}", 1) if len(counts) else kind
        labels = ", ".join("net stance" if c == NET else c for c in dict.fromkeys(part["class"]))
        lines.append(f"{task}: {labels} ({method}) not estimable for {part['group'].nunique()} of "
                     f"{mine['group'].nunique()} outlet groups: {reason}.")
    if len(mine):
        flagged = mine[mine["status"] == UNRELIABLE]
        widths = (mine["high"] - mine["low"]).dropna()
        lines.append(f"{task}: of {len(mine)} {method} outlet estimates, {int((mine['status'] == OK).sum())} are ok, "
                     f"{len(flagged)} unreliable (interval wider than {settings.max_width:g}, fewer than "
                     f"{settings.min_n} paragraphs or a small audit; greyed in the figures) and {len(refused)} not "
                     f"estimable" + (f"; median interval width {widths.median():.2f}." if len(widths) else "."))
    overall = est[(est["method"] == method) & (est["dimension"] == "all")]
    for target, part in overall.groupby("target", sort=True):
        cells = [f"{'net stance' if r.cls == NET else r.cls} " + (
            "not estimable" if r.status == NOT_ESTIMABLE else
            f"{r.estimate:.2f} [{r.low:.2f}, {r.high:.2f}]" + ("" if r.status == OK else " (unreliable)"))
            for r in part.rename(columns={"class": "cls"}).itertuples()]
        lines.append(f"{task}: all outlets{' toward ' + target if target else ''} (n={int(part['n'].max())}, "
                     f"{method}): " + "; ".join(cells) + ".")
    shown = diff[(diff["method"] == method) & (diff["status"] == OK) & diff["low"].notna()]
    clear = shown[(shown["low"] > 0) | (shown["high"] < 0)]
    clear = clear.reindex(clear["difference"].abs().sort_values(ascending=False).index)
    for r in clear.head(limit).rename(columns={"class": "cls"}).itertuples():
        about = f" toward {r.target}" if r.target else ""
        label = "net stance" if r.cls == NET else f"{r.cls} share"
        lines.append(f"{task}: {r.group_a} vs {r.group_b}{about}: {label} differs by {r.difference:+.2f} "
                     f"[{r.low:+.2f}, {r.high:+.2f}] ({method}, 95% CI excludes 0).")
    if len(clear) > limit:
        lines.append(f"{task}: {len(clear) - limit} more differences whose interval excludes 0 are in differences.csv.")
    if not len(clear):
        lines.append(f"{task}: the data cannot tell the outlets apart: no {method} difference between two outlets "
                     "(or an outlet and the rest) with status ok has a 95% interval that excludes 0.")
    return lines


def comparable_compare_figures(compare_dir: Path | None, results: list[dict[str, Any]]) -> tuple[list[Path], list[str]]:
    """stance.compare figures whose runs share the report's task and data (same data fingerprint)."""
    if not compare_dir or not compare_dir.is_dir():
        return [], []
    wanted = {(r["task"], r.get("data_fingerprint")) for r in results}
    run_dirs = [r["run_dir"] for r in results if "run_dir" in r]
    kept, notes = [], []
    for folder in sorted(p for p in compare_dir.iterdir() if p.is_dir()):
        table = folder / "runs.csv"
        keys = set()
        if table.is_file():
            for name in pd.read_csv(table, dtype=str)["run"]:
                folder_of_run = next((d.parent / name for d in run_dirs if (d.parent / name / "run.json").is_file()),
                                     None)
                if folder_of_run is None:
                    keys.add(None)
                    continue
                info = read_run_json(folder_of_run)
                keys.add((info.get("task"), info.get("data", {}).get("fingerprint")))
        if keys and None not in keys and keys <= wanted:
            kept += sorted(folder.glob("*.png"))
        else:
            notes.append(f"stance.compare figures in {folder} are left out: their runs are not all on this "
                         "report's task and data.")
    return kept, notes


# ------------------------------------------------------------------ page


def _img(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def html_page(title: str, summary: list[str], sections: list[dict[str, Any]], extra_figures: list[Path]) -> str:
    parts = [f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>",
             "<style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto;line-height:1.4}"
             "img{max-width:100%}table{border-collapse:collapse;font-size:.8rem}"
             "td,th{border-bottom:1px solid #ccc;padding:.2rem .5rem;text-align:left}</style>",
             "<script>window.addEventListener('load',()=>{const bad=[...document.images].filter("
             "i=>!i.complete||i.naturalWidth===0);document.body.dataset.images=document.images.length;"
             "document.body.dataset.brokenImages=bad.length;});</script></head><body>",
             f"<h1>{html.escape(title)}</h1>", "<ul>" + "".join(f"<li>{html.escape(s)}</li>" for s in summary) + "</ul>",
             "<p>Every number on this page is in <code>estimates.csv</code> (group, class, method, estimate, 95% "
             "interval, n, calibration count, status and reason) and <code>differences.csv</code>.</p>"]
    for s in sections:
        parts += [f"<h2>{html.escape(s['title'])} <small>({html.escape(s['task'])}, {html.escape(s['run'])})</small></h2>",
                  f"<p>{html.escape(s['text'])}</p>"]
        if s.get("stem") is not None:
            parts += [f"<img alt=\"{html.escape(s['title'])}\" src=\"{_img(s['stem'].with_suffix('.png'))}\">",
                      f"<p>Files: {html.escape(s['stem'].name)}.pdf, .png, .csv, .tex</p>"]
        parts.append("<details><summary>Numbers</summary>" + s["table"].to_html(index=False, float_format="%.3f",
                                                                             na_rep="") + "</details>")
    if extra_figures:
        parts.append("<h2>Model comparison (stance.compare, same task and data)</h2>")
        for f in extra_figures:
            parts += [f"<h3>{html.escape(f.parent.name)}: {html.escape(f.stem)}</h3>",
                      f"<img alt=\"{html.escape(f.stem)}\" src=\"{_img(f)}\">"]
    parts.append("</body></html>\n")
    return "\n".join(parts)


def report(items: list[str], out: Path | None = None, predictions: str | None = None, n_boot: int = 300,
           seed: int = 0, compare_dir: Path | None = Path("reports/compare"),
           say: Callable[..., None] = print, settings: Settings | None = None, audit: str | None = None,
           external: str | None = None, calibration: str | None = None, task: str = "framing",
           progress: bool = False) -> Path:
    """Write reports/<name>/ (see the module docstring); returns the folder.

    `items`: run folders or configs; or none with `external` (a predictions table from any
    classifier) plus `calibration` and/or `audit` labelled tables. Raises StanceError on bad input.
    """
    settings = settings or Settings(n_boot=n_boot, seed=seed)
    if external:
        if items:
            raise StanceError("--external reports on a predictions table; give no run or config with it")
        name = Path(external).stem
        out = out or Path("reports") / name
        out.mkdir(parents=True, exist_ok=True)
        result, summary = report_external(external, calibration, audit, task, out, settings, say, progress)
        results = [result]
    else:
        if not items:
            raise StanceError("give a run folder or config (or --external with --calibration/--audit)")
        runs = [resolve_run(i) for i in items]
        if predictions and len(runs) > 1:
            raise StanceError("--predictions applies to one run; give one run with it")
        if predictions:
            check_predictions_provenance(runs[0], Path(predictions))  # before anything is written
        if audit and len(runs) > 1:
            raise StanceError("--audit applies to one run; give one run with it")
        first = read_run_config(runs[0], read_complete_record(runs[0]))
        name = first.name
        out = out or Path("reports") / name
        out.mkdir(parents=True, exist_ok=True)
        results, summary = [], []
        for run in runs:
            result, notes = report_run(run, out, predictions, settings, audit, say, progress)
            results.append(result)
            summary += notes
    for result in results:
        summary += summary_lines(result, settings)
    estimates = pd.concat([r["estimates"] for r in results], ignore_index=True)
    differences = pd.concat([r["differences"] for r in results], ignore_index=True)
    files.write_csv(out / "estimates.csv", estimates)
    files.write_csv(out / "differences.csv", differences)
    sections = [s for r in results for s in r["sections"]]
    for r in results:
        d = r["differences"]
        shown = d[d["method"] == r["method"]].drop(columns=["run", "task", "method"])
        sections.append({"title": "Differences between outlets", "stem": None, "table": shown, "run": r["name"],
                         "task": r["task"],
                         "text": f"Every pair of outlets, and each outlet against all the others: difference in share "
                                 f"({r['method']}) with its 95% interval. A difference is a finding only when its "
                                 "status is ok and its interval excludes 0."})
    extra, notes = comparable_compare_figures(compare_dir, results)
    summary += notes
    title = f"stance report: {name}"
    files.write_text(out / "index.html", html_page(title, summary, sections, extra))
    say(f"wrote {out}/index.html, estimates.csv, differences.csv and {sum(s['stem'] is not None for s in sections)} figures")
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m stance.report", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("items", nargs="*", metavar="CONFIG_OR_RUN")
    parser.add_argument("--out", help="output folder (default reports/<name of the first config>)")
    parser.add_argument("--predictions", help="a stance.predict output folder to report on instead of the run's corpus")
    parser.add_argument("--audit", help="a random labelled sample of the reported corpus, optionally with a weight "
                                        "column of design weights (CSV/JSONL/Parquet: "
                                        "paragraph_id, label, and target for stance): adds PPI estimates")
    parser.add_argument("--external", help="predictions from any classifier or annotator (paragraph_id, outlet, "
                                           "date, target, and pred or prob_<class> columns) instead of a run")
    parser.add_argument("--calibration", help="with --external: labelled items with that classifier's predictions "
                                              "(paragraph_id, label, pred or prob_<class>) for ACC/PACC")
    parser.add_argument("--task", default="framing", choices=["framing", "sentiment", "stance"],
                        help="with --external: the task of the predictions (default framing)")
    parser.add_argument("--n-boot", type=int, default=300, help="bootstrap replicates per estimate (default 300)")
    parser.add_argument("--min-calibration", type=int, default=Settings.min_calibration,
                        help="calibration (or audit) items a class needs for a corrected share (default 10)")
    parser.add_argument("--max-width", type=float, default=Settings.max_width,
                        help="an interval wider than this is flagged unreliable (default 0.5)")
    parser.add_argument("--min-n", type=int, default=Settings.min_n,
                        help="a group with fewer paragraphs is flagged unreliable (default 20)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


@cli_entry
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.n_boot < 50:
        raise StanceError("--n-boot must be at least 50 for a 95% interval")
    settings = Settings(n_boot=args.n_boot, seed=args.seed, min_calibration=args.min_calibration,
                        max_width=args.max_width, min_n=args.min_n)
    set_quiet(args.quiet)
    report(args.items, Path(args.out) if args.out else None, args.predictions, settings=settings, audit=args.audit,
           external=args.external, calibration=args.calibration, task=args.task, progress=not args.quiet)
    return 0


if __name__ == "__main__":
    sys.exit(main())
