"""Active learning: which unlabelled paragraphs to annotate next.

Paragraphs are ranked by the uncertainty of a trained run's model (normalised entropy of its
class probabilities; for stance, the most uncertain of a paragraph's actor pairs), then taken
round-robin across outlets so one outlet cannot fill the batch, and at most one paragraph per
story cluster until every cluster has had its turn (syndicated copies teach the model little).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from stance.annotate.examples import prediction_examples
from stance.annotate.standoff import attach_standoff, resolve_annotations_path
from stance.config import DataConfig
from stance.corpus.ingest import ingest
from stance.errors import StanceError
from stance.predict import load_run_model
from stance.runs import resolve_run

FEATURES = ["text", "target", "target_spans"]


def normalised_entropy(proba: np.ndarray) -> np.ndarray:
    """Entropy of each row of `proba` (n, k), divided by log(k): shape (n,), 0 (certain) to 1."""
    p = np.clip(proba, 1e-12, 1.0)
    return -(p * np.log(p)).sum(axis=1) / np.log(max(2, proba.shape[1]))


def interleave(ranked: pd.DataFrame, n: int) -> pd.DataFrame:
    """Round-robin over outlets (most uncertain outlet first), one paragraph per cluster first."""
    queues = {outlet: part for outlet, part in ranked.groupby("outlet", sort=False)}
    order = sorted(queues, key=lambda o: -queues[o]["uncertainty"].iloc[0])
    picked, clusters = [], set()
    for allow_repeat_cluster in (False, True):
        positions = {o: 0 for o in order}
        while len(picked) < n and any(positions[o] < len(queues[o]) for o in order):
            for outlet in order:
                queue = queues[outlet]
                while positions[outlet] < len(queue):
                    row = queue.iloc[positions[outlet]]
                    positions[outlet] += 1
                    if row["paragraph_id"] in {p["paragraph_id"] for p in picked}:
                        continue
                    if not allow_repeat_cluster and row["cluster_id"] in clusters:
                        continue
                    picked.append(row.to_dict())
                    clusters.add(row["cluster_id"])
                    break
                if len(picked) >= n:
                    break
        if len(picked) >= n:
            break
    out = pd.DataFrame(picked)
    out.insert(0, "rank", range(1, len(out) + 1))
    return out


def suggest(run_dir: Path, n: int = 50, data: str | None = None) -> pd.DataFrame:
    """The `n` paragraphs to label next, ranked (columns rank, paragraph_id, outlet, cluster_id,
    target, predicted, uncertainty in [0, 1]). `run_dir`: a run folder, or a config (its newest
    complete run); `data`: another corpus than the run's. Raises StanceError when nothing is left."""
    if n < 1:
        raise StanceError("--n must be at least 1")
    cfg, _, model = load_run_model(resolve_run(run_dir))
    data_cfg = cfg.data if data is None else DataConfig(path=data)
    paragraphs = ingest(data_cfg, cfg.corpus, cfg.label_schema)
    if data is None and cfg.data.annotations:
        paragraphs = attach_standoff(paragraphs, resolve_annotations_path(cfg.data.annotations))
    column = getattr(data_cfg.labels, cfg.task)
    if column and column in paragraphs:
        labelled = paragraphs[column].map(lambda v: v is not None and not (isinstance(v, float) and np.isnan(v))
                                          and str(v).strip() not in ("", "{}"))
        paragraphs = paragraphs[~labelled]
    if paragraphs.empty:
        raise StanceError(f"every paragraph of {data_cfg.path} already has a {cfg.task} label: nothing to suggest")
    examples = prediction_examples(paragraphs, cfg.task, cfg.label_schema)
    if examples.empty:
        raise StanceError(f"no unlabelled paragraph in {data_cfg.path} mentions an actor: nothing to suggest")
    proba = model.predict_proba(examples[FEATURES].reset_index(drop=True))
    classes = np.asarray([str(c) for c in model.classes_])
    examples = examples.assign(uncertainty=normalised_entropy(proba), predicted=classes[proba.argmax(axis=1)])
    per_paragraph = (examples.sort_values("uncertainty", ascending=False, kind="stable")
                     .groupby("paragraph_id", sort=False).first().reset_index())
    per_paragraph["outlet"] = per_paragraph["outlet"].fillna("").replace("", "(no outlet)")
    ranked = per_paragraph.sort_values(["uncertainty", "paragraph_id"], ascending=[False, True], kind="stable")
    columns = ["paragraph_id", "outlet", "cluster_id", "target", "predicted", "uncertainty"]
    return interleave(ranked[columns].reset_index(drop=True), n)
