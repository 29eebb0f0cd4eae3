"""Batch prediction through Ray Data, for corpora beyond one machine.

    pip install -e ".[distributed]"
    python -m stance.predict RUN paragraphs.parquet --out DIR --engine ray [--ray-address auto]
        [--workers 4] [--gpus-per-worker 1]

The corpus is a paragraph table written by `stance.corpus` (one Parquet file or a folder of
Parquet shards). Each Ray worker loads the run's model once (`map_batches` with a class) and
labels batches with the same code as the local path (`stance.predict.predict_batch`), so a
TF-IDF run gives byte-for-byte the same labels and probabilities as `--engine local`; a
transformer gives the same labels, with probabilities equal up to float rounding (padding
depends on how rows fall into batches).

Without `--ray-address`, Ray starts on this machine with `--workers` CPUs (local mode); with
`--ray-address auto` (or `ray://host:10001`) it joins a running cluster. Output is staged in
`DIR.partial/` and renamed to `DIR/` only when every part is written: an interrupted job leaves
no half-finished `DIR`, and is redone by running the same command again. Row order follows the
input (`preserve_order`), so the parts are the same on every run.
"""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from stance import files
from stance.errors import StanceError
from stance.runs import now


def require_ray() -> Any:
    try:
        import ray
        import ray.data  # noqa: F401 — the Data library is a separate extra of ray
    except ImportError:
        raise StanceError("--engine ray needs Ray Data: pip install -e \".[distributed]\"") from None
    return ray


class RunPredictor:
    """Loaded once per Ray worker; called on each batch (a pandas DataFrame of paragraphs)."""

    def __init__(self, run_dir: str) -> None:
        from stance.corpus.actors import Gazetteer  # noqa: PLC0415 — imported on the worker
        from stance.predict import load_run_model, trained_targets  # noqa: PLC0415

        self.cfg, record, self.model = load_run_model(Path(run_dir))
        self.seen = trained_targets(Path(run_dir), self.cfg, record)
        self.gazetteer = Gazetteer.from_schema(self.cfg.label_schema)

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        from stance.predict import complete_columns, predict_batch  # noqa: PLC0415

        return predict_batch(self.model, complete_columns(batch, self.gazetteer), self.cfg, seen=self.seen)


def read_row_group(piece: dict[str, Any]) -> pd.DataFrame:
    import pyarrow.parquet as pq  # noqa: PLC0415 — runs on a Ray worker

    file, group = piece["file"][0], int(piece["row_group"][0])
    return pq.ParquetFile(file).read_row_group(group).to_pandas()


def row_group_pieces(inputs: list[str]) -> list[dict[str, Any]]:
    """One read task per Parquet row group: Ray's own reader gives one block per file, which
    leaves all but one worker idle on a single paragraphs.parquet."""
    import pyarrow.parquet as pq  # noqa: PLC0415

    return [{"file": f, "row_group": g} for f in inputs for g in range(pq.ParquetFile(f).num_row_groups)]


def parquet_inputs(corpus: Path) -> list[str]:
    from stance.predict import paragraph_shards  # noqa: PLC0415 — the local path's own check

    shards = paragraph_shards(corpus)
    if not shards:
        raise StanceError(f"{corpus}: --engine ray reads a paragraph table in Parquet (a file or a folder of shards); "
                          f"ingest other inputs first with `python -m stance.corpus {corpus} --out DIR`")
    return [str(p) for p in shards]


def predict_with_ray(run_dir: Path, corpus: Path, out: Path, manifest: dict[str, Any], batch_size: int,
                     workers: int, gpus_per_worker: float, address: str | None, progress: bool,
                     say: Callable[..., None] = print) -> dict[str, Any]:
    ray = require_ray()
    if out.exists():
        raise StanceError(f"{out}: exists; choose a new --out (nothing is overwritten)")
    staging = out.with_name(out.name + ".partial")
    if staging.exists():  # a job that died before its rename: redo it from the start
        shutil.rmtree(staging)
    inputs = parquet_inputs(corpus)
    started = time.perf_counter()
    # Locally, one CPU beyond the model replicas is left for the read and write tasks: with
    # exactly `workers` CPUs the replicas hold them all and the job waits forever.
    init: dict[str, Any] = {"address": address} if address else {"num_cpus": workers + 1, "include_dashboard": False}
    ray.init(ignore_reinit_error=True, log_to_driver=False, logging_level=logging.WARNING, **init)
    try:
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True
        context.enable_progress_bars = progress
        pieces = row_group_pieces(inputs)
        dataset = ray.data.from_items(pieces, override_num_blocks=len(pieces)).map_batches(
            read_row_group, batch_size=1, batch_format="pandas")
        labelled = dataset.map_batches(RunPredictor, fn_constructor_args=(str(run_dir),), batch_size=batch_size,
                                       batch_format="pandas",
                                       compute=ray.data.ActorPoolStrategy(size=workers),
                                       num_cpus=1, num_gpus=gpus_per_worker or None)
        labelled.write_parquet(str(staging / "parts"))
    finally:
        if not address:
            ray.shutdown()
    parts = sorted((staging / "parts").glob("*.parquet"))
    import pyarrow.parquet as pq  # noqa: PLC0415

    rows = sum(pq.ParquetFile(p).metadata.num_rows for p in parts)
    paragraphs = sum(pq.ParquetFile(p).metadata.num_rows for p in map(Path, inputs))
    manifest.update(status="complete", engine="ray", ray_address=address or "local", workers=workers,
                    gpus_per_worker=gpus_per_worker, finished=now(),
                    seconds=round(time.perf_counter() - started, 1), paragraphs=paragraphs, batches=len(parts),
                    rows=rows)
    files.write_json(staging / "manifest.json", manifest)
    staging.rename(out)
    say(f"stance.predict (ray): {paragraphs} paragraphs -> {rows} {manifest['task']} predictions in {out / 'parts'}")
    return manifest
