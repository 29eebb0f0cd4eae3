"""Training and prediction throughput per model kind, on the CPU, from finished runs.

    OMP_NUM_THREADS=1 python benchmarks/fewshot_throughput.py experiments/nmf-tfidf-lc003-* \\
        experiments/nmf-emb-lc003-* experiments/nmf-setfit-lc003-* experiments/nmf-minilm-lc003-*

Training: the fit time each run recorded (fit.json: the whole fit of the chosen model; grid
points not counted) over its training examples; the embeddings kind is fitted again here with
its vector cache off, since its recorded fit may have reused an earlier grid point's vectors. Prediction: the
run's saved model is loaded and predicts the run's test items, timed here (median of
--repeats); the embeddings kind is timed with its vector cache off (a new corpus) and on
(items it has seen). Prints one Markdown table and the ratios to the first run given.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import pandas as pd

from stance.annotate.examples import build_examples
from stance.annotate.standoff import attach_standoff, resolve_annotations_path
from stance.config import load_config
from stance.corpus.ingest import ingest
from stance.models import load_model
from stance.train import features


def split_items(run: Path) -> dict[str, pd.DataFrame]:
    """The run's train and test examples (features and labels), from its config and split.csv."""
    cfg = load_config(run / "config.yaml")
    paragraphs = ingest(cfg.data, cfg.corpus, cfg.label_schema)
    if cfg.data.annotations:
        paragraphs = attach_standoff(paragraphs, resolve_annotations_path(cfg.data.annotations))
    examples = build_examples(paragraphs, cfg.task, cfg.label_schema, getattr(cfg.data.labels, cfg.task),
                              cfg.data.labels.values)
    split = pd.read_csv(run / "split.csv", dtype={"paragraph_id": str})
    split = split[(split["repeat"] == 0) & (split["fold"] == 0)]
    examples = examples.merge(split[["paragraph_id", "split"]], on="paragraph_id")
    return {name: examples[examples["split"] == name].reset_index(drop=True) for name in ("train", "test")}


def timed(call, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args(argv)
    rows = []
    items = None
    for run in args.runs:
        record = json.loads((run / "run.json").read_text(encoding="utf-8"))
        fit = next(iter(record["fits"].values()))
        kind = json.loads((run / record["primary_model"] / "model.json").read_text(encoding="utf-8"))["kind"]
        parts = split_items(run)
        items = features(parts["test"])
        model = load_model(run / record["primary_model"])
        row = {"run": run.name, "kind": kind, "train examples": fit["train_examples"],
               "fit s": fit["fit_seconds"], "train examples/s": fit["train_examples"] / fit["fit_seconds"]}
        if kind == "embeddings":
            # The run's own fit time may be a cached one (the vectors of an earlier grid point):
            # fit again with the cache off for the cost of a first fit on new text.
            from stance.models import build_model

            cfg = model.cfg.model_copy(update={"cache": False})
            train = parts["train"]
            started = time.perf_counter()
            build_model(cfg, model.task, model.seed).fit(features(train), train["label"].to_numpy())
            row["fit s"] = time.perf_counter() - started
            row["train examples/s"] = len(train) / row["fit s"]
            model.cfg = cfg
            row["predict items/s"] = len(items) / timed(lambda: model.predict_proba(items), args.repeats)
            model.cfg = model.cfg.model_copy(update={"cache": True})
            model.predict_proba(items)  # fills the cache
            row["predict items/s, cached"] = len(items) / timed(lambda: model.predict_proba(items), args.repeats)
        else:
            row["predict items/s"] = len(items) / timed(lambda: model.predict_proba(items), args.repeats)
        rows.append(row)
        print(row, flush=True)
    table = pd.DataFrame(rows)
    first = table.iloc[0]
    table["train ratio"] = table["train examples/s"] / first["train examples/s"]
    table["predict ratio"] = table["predict items/s"] / first["predict items/s"]
    print(f"\n{platform.machine()}, {os.cpu_count()} CPUs, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}, "
          f"{len(items)} test items predicted per run")
    print(table.to_markdown(index=False, floatfmt=".3g"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
