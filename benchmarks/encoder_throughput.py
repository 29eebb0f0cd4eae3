"""Fine-tuning and prediction throughput of the transformer kind per encoder, on NewsMTSC.

    nice -n 10 python benchmarks/encoder_throughput.py configs/newsmtsc-transformer.yaml \\
        --models minilm,mpnet --n 256

Takes the first --n training pairs of the config's data (NewsMTSC's train.jsonl), fine-tunes
each encoder on them for one epoch with the config's settings (target markers, max_length,
batch size) and predicts the first --n validation pairs (rw-dev), back to back in one process
so that each model meets the same machine load. Prints a Markdown table with examples per
second and the ratio of each model to the first, and what a full run of the config
(its epochs over all training pairs) would take at that rate. Scores are not the point here
(one epoch on a few hundred pairs); see benchmarks/RESULTS.md for full runs.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from stance.annotate.examples import build_examples
from stance.config import load_config
from stance.corpus.ingest import ingest
from stance.models import build_model
from stance.train import features


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("config", type=Path)
    parser.add_argument("--models", default="minilm,mpnet", help="comma-separated model aliases or folders")
    parser.add_argument("--n", type=int, default=256, help="training pairs (and validation pairs predicted)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)

    cfg = load_config(args.config, args.overrides)
    if cfg.model.kind != "transformer":
        raise SystemExit(f"{args.config}: model.kind is {cfg.model.kind}; this benchmark is for transformers")
    paragraphs = ingest(cfg.data, cfg.corpus, cfg.label_schema)
    examples = build_examples(paragraphs, cfg.task, cfg.label_schema, getattr(cfg.data.labels, cfg.task),
                              cfg.data.labels.values)
    given = examples["given_split"] if "given_split" in examples else None
    train_all = examples[given == "train"] if given is not None else examples
    train = train_all.head(args.n)
    val = (examples[given == "val"] if given is not None else examples.tail(args.n)).head(args.n)
    epochs = float(cfg.model.epochs)

    rows = []
    for name in args.models.split(","):
        model_cfg = cfg.model.model_copy(update={"model": name, "epochs": 1.0, "early_stopping_patience": None})
        model = build_model(model_cfg, cfg.task, cfg.seed)
        with tempfile.TemporaryDirectory(prefix="stance-throughput-") as work:
            started = time.perf_counter()
            model.fit(features(train), train["label"].to_numpy(), work_dir=Path(work))
            fit_seconds = time.perf_counter() - started
        started = time.perf_counter()
        model.predict_proba(features(val))
        predict_seconds = time.perf_counter() - started
        rate = model.fit_info_["examples_per_second"]
        rows.append({"model": name, "train_rate": rate, "fit_seconds": fit_seconds,
                     "predict_rate": len(val) / predict_seconds,
                     "full_run_minutes": epochs * len(train_all) / rate / 60})
        print(f"{name}: {rate:.1f} training examples/s, {len(val) / predict_seconds:.1f} predicted/s", flush=True)

    first = rows[0]
    print(f"\n{platform.machine()}, {os.cpu_count()} CPUs, torch threads {__import__('torch').get_num_threads()}, "
          f"load average {os.getloadavg()[0]:.1f}; {len(train)} training pairs x 1 epoch, {len(val)} predicted, "
          f"max_length {cfg.model.max_length}, batch {cfg.model.batch_size}, target_markers "
          f"{cfg.model.target_markers}\n")
    print("| encoder | train examples/s | ratio to first | predict items/s | ratio to first | "
          f"full run ({epochs:g} epochs x {len(train_all)} pairs) |")
    print("|---|---:|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {row['model']} | {row['train_rate']:.1f} | {row['train_rate'] / first['train_rate']:.3f} | "
              f"{row['predict_rate']:.1f} | {row['predict_rate'] / first['predict_rate']:.3f} | "
              f"{row['full_run_minutes']:.0f} min |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
