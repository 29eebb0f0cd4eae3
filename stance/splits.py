"""Reproducible train / validation / test splits that never cut a group in two.

The unit of splitting is the paragraph; its group is its story cluster (default), its
document, or itself. All examples of a paragraph (for stance: one per actor) follow it. Folds
are stratified on the label where group sizes allow (StratifiedGroupKFold), seeded, and the
assignment is saved in every run so that any two models can be compared on the same items.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold

from stance.config import SplitConfig
from stance.errors import StanceError

GROUP_COLUMN = {"cluster": "cluster_id", "doc": "doc_id", "paragraph": "paragraph_id"}


def paragraph_strata(examples: pd.DataFrame) -> pd.DataFrame:
    """One row per paragraph: its group columns and a label to stratify on (the most common)."""
    def mode(labels: pd.Series) -> str:
        counts = labels.value_counts()
        return sorted(counts[counts == counts.max()].index)[0]

    grouped = examples.groupby("paragraph_id", sort=True)
    return pd.DataFrame({
        "paragraph_id": list(grouped.groups),
        "doc_id": grouped["doc_id"].first().to_numpy(),
        "cluster_id": grouped["cluster_id"].first().to_numpy(),
        "stratum": grouped["label"].agg(mode).to_numpy(),
    })


def _take_fold(units: pd.DataFrame, groups: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Boolean mask of one fold holding about `fraction` of the units."""
    n_splits = max(2, int(round(1.0 / fraction)))
    n_groups = len(np.unique(groups))
    if n_groups < n_splits:
        raise StanceError(f"only {n_groups} groups of paragraphs to split into {n_splits} folds; "
                          "add data, raise split.test_size/val_size or set split.group_by")
    folds = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        # Rare classes with fewer members than folds: stratification is best effort, that's fine.
        warnings.simplefilter("ignore", UserWarning)
        _, held = next(folds.split(np.zeros(len(units)), units["stratum"], groups))
    mask = np.zeros(len(units), dtype=bool)
    mask[held] = True
    return mask


def assign_splits(examples: pd.DataFrame, cfg: SplitConfig, seed: int) -> pd.DataFrame:
    """paragraph_id -> split ('train', 'val', 'test'), with the group each paragraph belongs to."""
    units = paragraph_strata(examples)
    group_column = GROUP_COLUMN[cfg.group_by]
    groups = units[group_column].to_numpy()
    split = np.full(len(units), "train", dtype=object)
    test = _take_fold(units, groups, cfg.test_size, seed)
    split[test] = "test"
    if cfg.val_size > 0:
        rest = ~test
        val_fraction = cfg.val_size / (1.0 - cfg.test_size)
        val = _take_fold(units[rest].reset_index(drop=True), groups[rest], val_fraction, seed + 1)
        split[np.flatnonzero(rest)[val]] = "val"
    out = units[["paragraph_id", "doc_id", "cluster_id"]].copy()
    out["group"] = groups
    out["split"] = split
    _check_disjoint(out)
    return out


def _check_disjoint(assignment: pd.DataFrame) -> None:
    sides = assignment.groupby("group")["split"].nunique()
    if (sides > 1).any():  # would be a bug in the fold logic, not bad input
        raise AssertionError(f"groups straddle splits: {list(sides[sides > 1].index[:5])}")


def attach_split(examples: pd.DataFrame, assignment: pd.DataFrame) -> pd.DataFrame:
    return examples.merge(assignment[["paragraph_id", "split"]], on="paragraph_id", how="left",
                          validate="many_to_one")
