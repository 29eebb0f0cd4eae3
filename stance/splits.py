"""Reproducible splits that never cut a group in two.

The unit of splitting is the paragraph; its group is its story cluster (default), its
document, its outlet, or itself. All examples of a paragraph (for stance: one per actor)
follow it. Folds are stratified on the label where group sizes allow (StratifiedGroupKFold)
and seeded, so the same data and seed give the same split for every model.

The assignment is a long table, one row per paragraph and fold:
    paragraph_id, doc_id, cluster_id, outlet, group, repeat, fold, split
A holdout or time split has one fold (repeat 0, fold 0); k-fold has `folds` x `repeats`.
With split.train_fraction < 1, training paragraphs left out are marked 'unused'.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold

from stance.config import SplitConfig
from stance.errors import StanceError

GROUP_COLUMN = {"cluster": "cluster_id", "doc": "doc_id", "paragraph": "paragraph_id", "outlet": "outlet"}


def paragraph_strata(examples: pd.DataFrame) -> pd.DataFrame:
    """One row per paragraph: its group columns and a label to stratify on (the most common,
    ties to the alphabetically first). Vectorised: a per-group Python function took seconds."""
    grouped = examples.groupby("paragraph_id", sort=True)
    first = grouped.first()
    counts = examples.groupby(["paragraph_id", "label"]).size().reset_index(name="n")
    counts = counts.sort_values(["paragraph_id", "n", "label"], ascending=[True, False, True], kind="stable")
    mode = counts.drop_duplicates("paragraph_id").set_index("paragraph_id")["label"]
    return pd.DataFrame({
        "paragraph_id": list(grouped.groups),
        "doc_id": first["doc_id"].to_numpy(),
        "cluster_id": first["cluster_id"].to_numpy(),
        "outlet": first["outlet"].fillna("").astype(str).to_numpy() if "outlet" in first else "",
        "date": first["date"].to_numpy() if "date" in first else None,
        "stratum": mode.reindex(list(grouped.groups)).to_numpy(),
        "given_split": first["given_split"].to_numpy() if "given_split" in first else None,
    })


def _group_folds(units: pd.DataFrame, groups: np.ndarray, n_splits: int, seed: int) -> list[np.ndarray]:
    """Boolean masks of `n_splits` stratified folds of whole groups."""
    n_groups = len(np.unique(groups))
    if n_groups < n_splits:
        raise StanceError(f"only {n_groups} groups of paragraphs to split into {n_splits} folds; "
                          "add data, change split.test_size / split.val_size / split.folds, or set split.group_by")
    folds = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    masks = []
    with warnings.catch_warnings():
        # Rare classes with fewer members than folds: stratification is best effort, that's fine.
        warnings.simplefilter("ignore", UserWarning)
        for _, held in folds.split(np.zeros(len(units)), units["stratum"], groups):
            mask = np.zeros(len(units), dtype=bool)
            mask[held] = True
            masks.append(mask)
    return masks


def _take_fold(units: pd.DataFrame, groups: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Boolean mask of one fold holding about `fraction` of the units."""
    return _group_folds(units, groups, max(2, int(round(1.0 / fraction))), seed)[0]


def _carve_val(units: pd.DataFrame, groups: np.ndarray, split: np.ndarray, val_share: float, seed: int) -> None:
    """Turn about `val_share` of all units, taken from the training side, into validation."""
    rest = split == "train"
    if val_share <= 0 or not rest.any():
        return
    fraction = min(0.5, val_share * len(units) / rest.sum())
    val = _take_fold(units[rest].reset_index(drop=True), groups[rest], fraction, seed)
    split[np.flatnonzero(rest)[val]] = "val"


