"""Inter-annotator agreement and adjudication over the long label table.

Agreement: Krippendorff's alpha (nominal; items rated by fewer than all annotators are fine)
per field, for stance per actor and pooled over actors; Cohen's kappa for every pair of
annotators on the items both labelled. Adjudication: the majority label per item and field;
ties are listed for review, and an adjudicator's labels, when given, win.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import cohen_kappa_score

from stance.annotate.labels import STANCE_PREFIX


def _alpha(matrix: pd.DataFrame) -> float | None:
    """Krippendorff's alpha (nominal) of an annotators x items table of labels (NaN = missing)."""
    import krippendorff

    values = sorted({v for v in matrix.to_numpy().ravel() if isinstance(v, str)})
    if len(values) < 2:
        return None  # one category in all ratings: alpha is undefined, not 1
    codes = matrix.apply(lambda col: col.map({v: i for i, v in enumerate(values)})).to_numpy(dtype=float)
    pairable = (~np.isnan(codes)).sum(axis=0) >= 2
    used = codes[:, pairable]
    if len(np.unique(used[~np.isnan(used)])) < 2:
        return None  # the doubly rated items use one category only: undefined
    return float(krippendorff.alpha(reliability_data=codes[:, pairable], level_of_measurement="nominal"))


def alpha_undefined_reason(matrix: pd.DataFrame) -> str | None:
    """Why alpha cannot be computed for an annotators x items table, or None when it can.

    The most basic reason wins: one annotator says more than "no item was rated twice", which
    says more than "one class".
    """
    raters = int((matrix.notna().sum(axis=1) > 0).sum())
    if raters < 2:
        who = ", ".join(map(str, matrix.index[matrix.notna().any(axis=1)])) or "nobody"
        return f"one annotator only ({who}): agreement needs two or more annotators of the same items"
    pairable = matrix.notna().sum(axis=0) >= 2
    if not pairable.any():
        return "no item was rated by two or more annotators"
    values = {v for v in matrix.loc[:, pairable].to_numpy().ravel() if isinstance(v, str)}
    if len(values) < 2:
        return (f"every rating of the items rated twice or more is one class ({next(iter(values))!r}): "
                "agreement is undefined, not perfect")
    return None


def _ratings(long: pd.DataFrame, fields: list[str]) -> pd.DataFrame:
    """annotators x (paragraph, field) items."""
    part = long[long["field"].isin(fields)]
    return part.pivot_table(index="annotator", columns=["paragraph_id", "field"], values="label",
                            aggfunc="first")


def agreement(long: pd.DataFrame) -> dict[str, Any]:
    annotators = sorted(long["annotator"].unique())
    stance_fields = sorted(f for f in long["field"].unique() if f.startswith(STANCE_PREFIX))
    groups: dict[str, list[str]] = {"framing": ["framing"], "sentiment": ["sentiment"]}
    if stance_fields:
        groups["stance (all actors)"] = stance_fields
        for f in stance_fields:
            groups[f"stance: {f[len(STANCE_PREFIX):]}"] = [f]
    out: dict[str, Any] = {"annotators": annotators, "fields": {}}
    for name, fields in groups.items():
        if not long["field"].isin(fields).any():
            continue
        matrix = _ratings(long, fields)
        both = matrix.notna().sum(axis=0) >= 2
        alpha = _alpha(matrix)
        entry: dict[str, Any] = {"items": int(matrix.shape[1]), "items_with_2plus_ratings": int(both.sum()),
                                 "annotators": int((matrix.notna().sum(axis=1) > 0).sum()),
                                 "krippendorff_alpha": alpha,
                                 "alpha_undefined_because": alpha_undefined_reason(matrix) if alpha is None else None,
                                 "percent_agreement": _percent(matrix.loc[:, both]), "cohen_kappa": {}}
        for a, b in itertools.combinations(annotators, 2):
            if a not in matrix.index or b not in matrix.index:
                continue
            pair = matrix.loc[[a, b]].dropna(axis=1)
            if pair.shape[1] == 0:
                continue
            ya, yb = pair.loc[a].to_numpy(), pair.loc[b].to_numpy()
            kappa = cohen_kappa_score(ya, yb) if len(set(ya) | set(yb)) > 1 else None
            entry["cohen_kappa"][f"{a} | {b}"] = {"n": int(pair.shape[1]),
                                                 "kappa": None if kappa is None or np.isnan(kappa) else float(kappa)}
        out["fields"][name] = entry
    return out


def _percent(matrix: pd.DataFrame) -> float | None:
    if matrix.shape[1] == 0:
        return None
    agree = [len(set(col.dropna())) == 1 for _, col in matrix.items()]
    return float(np.mean(agree))


def agreement_table(result: dict[str, Any]) -> pd.DataFrame:
    rows = []
    for name, entry in result["fields"].items():
        kappas = [k["kappa"] for k in entry["cohen_kappa"].values() if k["kappa"] is not None]
        rows.append({"field": name, "items": entry["items"], "doubly_rated": entry["items_with_2plus_ratings"],
                     "alpha": entry["krippendorff_alpha"], "percent_agreement": entry["percent_agreement"],
                     "mean_pairwise_kappa": float(np.mean(kappas)) if kappas else None,
                     "note": entry.get("alpha_undefined_because") or ""})
    return pd.DataFrame(rows)


def adjudicate(long: pd.DataFrame, adjudicator: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Gold labels (paragraph_id, field, label, decided_by, votes) and the ties left for review."""
    gold, ties = [], []
    overrides = {}
    if adjudicator is not None:
        overrides = {(r.paragraph_id, r.field): r.label for r in adjudicator.itertuples(index=False)}
    for (pid, field_name), part in long.groupby(["paragraph_id", "field"], sort=True):
        counts = part["label"].value_counts()
        votes = "; ".join(f"{label}={n}" for label, n in sorted(counts.items()))
        if (pid, field_name) in overrides:
            gold.append({"paragraph_id": pid, "field": field_name, "label": overrides[(pid, field_name)],
                         "decided_by": "adjudicator", "votes": votes})
            continue
        top = counts[counts == counts.max()]
        if len(top) > 1:
            ties.append({"paragraph_id": pid, "field": field_name, "candidates": "|".join(sorted(top.index)),
                         "votes": votes})
            continue
        gold.append({"paragraph_id": pid, "field": field_name, "label": top.index[0],
                     "decided_by": ("single annotator" if counts.sum() == 1 else
                                    "unanimous" if len(counts) == 1 else "majority"), "votes": votes})
    # An adjudicator may also settle items nobody else labelled twice: keep those too.
    labelled = {(g["paragraph_id"], g["field"]) for g in gold} | {(t["paragraph_id"], t["field"]) for t in ties}
    for (pid, field_name), label in overrides.items():
        if (pid, field_name) not in labelled:
            gold.append({"paragraph_id": pid, "field": field_name, "label": label, "decided_by": "adjudicator",
                         "votes": ""})
    columns = ["paragraph_id", "field", "label", "decided_by", "votes"]
    return (pd.DataFrame(gold, columns=columns).sort_values(["paragraph_id", "field"]).reset_index(drop=True),
            pd.DataFrame(ties, columns=["paragraph_id", "field", "candidates", "votes"]))
