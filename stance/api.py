"""The Python API: train a run, load it, and label texts in memory.

    import stance

    run = stance.train("configs/base.yaml")              # or a dict, or a TrainConfig
    run = stance.load_run("configs/base.yaml")           # or a run folder
    run.predict(["Moscow defends its interests.", ...])  # DataFrame: pred and prob_<class>
    run.predict_proba(texts)                             # ndarray (n, len(run.classes_))
    paragraphs = stance.ingest("builtin:example")        # the paragraph table, as stance corpus makes it

Nothing here reimplements a step: `Run.predict` reads the texts with the ingest code that
`stance predict` uses for a CSV file of the same texts and labels them with the same model and
`predict_batch`, so the labels and probabilities are the numbers the command writes
(tests/test_api.py compares them). Docs: docs/api-example.py.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from stance.config import DataConfig, TrainConfig, apply_overrides, config_from_dict, load_config
from stance.corpus.ingest import IngestReport, ingest as _ingest, ingest_frame
from stance import progress
from stance.errors import StanceError
from stance.predict import load_run_model, predict_batch
from stance.runs import read_complete_record, read_run_config, read_run_metrics, read_run_predictions, resolve_run
from stance.train import train as train_run

ROW = "row"  # the input position of each prediction (0-based)


class Run:
    """A finished run (a folder `stance train` wrote), loaded for use in Python.

    Attributes: `path` (the run folder), `record` (run.json as a dict), `config` (the resolved
    `TrainConfig`), `task` ("framing", "sentiment" or "stance") and `classes_` (the task's
    schema classes, the order of `predict_proba`'s columns). `metrics` (metrics.json) and
    `predictions` (the run's own validation and test predictions, one row per example and fit)
    are read on first use; the model is loaded, its files checked against the SHA-256 in
    run.json, on the first prediction.

    Raises StanceError (one line naming the file) for a folder that is not a complete run, a
    config with no complete run, or a damaged file.
    """

    def __init__(self, path_or_config: str | Path):
        self.path = resolve_run(path_or_config)
        self.record = read_complete_record(self.path)
        self.config: TrainConfig = read_run_config(self.path, self.record)
        self.task: str = self.config.task
        self.classes_ = np.asarray(self.config.label_schema.classes_for(self.task))
        self._model: Any = None
        self._metrics: dict[str, Any] | None = None
        self._predictions: pd.DataFrame | None = None

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r}, task={self.task!r}, model={self.config.model.kind!r})"

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def metrics(self) -> dict[str, Any]:
        """metrics.json: `test` / `val` macro-F1, accuracy, 95% CIs, per-class scores, ..."""
        if self._metrics is None:
            self._metrics = read_run_metrics(self.path, self.record)
        return self._metrics

    @property
    def predictions(self) -> pd.DataFrame:
        """predictions.parquet: every fit's validation and test predictions (repeat, fold, seed,
        example_id, ..., split, label, pred, prob_<class>)."""
        if self._predictions is None:
            self._predictions = read_run_predictions(self.path, self.record)
        return self._predictions

    @property
    def model(self) -> Any:
        """The model that labels new data, as `stance predict` uses it: the first fit, or for a
        cross-validated run the average of repeat 0's fold models (`predict.FoldEnsemble`)."""
        if self._model is None:
            _, _, self._model = load_run_model(self.path)
        return self._model

    def paragraphs(self, texts: Sequence[str] | pd.DataFrame, actors: Sequence[Any] | None = None,
                   text_column: str = "text") -> pd.DataFrame:
        """The paragraph table of `texts`, read as `stance predict` reads a CSV of them (text
        normalised, actor mentions found), with a `row` column: each text's input position.

        `texts`: a list of strings, or a DataFrame with a `text_column` column and optionally
        `paragraph_id`, `doc_id`, `outlet`, `date`. `actors` (stance runs only): one entry per
        text, an actor name, a list of names, or None; it replaces the actors found in the text
        (each must be one of `config.label_schema.actors`). Raises StanceError on an empty or
        non-string text, a length mismatch or an unknown actor.
        """
        frame = _as_frame(texts, text_column)
        data = DataConfig.model_validate({"path": "texts.csv", "columns": {"text": text_column}})
        report = IngestReport()
        paragraphs = ingest_frame(frame.assign(**{ROW: range(len(frame))}), data, self.config.corpus,
                                  self.config.label_schema, report=report)
        if len(paragraphs) != len(frame):
            where, why = report.skipped[0] if report.skipped else ("texts", "not read")
            raise StanceError(f"{where}: {why}; every text must have visible characters")
        if actors is not None:
            paragraphs["actors"] = self._given_actors(actors, len(frame))
        return paragraphs

    def predict(self, texts: Sequence[str] | pd.DataFrame, actors: Sequence[Any] | None = None,
                text_column: str = "text") -> pd.DataFrame:
        """Label texts in memory: one row per text (framing, sentiment) or per (text, actor it
        mentions, or `actors` names) for stance.

        Returns a DataFrame with `row` (the text's input position), `paragraph_id`, `target`
        (the actor; empty for framing and sentiment), `pred` (the class with the highest
        probability) and `prob_<class>` for every schema class of the task (probabilities in
        [0, 1] that sum to 1 per row): the columns and numbers `stance predict` writes.
        A stance text that mentions no actor (and has none given) has no row.
        """
        paragraphs = self.paragraphs(texts, actors, text_column)
        out = predict_batch(self.model, paragraphs, self.config)
        rows = dict(zip(paragraphs["paragraph_id"].astype(str), paragraphs[ROW]))
        out.insert(0, ROW, out["paragraph_id"].map(rows).astype("int64"))
        return out

    def predict_proba(self, texts: Sequence[str] | pd.DataFrame, actors: Sequence[Any] | None = None,
                      text_column: str = "text") -> np.ndarray:
        """Probabilities, shape (n_rows, len(classes_)), columns in `classes_` order; the rows
        are those of `predict(texts, actors)` (one per text for framing and sentiment)."""
        frame = self.predict(texts, actors, text_column)
        return frame[[f"prob_{c}" for c in self.classes_]].to_numpy(dtype=float)

    def _given_actors(self, actors: Sequence[Any], n: int) -> list[list[str]]:
        if self.task != "stance":
            raise StanceError(f"actors: only a stance run classifies actors; this run's task is {self.task}")
        if isinstance(actors, str) or len(actors) != n:
            raise StanceError(f"actors: give one entry per text ({n}), each an actor, a list of actors or None")
        known = list(self.config.label_schema.actors)
        out = []
        for i, entry in enumerate(actors):
            names = [] if entry is None else [entry] if isinstance(entry, str) else list(entry)
            unknown = [a for a in names if a not in known]
            if unknown:
                raise StanceError(f"actors[{i}]: {unknown[0]!r} is not in the run's schema.actors {known}")
            out.append(names)
        return out


def _as_frame(texts: Sequence[str] | pd.DataFrame, text_column: str) -> pd.DataFrame:
    if isinstance(texts, pd.DataFrame):
        if text_column not in texts.columns:
            raise StanceError(f"texts: no {text_column!r} column (columns: {list(texts.columns)}); "
                              "name the text column with text_column=")
        frame = texts.reset_index(drop=True).copy()
        cells = list(frame[text_column])
    elif isinstance(texts, str):
        raise StanceError("texts: give a list of strings (or a DataFrame), not one string")
    else:
        cells = list(texts)
        frame = pd.DataFrame({text_column: cells})
    for i, cell in enumerate(cells):
        if not isinstance(cell, str) or not cell.strip():
            raise StanceError(f"texts[{i}]: empty or not a string ({cell!r})")
    if frame.empty:
        raise StanceError("texts: nothing to predict (no texts given)")
    return frame


def load_run(path_or_config: str | Path) -> Run:
    """Load a finished run: a run folder, or a YAML config (its newest complete run).

    Returns a `Run`; see its `predict` / `predict_proba`. Raises StanceError when there is no
    such complete run or a file of it is damaged (checked against run.json's SHA-256)."""
    return Run(path_or_config)


def train(config: str | Path | dict[str, Any] | TrainConfig, overrides: Sequence[str] = (), resume: bool = False,
          fresh: bool = False, quiet: bool = False, say: Callable[..., None] | None = None) -> Run:
    """Train and test one run from a config, as `stance train` does; returns the loaded `Run`.

    `config`: a YAML file, a dict of the same keys (package defaults fill the rest), or a
    `TrainConfig`. `overrides`: `key=value` strings as `--set` takes them. The run folder is
    written under the config's `output_dir` (never overwritten: a second run of the same config
    is `<run>-2`). `quiet`: no messages and no progress bars (bars are drawn only on a terminal
anyway). Raises StanceError on a bad config or data, before anything is written.
    """
    if isinstance(config, TrainConfig):
        if overrides:
            raise StanceError("overrides: apply them to a dict or a file, not to a validated TrainConfig")
        cfg = config
    elif isinstance(config, dict):
        cfg = config_from_dict(apply_overrides(copy.deepcopy(config), list(overrides)))
    else:
        cfg = load_config(config, list(overrides))
    say = say if say is not None else (lambda *a, **k: None) if quiet else print
    with progress.quiet(quiet):
        return Run(train_run(cfg, resume=resume, fresh=fresh, say=say))


def ingest(data: str | Path | dict[str, Any] = "builtin:example", config: TrainConfig | None = None) -> pd.DataFrame:
    """The paragraph table of pages or a table, as `stance corpus` writes it (one row per
    paragraph: paragraph_id, doc_id, outlet, date, text, actors, cluster_id, ... and any label
    columns). `data`: a path (or builtin:example), or a dict of `data:` settings; `config`
    supplies the corpus rules and schema (default: the package defaults)."""
    settings = {"path": str(data)} if isinstance(data, (str, Path)) else dict(data)
    cfg = config or config_from_dict({"name": "ingest", "data": settings})
    return _ingest(DataConfig.model_validate(settings), cfg.corpus, cfg.label_schema)