def _time_split(units: pd.DataFrame, groups: np.ndarray, cfg: SplitConfig) -> np.ndarray:
    dates = pd.to_datetime(pd.Series(units["date"]), errors="coerce")
    if dates.isna().any():
        missing = units.loc[dates.isna().to_numpy(), "paragraph_id"].iloc[0]
        raise StanceError(f"split.method: time needs a date for every paragraph; {missing!r} has none "
                          "(map a date column with data.columns.date, or use holdout / kfold)")
    # A group is as old as its first paragraph, and goes wholly to one side.
    frame = pd.DataFrame({"group": groups, "date": dates.to_numpy()})
    order = frame.groupby("group")["date"].min().sort_values(kind="stable")
    sizes = frame.groupby("group").size().loc[order.index]
    share_before = (sizes.cumsum() - sizes) / len(units)
    test_groups = set(share_before.index[share_before >= 1 - cfg.test_size])
    val_groups = set(share_before.index[(share_before >= 1 - cfg.test_size - cfg.val_size)]) - test_groups
    split = np.where(frame["group"].isin(test_groups), "test",
                     np.where(frame["group"].isin(val_groups), "val", "train")).astype(object)
    if not (split == "test").any() or not (split == "train").any():
        raise StanceError("split.method: time left the train or test side empty; add data or change test_size")
    return split


def assign_splits(examples: pd.DataFrame, cfg: SplitConfig, seed: int) -> pd.DataFrame:
    """The long fold table (see the module docstring) for these examples."""
    units = paragraph_strata(examples)
    group_column = GROUP_COLUMN[cfg.group_by]
    groups = units[group_column].astype(str).to_numpy()
    base = units[["paragraph_id", "doc_id", "cluster_id", "outlet"]].copy()
    base["group"] = groups
    tables = []
    if cfg.method == "kfold":
        for repeat in range(cfg.repeats):
            repeat_seed = seed + 1000 * repeat
            for fold, test in enumerate(_group_folds(units, groups, cfg.folds, repeat_seed)):
                split = np.where(test, "test", "train").astype(object)
                _carve_val(units, groups, split, cfg.val_size, repeat_seed + fold + 1)
                tables.append(base.assign(repeat=repeat, fold=fold, split=split))
    elif cfg.method == "files":
        if units["given_split"].isna().all():
            raise StanceError("split.method: files needs data that comes split (set data.split_files)")
        base["group"] = units["paragraph_id"].astype(str).to_numpy()  # the data's own split decides
        tables.append(base.assign(repeat=0, fold=0, split=units["given_split"].fillna("train").to_numpy()))
    elif cfg.method == "time":
        tables.append(base.assign(repeat=0, fold=0, split=_time_split(units, groups, cfg)))
    else:
        split = np.full(len(units), "train", dtype=object)
        split[_take_fold(units, groups, cfg.test_size, seed)] = "test"
        _carve_val(units, groups, split, cfg.val_size, seed + 1)
        tables.append(base.assign(repeat=0, fold=0, split=split))
    if cfg.train_fraction < 1:
        for table in tables:
            _subsample_train(table, cfg.train_fraction, seed)
    out = pd.concat(tables, ignore_index=True)
    _check_disjoint(out)
    return out


def _subsample_train(table: pd.DataFrame, fraction: float, seed: int) -> None:
    """Mark all but about `fraction` of the training paragraphs 'unused', whole groups at a time.

    The groups are taken in one seeded order, so the kept set for a smaller fraction is
    contained in the kept set for a larger one: a learning curve adds data, it does not swap it.
    """
    train = table["split"] == "train"
    sizes = table[train].groupby("group").size()
    order = sizes.index.to_numpy()[np.random.default_rng(seed).permutation(len(sizes))]
    cumulative = sizes.loc[order].cumsum()
    wanted = fraction * train.sum()
    keep = set(cumulative.index[(cumulative - sizes.loc[order]) < wanted])
    table.loc[train & ~table["group"].isin(keep), "split"] = "unused"


def fold_keys(assignment: pd.DataFrame) -> list[tuple[int, int]]:
    keys = assignment[["repeat", "fold"]].drop_duplicates().sort_values(["repeat", "fold"])
    return [(int(r), int(f)) for r, f in keys.itertuples(index=False)]


def _check_disjoint(assignment: pd.DataFrame) -> None:
    sides = assignment.groupby(["repeat", "fold", "group"])["split"].nunique()
    if (sides > 1).any():  # would be a bug in the fold logic, not bad input
        raise AssertionError(f"groups straddle splits: {list(sides[sides > 1].index[:5])}")


def attach_split(examples: pd.DataFrame, assignment: pd.DataFrame, repeat: int = 0, fold: int = 0) -> pd.DataFrame:
    one = assignment[(assignment["repeat"] == repeat) & (assignment["fold"] == fold)]
    return examples.merge(one[["paragraph_id", "split"]], on="paragraph_id", how="left", validate="many_to_one")
