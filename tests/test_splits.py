import pandas as pd
import pytest

from stance.errors import StanceError

from stance.config import SplitConfig
from stance.splits import assign_splits, fold_keys


def examples(n_clusters=30, per_cluster=4):
    rows = []
    for c in range(n_clusters):
        for p in range(per_cluster):
            rows.append({"paragraph_id": f"c{c}p{p}", "doc_id": f"c{c}d{p % 2}", "cluster_id": f"c{c}",
                         "outlet": f"o{c % 6}", "date": f"2025-{1 + c % 12:02d}-{1 + p:02d}",
                         "label": ["a", "b", "c"][c % 3]})
    return pd.DataFrame(rows)


def test_clusters_never_straddle_splits_and_sizes_are_close():
    assignment = assign_splits(examples(), SplitConfig(test_size=0.2, val_size=0.1), seed=1)
    assert (assignment.groupby("cluster_id")["split"].nunique() == 1).all()
    shares = assignment["split"].value_counts(normalize=True)
    assert 0.1 <= shares["test"] <= 0.3 and 0.05 <= shares["val"] <= 0.2


def test_same_seed_same_split_other_seed_other_split():
    a = assign_splits(examples(), SplitConfig(), seed=7)
    b = assign_splits(examples(), SplitConfig(), seed=7)
    c = assign_splits(examples(), SplitConfig(), seed=8)
    assert a.equals(b)
    assert not a["split"].equals(c["split"])


def test_group_by_paragraph_can_separate_a_cluster():
    assignment = assign_splits(examples(n_clusters=10, per_cluster=10), SplitConfig(group_by="paragraph"), seed=3)
    assert (assignment.groupby("cluster_id")["split"].nunique() > 1).any()


def test_repeated_kfold_tests_every_paragraph_once_per_repeat_and_keeps_groups_whole():
    cfg = SplitConfig(method="kfold", folds=5, repeats=2, val_size=0.1)
    assignment = assign_splits(examples(), cfg, seed=4)
    assert fold_keys(assignment) == [(r, f) for r in range(2) for f in range(5)]
    tested = assignment[assignment["split"] == "test"].groupby(["repeat", "paragraph_id"]).size()
    assert (tested == 1).all() and len(tested) == 2 * 120
    assert (assignment.groupby(["repeat", "fold", "cluster_id"])["split"].nunique() == 1).all()
    assert (assignment["split"] == "val").any()
    # The two repeats shuffle differently; the same seed reproduces both.
    first, second = (assignment[assignment["repeat"] == r].reset_index(drop=True)["split"] for r in (0, 1))
    assert not first.equals(second)
    assert assignment.equals(assign_splits(examples(), cfg, seed=4))


def test_outlet_split_tests_on_outlets_never_seen_in_training():
    assignment = assign_splits(examples(), SplitConfig(group_by="outlet", test_size=0.2, val_size=0.0), seed=2)
    train_outlets = set(assignment.loc[assignment["split"] == "train", "outlet"])
    test_outlets = set(assignment.loc[assignment["split"] == "test", "outlet"])
    assert test_outlets and not train_outlets & test_outlets


def test_time_split_trains_on_earlier_stories_and_tests_on_later_ones():
    frame = examples()
    assignment = assign_splits(frame, SplitConfig(method="time", test_size=0.25, val_size=0.15), seed=0)
    dates = frame.set_index("paragraph_id")["date"]
    first_date = assignment.assign(date=pd.to_datetime(assignment["paragraph_id"].map(dates))) \
        .groupby(["split", "cluster_id"])["date"].min()
    assert first_date["train"].max() <= first_date["val"].min() <= first_date["val"].max() <= first_date["test"].min()
    assert 0.15 <= (assignment["split"] == "test").mean() <= 0.35


def test_time_split_names_a_paragraph_without_a_date():
    frame = examples()
    frame.loc[5, "date"] = None
    with pytest.raises(StanceError, match="split.method: time needs a date .*'c1p1'"):
        assign_splits(frame, SplitConfig(method="time"), seed=0)


def test_train_fraction_keeps_test_fixed_and_nests_the_training_sets():
    full = assign_splits(examples(), SplitConfig(), seed=5)
    kept = {}
    for fraction in (0.25, 0.5, 1.0):
        part = assign_splits(examples(), SplitConfig(train_fraction=fraction), seed=5)
        assert part.loc[part["split"].isin(["val", "test"])].equals(full.loc[full["split"].isin(["val", "test"])])
        kept[fraction] = set(part.loc[part["split"] == "train", "paragraph_id"])
        share = len(kept[fraction]) / (full["split"] == "train").sum()
        assert fraction - 0.1 <= share <= fraction + 0.1
        assert (part.groupby("cluster_id")["split"].nunique() == 1).all()
    assert kept[0.25] < kept[0.5] < kept[1.0]
