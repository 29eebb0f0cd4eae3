"""`python -m stance.report CONFIG_OR_RUN [...]`: how outlets differ, with honest uncertainty.

For each trained run (a run folder, or a config whose newest complete run is used) the report
labels the run's corpus (or `--predictions` from stance.predict), estimates class shares per
outlet corrected for the classifier's errors (PACC and ACC from QuaPy, with the run's held-out
test predictions as the calibration set; bootstrap CIs), next to naive classify-and-count and,
where the corpus has them, the gold labels. Writes to reports/<name>/:

    distribution.*   class shares per outlet (stacked bars, PACC, CI whiskers)     framing, sentiment
    net_stance.*     favourable minus unfavourable share, outlet x actor heatmap    stance
    trend.*          class shares by month (where dates exist)
    syndication.*    how the outlets carrying the same story label its paragraphs
    prevalence.csv   every estimate: group, method (CC, PCC, ACC, PACC), class, CI
    index.html       one self-contained page with every figure, table and a summary

Every figure is PDF + 300-dpi PNG with its numbers as CSV and a LaTeX table. Figures from
stance.compare found under reports/compare/ are shown on the page too. The report is a view:
rerunning it rewrites the same bytes; runs are never touched.
"""

from __future__ import annotations

import argparse
import base64
import html
import json
import sys
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from stance import files
from stance.annotate.standoff import attach_standoff, resolve_annotations_path
from stance.compare import to_latex
from stance.config import TrainConfig, load_config
from stance.corpus.ingest import ingest, resolve_data_path
from stance.errors import StanceError, cli_entry
from stance.figures import PALETTE, new_figure, save_figure
from stance.predict import check_predictions_provenance, predict_corpus, read_predictions
from stance.quantify import prevalence
from stance.runs import is_run_dir, previous_runs, run_file, run_id_for

NO_OUTLET = "(no outlet)"
MIN_ITEMS = 5  # groups with fewer predictions are listed but not estimated


# ------------------------------------------------------------------ inputs


def resolve_run(item: str) -> Path:
    path = Path(item)
    if path.is_dir():
        if not is_run_dir(path):
            raise StanceError(f"{path}: not a run folder (no run.json and config.yaml)")
        return path
    if path.suffix in (".yaml", ".yml") and path.is_file():
        cfg = load_config(path)
        run_id = run_id_for(cfg.name, cfg.config_hash())
        done = [p for p in previous_runs(Path(cfg.output_dir), run_id)
                if json.loads((p / "run.json").read_text(encoding="utf-8")).get("status") == "complete"]
        if not done:
            raise StanceError(f"{path}: no complete run of this config in {cfg.output_dir}/ ({run_id}); "
                              f"train it first: python -m stance.train {path}")
        return done[-1]
    raise StanceError(f"{path}: neither a run folder nor a config file")


def calibration_set(run_dir: Path) -> pd.DataFrame:
    """Held-out test predictions with gold labels: first model seed, repeat 0, all folds."""
    predictions = files.read_parquet(run_file(run_dir, "predictions.parquet"), "the run's predictions file")
    first_seed = files.read_json(run_file(run_dir, "metrics.json"), "the run's metrics")["seeds"][0]
    keep = (predictions["split"] == "test") & (predictions["repeat"] == 0) & (predictions["seed"] == first_seed)
    return predictions[keep].reset_index(drop=True)


def corpus_predictions(run_dir: Path, cfg: TrainConfig, out: Path, given: str | None,
                       say: Callable[..., None]) -> pd.DataFrame:
    if given:
        check_predictions_provenance(run_dir, Path(given))
        return read_predictions(Path(given))
    folder = out / "predictions" / run_dir.name
    resume = (folder / "manifest.json").is_file()
    if resume and files.read_json(folder / "manifest.json", "the prediction manifest").get("status") == "complete":
        check_predictions_provenance(run_dir, folder)
        return read_predictions(folder)
    predict_corpus(run_dir, resolve_data_path(cfg.data.path), folder, resume=resume, progress=False, say=say)
    return read_predictions(folder)


def training_paragraphs(run_dir: Path) -> set[str]:
    """Paragraphs the predicting model (the run's first fit) was trained on."""
    split = pd.read_csv(run_file(run_dir, "split.csv"), dtype={"paragraph_id": str})
    first = split[(split["repeat"] == 0) & (split["fold"] == 0)]
    return set(first.loc[first["split"] == "train", "paragraph_id"])


