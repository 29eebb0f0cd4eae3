"""Does a stance model look at which mention it is asked about? Move the offsets and see.

    python benchmarks/offset_sensitivity.py experiments/newsmtsc-transformer-* experiments/newsmtsc-*

For every example of the run's validation and test data whose target string occurs more than
once in its sentence (NewsMTSC: the same name twice), the offsets are moved to another
occurrence of the same string and the run's model (its first fit, the one stance.predict uses)
predicts both versions. Prints, per run, how many of those examples changed their predicted
class and the mean and largest change of any class probability. A model that reads only the
target string and the sentence changes none; one that sees the marked span may.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from stance.annotate.examples import build_examples
from stance.config import load_config
from stance.corpus.ingest import ingest
from stance.models import load_model
from stance.train import features


def moved_examples(examples: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(originals, copies with the offsets on the next occurrence of the target string)."""
    keep, moved = [], []
    for i, row in enumerate(examples.itertuples(index=False)):
        spans = list(row.target_spans) if row.target_spans is not None else []
        if len(spans) != 1:
            continue
        start, end = int(spans[0][0]), int(spans[0][1])
        mention = row.text[start:end]
        others = [m.start() for m in re.finditer(re.escape(mention), row.text) if m.start() != start]
        if not mention or not others:
            continue
        keep.append(i)
        # The next occurrence after this one, else the first before it.
        after = [s for s in others if s > start]
        new = after[0] if after else others[0]
        moved.append([[new, new + len(mention)]])
    originals = examples.iloc[keep].reset_index(drop=True)
    copies = originals.copy()
    copies["target_spans"] = moved
    return originals, copies


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path)
    args = parser.parse_args(argv)
    print("| run | model | examples with the target twice | predicted class changed | mean abs. prob. change "
          "| max abs. prob. change |")
    print("|---|---|---:|---:|---:|---:|")
    for run in args.runs:
        record = json.loads((run / "run.json").read_text(encoding="utf-8"))
        cfg = load_config(run / "config.yaml")
        paragraphs = ingest(cfg.data, cfg.corpus, cfg.label_schema)
        examples = build_examples(paragraphs, cfg.task, cfg.label_schema, cfg.data.labels.stance,
                                  cfg.data.labels.values)
        if "given_split" in examples:
            examples = examples[examples["given_split"].isin(["val", "test"])].reset_index(drop=True)
        originals, copies = moved_examples(examples)
        if originals.empty:
            print(f"| {run.name} | {cfg.model.kind} | 0 | – | – | – |")
            continue
        model = load_model(run / record["primary_model"])
        a, b = model.predict_proba(features(originals)), model.predict_proba(features(copies))
        changed = int((a.argmax(axis=1) != b.argmax(axis=1)).sum())
        delta = np.abs(a - b).max(axis=1)
        # What the loaded model does (a run saved before markers existed has none, whatever its config says).
        markers = "on" if getattr(model, "markers", False) else "off"
        what = cfg.model.kind + (f" {cfg.model.model}, target markers {markers}" if cfg.model.kind == "transformer"
                                 else "")
        print(f"| {run.name} | {what} | {len(originals)} | {changed} | {delta.mean():.4f} | {delta.max():.4f} |",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
