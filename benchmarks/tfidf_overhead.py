"""Overhead of the stance.train path over the same scikit-learn pipeline called directly.

    python benchmarks/tfidf_overhead.py            # sizes 2000 and 10000 paragraphs, 3 repeats each

Both sides get the same synthetic labelled table (benchmarks/synthetic.py), the same split and
the same model (word+char TF-IDF, logistic regression, C=1, no tuning grid). The direct side
reads the table, fits on the training rows and predicts probabilities for validation and test.
stance.train does that plus what makes a run a record: ingest with actor search and near-
duplicate clustering, the grouped split, bootstrap CIs, calibration, atomic files, model card.
Printed: the median of each side, and the ratio stance / direct, in total and for the fit +
predict step alone (timed inside the run, fit.json).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import generate  # noqa: E402

from stance.config import config_from_dict  # noqa: E402
from stance.models import build_model  # noqa: E402
from stance.train import train  # noqa: E402

os.environ.setdefault("STANCE_ALLOW_OUTSIDE", "1")


def direct(table: Path, split: pd.DataFrame, cfg) -> float:
    started = time.perf_counter()
    frame = pd.read_json(table, lines=True, dtype=False)
    frame = frame.merge(split[["paragraph_id", "split"]], on="paragraph_id")
    frame["target"], frame["target_spans"] = None, [[] for _ in range(len(frame))]
    model = build_model(cfg.model, "framing", cfg.seed)
    train_part = frame[frame["split"] == "train"]
    model.fit(train_part[["text", "target", "target_spans"]], train_part["framing"].to_numpy())
    for part in ("val", "test"):
        rows = frame[frame["split"] == part]
        model.predict_proba(rows[["text", "target", "target_spans"]])
    return time.perf_counter() - started


def main() -> None:
    print(f"{'n':>7} {'stance.train s':>15} {'direct s':>9} {'ratio':>6} {'fit+predict ratio':>18}")
    for n in (2000, 10000):
        with tempfile.TemporaryDirectory() as tmp:
            table = Path(tmp) / "t.jsonl"
            generate(n).drop(columns=["cluster_id"]).to_json(table, orient="records", lines=True)
            ours, theirs, inner = [], [], []
            for k in range(3):
                cfg = config_from_dict({"name": f"bench{k}", "data": {"path": str(table)},
                                        "model": {"C": 1.0, "features": "word+char"},
                                        "output_dir": str(Path(tmp) / "runs")})
                started = time.perf_counter()
                run = train(cfg, say=lambda *a, **kw: None)
                ours.append(time.perf_counter() - started)
                fit = json.loads((run / "fits" / "r0-f0-s13" / "fit.json").read_text())
                split = pd.read_csv(run / "split.csv")
                theirs.append(direct(table, split, cfg))
                inner.append(fit["fit_seconds"])
            o, t = statistics.median(ours), statistics.median(theirs)
            print(f"{n:>7} {o:>15.2f} {t:>9.2f} {o / t:>6.2f} {statistics.median(inner) / t:>18.2f}")


if __name__ == "__main__":
    main()