def with_out_of_fold(predictions: pd.DataFrame, run_dir: Path, seen: set[str]) -> pd.DataFrame:
    """For a cross-validated run, replace the first fit's in-sample predictions of its training
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


def prevalence_rows(groups: dict[tuple, pd.DataFrame], calibration: pd.DataFrame, classes: list[str],
                    group_names: list[str], n_boot: int, seed: int) -> tuple[pd.DataFrame, dict[tuple, Any]]:
    cal_proba = calibration[[f"prob_{c}" for c in classes]].fillna(0).to_numpy()
    rows, replicates = [], {}
    for key, part in groups.items():
        base = dict(zip(group_names, key), n=len(part))
        if len(part) < MIN_ITEMS:
            rows.append({**base, "method": "too few items", "class": None, "estimate": None, "low": None,
                         "high": None})
            continue
        proba = part[[f"prob_{c}" for c in classes]].fillna(0).to_numpy()
        result = prevalence(classes, calibration["label"], cal_proba, proba, n_boot=n_boot, seed=seed,
                            keep_replicates=True)
        replicates[key] = result
        for method, r in result.items():
            for k, c in enumerate(classes):
                rows.append({**base, "method": method, "class": c, "estimate": float(r["estimate"][k]),
                             "low": float(r["low"][k]), "high": float(r["high"][k])})
    return pd.DataFrame(rows), replicates


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
        keys = ["outlet", "target"]
    else:
        long = frame.loc[frame["gold"].notna(), ["outlet", "gold"]].rename(columns={"gold": "label"})
        long["target"] = ""
        keys = ["outlet", "target"]
    out = []
    for key, part in long.groupby(keys):
        for c in classes:
            out.append({"outlet": key[0], "target": key[1], "class": c,
                        "gold_share": float((part["label"] == c).mean()), "gold_n": len(part)})
    return pd.DataFrame(out, columns=["outlet", "target", "class", "gold_share", "gold_n"])


# ------------------------------------------------------------------ figures


def distribution_figure(table: pd.DataFrame, gold: pd.DataFrame, classes: list[str], stem: Path,
                        task: str) -> pd.DataFrame:
    """Left: PACC shares stacked per outlet. Then one panel per class: PACC with its 95% CI
    (filled dot and line), naive classify-and-count (open circle) and gold where labelled (x)."""
    pacc = table[table["method"] == "PACC"]
    cc = table[table["method"] == "CC"].set_index(["outlet", "class"])["estimate"]
    gold_share = gold.set_index(["outlet", "class"])["gold_share"] if len(gold) else pd.Series(dtype=float)
    outlets = sorted(pacc["outlet"].unique(), reverse=True)
    y = np.arange(len(outlets))
    fig, axes = new_figure(2.2 + 1.5 * len(classes), 0.9 + 0.32 * len(outlets), ncols=1 + len(classes))
    left = np.zeros(len(outlets))
    data = []
    for k, c in enumerate(classes):
        part = pacc[pacc["class"] == c].set_index("outlet").reindex(outlets)
        width = part["estimate"].to_numpy(dtype=float)
        color = PALETTE[k % len(PALETTE)]
        axes[0].barh(y, width, left=left, color=color, label=c, height=0.65)
        left = left + width
        ax = axes[k + 1]
        low, high = part["low"].to_numpy(dtype=float), part["high"].to_numpy(dtype=float)
        ax.hlines(y, low, high, color=color, linewidth=1.2)
        ax.plot(width, y, "o", color=color, markersize=3.5)
        naive = [cc.get((o, c), np.nan) for o in outlets]
        ax.plot(naive, y, "o", markerfacecolor="none", markeredgecolor="0.3", markersize=4)
        labelled = [gold_share.get((o, c), np.nan) for o in outlets]
        ax.plot(labelled, y, "x", color="0.1", markersize=4)
        ax.set(xlim=(-0.02, 1.02), title=c, yticks=y, yticklabels=[])
        ax.grid(axis="x", color="0.9", linewidth=0.5)
        data += [{"outlet": o, "class": c, "pacc": w, "low": lo, "high": hi, "cc": n, "gold": g}
                 for o, w, lo, hi, n, g in zip(outlets, width, low, high, naive, labelled)]
    axes[0].set(yticks=y, yticklabels=outlets, xlim=(0, 1), title="PACC shares")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=len(classes), frameon=False)
    fig.suptitle(f"{task.capitalize()} by outlet: corrected share (dot, 95% CI), naive count (circle), gold (x)",
                 fontsize=8)
    save_figure(fig, stem)
    return pd.DataFrame(data)


def net_stance_figure(net: pd.DataFrame, stem: Path, actor_order: list[str]) -> pd.DataFrame:
    outlets = sorted(net["outlet"].unique())
    actors = [a for a in actor_order if a in set(net["target"])]
    grid = net.pivot(index="outlet", columns="target", values="net").reindex(index=outlets, columns=actors)
    fig, ax = new_figure(1.2 + 1.1 * len(actors), 0.9 + 0.5 * len(outlets))
    image = ax.imshow(grid.to_numpy(dtype=float), cmap="PuOr", vmin=-1, vmax=1, aspect="auto")
    for (i, o) in enumerate(outlets):
        for (j, a) in enumerate(actors):
            row = net[(net["outlet"] == o) & (net["target"] == a)]
            if len(row) and pd.notna(row["net"].iloc[0]):
                r = row.iloc[0]
                ax.text(j, i, f"{r.net:+.2f}\n[{r.low:+.2f}, {r.high:+.2f}]", ha="center", va="center", fontsize=6,
                        color="white" if abs(r.net) > 0.6 else "black")
    ax.set_xticks(range(len(actors)), actors)
    ax.set_yticks(range(len(outlets)), outlets)
    ax.spines[:].set_visible(False)
    fig.colorbar(image, ax=ax, label="favourable minus unfavourable share (PACC)", shrink=0.8)
    ax.set_title("Net stance toward each actor")
    save_figure(fig, stem)
    return grid.reset_index()


def trend_figure(table: pd.DataFrame, classes: list[str], stem: Path) -> pd.DataFrame:
    pacc = table[table["method"] == "PACC"].sort_values("month")
    fig, ax = new_figure(5.5, 3.0)
    for k, c in enumerate(classes):
        part = pacc[pacc["class"] == c]
        x = [pd.Period(m).to_timestamp() for m in part["month"]]
        color = PALETTE[k % len(PALETTE)]
        ax.plot(x, part["estimate"], marker="o", markersize=3, color=color, label=c)
        ax.fill_between(x, part["low"].astype(float), part["high"].astype(float), color=color, alpha=0.15, linewidth=0)
    ax.set(ylim=(0, 1), ylabel="share (PACC, 95% CI)", title="Shares over time, all outlets")
    ax.legend(fontsize=7, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=len(classes))
    fig.autofmt_xdate()
    save_figure(fig, stem)
    return pacc[["month", "class", "estimate", "low", "high", "n"]]


def syndication_figure(shares: pd.DataFrame, classes: list[str], stem: Path) -> pd.DataFrame:
    rows = list(dict.fromkeys(zip(shares["story"], shares["outlet"])))
    labels = [f"{s} · {o}" for s, o in rows]
    fig, ax = new_figure(6.0, 1.2 + 0.28 * len(rows))
    left = np.zeros(len(rows))
    for k, c in enumerate(classes):
        width = np.array([shares[(shares["story"] == s) & (shares["outlet"] == o) & (shares["class"] == c)]["share"].sum()
                          for s, o in rows])
        ax.barh(labels[::-1], width[::-1], left=left[::-1], color=PALETTE[k % len(PALETTE)], label=c, height=0.6)
        left = left + width
    ax.set(xlim=(0, 1), xlabel="share of the story's paragraphs (predicted)", title="Shared stories across outlets")
    ax.legend(ncols=len(classes), loc="lower center", bbox_to_anchor=(0.5, 1.04), frameon=False, fontsize=7)
    save_figure(fig, stem)
    return shares


# ------------------------------------------------------------------ one run


def report_run(run_dir: Path, out: Path, predictions_dir: str | None, n_boot: int, seed: int,
               say: Callable[..., None]) -> list[dict[str, Any]]:
    cfg = load_config(run_dir / "config.yaml")
    task, classes = cfg.task, cfg.label_schema.classes_for(cfg.task)
    say(f"stance.report: {run_dir.name} ({task})")
    calibration = calibration_set(run_dir)
    predictions = corpus_predictions(run_dir, cfg, out, predictions_dir, say)
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
                     "first fit trained on are the run's out-of-fold predictions (cross-validation).")
    if predictions["paragraph_id"].nunique() < before:
        notes.append(f"Run {run_dir.name}: estimates use the {predictions['paragraph_id'].nunique()} of {before} "
                     "corpus paragraphs the model was not trained on (its training paragraphs would be "
                     "predicted in-sample). Report on an unseen corpus with stance.predict for full coverage.")
    classes = [c for c in classes if f"prob_{c}" in predictions]
    gold_source = gold_paragraphs(cfg)
    if gold_source is not None:  # gold over the same paragraphs as the estimates
        gold_source = gold_source[gold_source["paragraph_id"].isin(set(predictions["paragraph_id"]))]
    gold = gold_shares(gold_source, classes, task)
    sections = []
    prefix = f"{task}-" if task != "framing" else ""

    if task == "stance":
        groups = {(o, t): p for (o, t), p in predictions.groupby(["outlet", "target"], sort=True)}
        table, reps = prevalence_rows(groups, calibration, classes, ["outlet", "target"], n_boot, seed)
        net_rows = []
        fav, unf = classes.index("favourable"), classes.index("unfavourable")
        for key, result in reps.items():
            r = result["PACC"]["replicates"]
            diff = r[:, fav] - r[:, unf]
            net_rows.append({"outlet": key[0], "target": key[1], "n": len(groups[key]),
                             "net": float(result["PACC"]["estimate"][fav] - result["PACC"]["estimate"][unf]),
                             "low": float(np.percentile(diff, 2.5)), "high": float(np.percentile(diff, 97.5))})
        net = pd.DataFrame(net_rows)
        stem = out / f"{prefix}net_stance"
        net_stance_figure(net, stem, list(cfg.label_schema.actors))
        files.write_csv(stem.with_suffix(".csv"), net)
        files.write_text(stem.with_suffix(".tex"), to_latex(net.round(3), "Net stance (favourable minus unfavourable, PACC) with 95\\% CI"))
        sections.append({"title": "Net stance toward each actor, by outlet", "stem": stem, "table": net,
                         "text": "Favourable minus unfavourable share of each outlet's paragraphs that mention the "
                                 "actor, corrected for classifier error (PACC); 95% bootstrap CI in brackets."})
    else:
        groups = {(o,): p for o, p in predictions.groupby("outlet", sort=True)}
        table, _ = prevalence_rows(groups, calibration, classes, ["outlet"], n_boot, seed)
        table["target"] = ""
        stem = out / f"{prefix}distribution"
        plotted = distribution_figure(table[table["method"] != "too few items"], gold, classes, stem, task)
        shown = table[table["method"].isin(["CC", "PACC"])].merge(gold, on=["outlet", "target", "class"], how="left")
        files.write_csv(stem.with_suffix(".csv"), plotted)
        files.write_text(stem.with_suffix(".tex"), to_latex(
            shown[["outlet", "method", "class", "estimate", "low", "high", "gold_share"]].round(3),
            f"{task.capitalize()} shares by outlet: naive (CC) and corrected (PACC), with gold where labelled"))
        sections.append({"title": f"{task.capitalize()} by outlet", "stem": stem, "table": shown,
                         "text": f"Share of each {task} class among each outlet's paragraphs, corrected for the "
                                 "classifier's confusion rates (PACC); whiskers are 95% bootstrap intervals. The "
                                 "table also gives naive classify-and-count (CC) and, where labelled, gold shares."})
        dated = predictions.dropna(subset=["date"])
        when = pd.to_datetime(dated["date"], errors="coerce")
        # Months when they hold enough paragraphs to estimate from, else quarters.
        freq = "M" if len(dated) and when.dt.to_period("M").value_counts().median() >= 30 else "Q"
        months = when.dt.to_period(freq).astype("string")
        if months.nunique() >= 2:
            mgroups = {(m,): p for m, p in dated.assign(month=months).groupby("month", sort=True)}
            mtable, _ = prevalence_rows(mgroups, calibration, classes, ["month"], n_boot, seed)
            mtable = mtable[mtable["method"] != "too few items"]
            if mtable["month"].nunique() >= 2:
                stem = out / f"{prefix}trend"
                data = trend_figure(mtable, classes, stem)
                files.write_csv(stem.with_suffix(".csv"), data)
                files.write_text(stem.with_suffix(".tex"), to_latex(data.round(3), f"{task.capitalize()} shares by month (PACC)"))
                sections.append({"title": "Over time", "stem": stem, "table": data,
                                 "text": f"Shares per {'month' if freq == 'M' else 'quarter'} over all outlets "
                                         f"(PACC, 95% CI); periods with fewer than {MIN_ITEMS} paragraphs are left out."})
        spread = predictions.groupby("cluster_id")["outlet"].nunique()
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
                                     "come from what each outlet kept, cut or added. Counts are small: read, don't test."})
    files.write_csv(out / f"{prefix}prevalence.csv", table)
    return [{**s, "run": run_dir.name, "task": task} for s in sections], notes


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
             f"<h1>{html.escape(title)}</h1>", "<ul>" + "".join(f"<li>{html.escape(s)}</li>" for s in summary) + "</ul>"]
    for s in sections:
        parts += [f"<h2>{html.escape(s['title'])} <small>({html.escape(s['task'])}, run {html.escape(s['run'])})</small></h2>",
                  f"<p>{html.escape(s['text'])}</p>",
                  f"<img alt=\"{html.escape(s['title'])}\" src=\"{_img(s['stem'].with_suffix('.png'))}\">",
                  f"<p>Files: {html.escape(s['stem'].name)}.pdf, .png, .csv, .tex</p>",
                  "<details><summary>Numbers</summary>" + s["table"].to_html(index=False, float_format="%.3f",
                                                                              na_rep="") + "</details>"]
    if extra_figures:
        parts.append("<h2>Model comparison (stance.compare)</h2>")
        for f in extra_figures:
            parts += [f"<h3>{html.escape(f.parent.name)}: {html.escape(f.stem)}</h3>",
                      f"<img alt=\"{html.escape(f.stem)}\" src=\"{_img(f)}\">"]
    parts.append("</body></html>\n")
    return "\n".join(parts)


def report(items: list[str], out: Path | None = None, predictions: str | None = None, n_boot: int = 300,
           seed: int = 0, compare_dir: Path | None = Path("reports/compare"),
           say: Callable[..., None] = print) -> Path:
    runs = [resolve_run(i) for i in items]
    if predictions and len(runs) > 1:
        raise StanceError("--predictions applies to one run; give one run with it")
    if predictions:
        check_predictions_provenance(runs[0], Path(predictions))  # before anything is written
    first = load_config(runs[0] / "config.yaml")
    out = out or Path("reports") / first.name
    out.mkdir(parents=True, exist_ok=True)
    sections, summary = [], []
    for run in runs:
        made, notes = report_run(run, out, predictions, n_boot, seed, say)
        sections += made
        summary += notes
        metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
        test = metrics["test"]
        summary.append(f"Run {run.name}: {load_config(run / 'config.yaml').task}, test macro-F1 "
                       f"{test['macro_f1']:.3f} [{test['ci']['macro_f1']['low']:.3f}, {test['ci']['macro_f1']['high']:.3f}] "
                       f"on {test['n']} held-out items (majority-class floor "
                       f"{metrics['majority_baseline_test']['macro_f1']:.3f}).")
    for s in sections:
        if s["title"].endswith("by outlet") and "method" in s["table"]:
            t = s["table"]
            p = t[(t["method"] == "PACC") & t["estimate"].notna()]
            for c, part in p.groupby("class"):
                top = part.sort_values("estimate", ascending=False).iloc[0]
                summary.append(f"Highest {c} share ({s['task']}): {top['outlet']}, {top['estimate']:.2f} "
                               f"[{top['low']:.2f}, {top['high']:.2f}] (PACC).")
    extra = sorted(compare_dir.glob("*/*.png")) if compare_dir and compare_dir.is_dir() else []
    files.write_text(out / "index.html", html_page(f"stance report: {first.name}", summary, sections, extra))
    say(f"wrote {out}/index.html and {len(sections)} figures")
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m stance.report", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("items", nargs="+", metavar="CONFIG_OR_RUN")
    parser.add_argument("--out", help="output folder (default reports/<name of the first config>)")
    parser.add_argument("--predictions", help="a stance.predict output folder to report on instead of the run's corpus")
    parser.add_argument("--n-boot", type=int, default=300, help="bootstrap replicates per estimate (default 300)")
    parser.add_argument("--seed", type=int, default=0)
    return parser


@cli_entry
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    report(args.items, Path(args.out) if args.out else None, args.predictions, args.n_boot, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
