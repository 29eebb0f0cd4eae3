import pandas as pd

from stance.config import SplitConfig
from stance.splits import assign_splits


def examples(n_clusters=30, per_cluster=4):
    rows = []
    for c in range(n_clusters):
        for p in range(per_cluster):
            rows.append({"paragraph_id": f"c{c}p{p}", "doc_id": f"c{c}d{p % 2}", "cluster_id": f"c{c}",
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
