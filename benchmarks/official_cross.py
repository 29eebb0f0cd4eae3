"""What a change of source costs: per-publisher scores of the same model trained with the
publisher's own paragraphs (cross-validated by story cluster) and without them (trained on the
other two publishers), on the official-statements gold set (issue 18).

    python benchmarks/official_cross.py IN_SOURCE_RUN CROSS_RUN [IN_SOURCE_RUN CROSS_RUN ...]

Each pair is two runs of one model and task (reports/official-untuned-* and reports/official-
cross-* of benchmarks/official.sh). Scores are on each publisher's 200 gold paragraphs (for
stance: its (paragraph, actor) pairs), from the runs' held-out predictions: macro-F1 over the
classes present in the publisher's gold labels or predictions, and accuracy, each with a 95%
bootstrap interval over story clusters (1,000 replicates, seed 0).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from sklearn.metrics import accuracy_score, f1_score


def scores(frame: pd.DataFrame, rng: np.random.Generator, reps: int = 1000) -> dict[str, float]:
    def both(part: pd.DataFrame) -> tuple[float, float]:
        return (f1_score(part["label"], part["pred"], average="macro", zero_division=0),
                accuracy_score(part["label"], part["pred"]))

    f1, acc = both(frame)
    clusters = frame["cluster_id"].unique()
    groups = {c: i for c, i in frame.groupby("cluster_id").indices.items()}
    boot = []
    for _ in range(reps):
        pick = np.concatenate([groups[c] for c in rng.choice(clusters, len(clusters), replace=True)])
        boot.append(both(frame.iloc[pick]))
    lo, hi = np.percentile(np.array(boot), [2.5, 97.5], axis=0)
    return {"macro_f1": f1, "f1_low": lo[0], "f1_high": hi[0], "accuracy": acc, "acc_low": lo[1], "acc_high": hi[1]}


def describe(run: Path) -> tuple[str, str]:
    cfg = yaml.safe_load((run / "config.yaml").read_text(encoding="utf-8"))
    return cfg["task"], cfg["model"]["kind"]


def main(argv: list[str]) -> int:
    if len(argv) < 2 or len(argv) % 2:
        print(__doc__)
        return 2
    rows = []
    for own, cross in zip(argv[::2], argv[1::2]):
        task, kind = describe(Path(own))
        for setting, run in (("own publisher in training", Path(own)), ("publisher held out", Path(cross))):
            pred = pd.read_parquet(run / "predictions.parquet")
            pred = pred[(pred["split"] == "test") & (pred["repeat"] == 0)]
            for outlet, part in pred.groupby("outlet"):
                rows.append({"task": task, "model": kind, "publisher": outlet, "setting": setting, "n": len(part),
                             **scores(part.reset_index(drop=True), np.random.default_rng(0))})
    table = pd.DataFrame(rows)
    cell = lambda r, k, lo, hi: f"{r[k]:.3f} [{r[lo]:.3f}, {r[hi]:.3f}]"  # noqa: E731
    table["macro-F1 [95% CI]"] = table.apply(lambda r: cell(r, "macro_f1", "f1_low", "f1_high"), axis=1)
    table["accuracy [95% CI]"] = table.apply(lambda r: cell(r, "accuracy", "acc_low", "acc_high"), axis=1)
    print(table[["task", "model", "publisher", "setting", "n", "macro-F1 [95% CI]", "accuracy [95% CI]"]]
          .to_markdown(index=False))
    wide = table.pivot_table(index=["task", "model", "publisher"], columns="setting", values="accuracy")
    wide["accuracy lost"] = wide["own publisher in training"] - wide["publisher held out"]
    print()
    print(wide.round(3).to_markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
