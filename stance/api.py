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
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from pydantic import BaseModel, ValidationError

from stance.config import (DataConfig, TrainConfig, apply_overrides, config_from_dict, format_validation_error,
                           load_config)
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
    config with no complete run, or a damaged file, and (naming the argument) for a
    `path_or_config` that is not a path.
    """

    def __init__(self, path_or_config: str | Path):
        self.path = resolve_run(_path_argument(path_or_config, "path_or_config", "a run folder or a YAML config"))
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

        `texts`: a list, tuple or Series of strings (n texts), or a DataFrame with one column
        named `text_column` (a string) and optionally `paragraph_id`, `doc_id`, `outlet`,
        `date`; its column names must be unique and flat (no MultiIndex). A dict is refused:
        pass `pd.DataFrame(d)` or a list. `actors` (stance runs only): None, or a list, tuple or
        Series of n entries (a generator is read into a list), each an actor name, a list or
        tuple of names (a name given twice counts once), or None / NaN (a blank cell of a
        pandas column): no given actor; it replaces the actors found in the text (each must be
        one of `config.label_schema.actors`). Raises StanceError, naming the argument, on any
        other type, an empty or non-string text, a length mismatch or an unknown actor.
        """
        frame = _as_frame(texts, text_column)
        data = _validated(DataConfig, {"path": "texts.csv", "columns": {"text": text_column}}, "text_column")
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
        A stance text that mentions no actor (and has none given) has no row. Arguments and
        errors: see `paragraphs`.
        """
        paragraphs = self.paragraphs(texts, actors, text_column)
        out = predict_batch(self.model, paragraphs, self.config)
        rows = dict(zip(paragraphs["paragraph_id"].astype(str), paragraphs[ROW]))
        out.insert(0, ROW, out["paragraph_id"].map(rows).astype("int64"))
        return out

    def predict_proba(self, texts: Sequence[str] | pd.DataFrame, actors: Sequence[Any] | None = None,
                      text_column: str = "text") -> np.ndarray:
        """Probabilities, shape (n_rows, len(classes_)), columns in `classes_` order; the rows
        are those of `predict(texts, actors)` (one per text for framing and sentiment). Arguments
        and errors: see `paragraphs`."""
        frame = self.predict(texts, actors, text_column)
        return frame[[f"prob_{c}" for c in self.classes_]].to_numpy(dtype=float)

    def _given_actors(self, actors: Any, n: int) -> list[list[str]]:
        if self.task != "stance":
            raise StanceError(f"actors: only a stance run classifies actors; this run's task is {self.task}")
        shape = f"give one entry per text ({n}), each an actor, a list of actors or None"
        if isinstance(actors, (str, bytes, dict, pd.DataFrame)) or not isinstance(actors, Iterable):
            raise StanceError(f"actors: {shape} (got {type(actors).__name__})")
        if isinstance(actors, (pd.Series, pd.Index, np.ndarray)):
            if getattr(actors, "ndim", 1) != 1:
                raise StanceError(f"actors: {shape} (got a {actors.ndim}-dimensional array)")
            actors = list(actors)
        elif isinstance(actors, Iterator) or not isinstance(actors, (list, tuple)):
            actors = list(actors)  # a generator or another iterable: read it once, then check it
        if len(actors) != n:
            raise StanceError(f"actors: {shape}; got {len(actors)} entries")
        known = list(self.config.label_schema.actors)
        out = []
        for i, entry in enumerate(actors):
            if _missing(entry):
                names = []
            elif isinstance(entry, str):
                names = [entry]
            elif isinstance(entry, (list, tuple)) and all(isinstance(a, str) for a in entry):
                names = list(dict.fromkeys(entry))  # a name given twice is one pair, not two rows
            else:
                raise StanceError(f"actors[{i}]: {entry!r} is not an actor name, a list of names or None")
            unknown = [a for a in names if a not in known]
            if unknown:
                raise StanceError(f"actors[{i}]: {unknown[0]!r} is not in the run's schema.actors {known}")
            out.append(names)
        return out


def _missing(value: Any) -> bool:
    """None, or a pandas / numpy missing value (NaN, NA, NaT): a blank cell of a column."""
    if value is None:
        return True
    try:
        return bool(pd.api.types.is_scalar(value) and pd.isna(value))
    except (TypeError, ValueError):
        return False


def _path_argument(value: Any, name: str, what: str) -> str | Path:
    """`value` if it is a path (str or os.PathLike) that is not empty; else StanceError naming `name`."""
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, (str, Path)):
        raise StanceError(f"{name}: expected {what} (a path), got {type(value).__name__} {value!r:.60}")
    if not str(value).strip():
        raise StanceError(f"{name}: expected {what}, got an empty path")
    return value


def _validated(kind: type[BaseModel], value: dict[str, Any], name: str) -> Any:
    """`kind.model_validate(value)`, its ValidationError as one StanceError line naming `name` and the key."""
    try:
        return kind.model_validate(value)
    except ValidationError as exc:
        raise StanceError(format_validation_error(exc, name, None, [])) from None


def _override_list(overrides: Any) -> list[str]:
    """`key=value` strings from a list / tuple of them, or from a dict {key: value}."""
    if overrides is None:
        return []
    if isinstance(overrides, dict):
        items = []
        for key, value in overrides.items():
            if not isinstance(key, str):
                raise StanceError(f"overrides: the keys of a dict must be strings like 'model.C', got {key!r}")
            if not isinstance(value, str):
                try:  # JSON is YAML: the value reads back as itself, as --set reads its text
                    value = json.dumps(value, allow_nan=False)
                except (TypeError, ValueError):
                    raise StanceError(f"overrides: {key}: {value!r} is not a plain value (a string, number, "
                                      "boolean, list or mapping)") from None
            items.append(f"{key}={value}")
        return items
    if isinstance(overrides, (list, tuple)):
        for i, item in enumerate(overrides):
            if not isinstance(item, str):
                raise StanceError(f"overrides[{i}]: expected a 'key=value' string, got {item!r}")
        return list(overrides)
    raise StanceError("overrides: give a list of 'key=value' strings (as --set takes them) or a dict "
                      f"{{key: value}}, not {type(overrides).__name__}")


def _as_frame(texts: Any, text_column: Any) -> pd.DataFrame:
    if not isinstance(text_column, str) or not text_column:
        raise StanceError(f"text_column: expected the name of the text column (a string), got {text_column!r}")
    if isinstance(texts, pd.DataFrame):
        if isinstance(texts.columns, pd.MultiIndex):
            raise StanceError("texts: the DataFrame has MultiIndex (nested) column names; flatten them and "
                              "name the text column with text_column=")
        if texts.columns.has_duplicates:
            twice = sorted({str(c) for c in texts.columns[texts.columns.duplicated()]})
            raise StanceError(f"texts: the DataFrame has columns named more than once ({', '.join(twice)}); "
                              "each column name must be unique")
        if text_column not in texts.columns:
            raise StanceError(f"texts: no {text_column!r} column (columns: {list(texts.columns)}); "
                              "name the text column with text_column=")
        frame = texts.reset_index(drop=True).copy()
        cells = list(frame[text_column])
    elif isinstance(texts, dict):
        raise StanceError("texts: a dict is not read as a table here; pass a DataFrame (pd.DataFrame(d)) or a "
                          "list of strings")
    elif isinstance(texts, (str, bytes)):
        raise StanceError("texts: give a list of strings (or a DataFrame), not one string")
    elif isinstance(texts, (list, tuple, pd.Series)) or (isinstance(texts, np.ndarray) and texts.ndim == 1):
        cells = list(texts)
        frame = pd.DataFrame({text_column: cells})
    else:
        raise StanceError(f"texts: give a list, tuple or Series of strings, or a DataFrame, not "
                          f"{type(texts).__name__}")
    for i, cell in enumerate(cells):
        if not isinstance(cell, str) or not cell.strip():
            raise StanceError(f"texts[{i}]: empty or not a string ({cell!r})")
    if frame.empty:
        raise StanceError("texts: nothing to predict (no texts given)")
    return frame


def load_run(path_or_config: str | Path) -> Run:
    """Load a finished run: a run folder, or a YAML config (its newest complete run).

    Returns a `Run`; see its `predict` / `predict_proba`. Raises StanceError when
    `path_or_config` is not a path (str or os.PathLike), there is no such complete run or a file
    of it is damaged (checked against run.json's SHA-256)."""
    return Run(path_or_config)


def train(config: str | Path | dict[str, Any] | TrainConfig, overrides: Sequence[str] | dict[str, Any] | None = (),
          resume: bool = False,
          fresh: bool = False, quiet: bool = False, say: Callable[..., None] | None = None) -> Run:
    """Train and test one run from a config, as `stance train` does; returns the loaded `Run`.

    `config`: a YAML file, a dict of the same keys (package defaults fill the rest), or a
    `TrainConfig`. `overrides`: a list of `key=value` strings as `--set` takes them, or a dict
    {key: value} (a string value is read as `--set` reads its text; a number, boolean, list or
    mapping as itself); None for none. The run folder is written under the config's
    `output_dir` (never overwritten: a second run of the same config is `<run>-2`). `quiet`: no
    messages and no progress bars (bars are drawn only on a terminal anyway). Raises
    StanceError (one line naming the argument, file or key) on an argument of another type, a
    bad config or data, before anything is written.
    """
    overrides = _override_list(overrides)
    if isinstance(config, TrainConfig):
        if overrides:
            raise StanceError("overrides: apply them to a dict or a file, not to a validated TrainConfig")
        cfg = config
    elif isinstance(config, dict):
        cfg = config_from_dict(apply_overrides(copy.deepcopy(config), overrides))
    else:
        cfg = load_config(_path_argument(config, "config", "a YAML config, a dict or a TrainConfig"), overrides)
    say = say if say is not None else (lambda *a, **k: None) if quiet else print
    with progress.quiet(quiet):
        return Run(train_run(cfg, resume=resume, fresh=fresh, say=say))


def ingest(data: str | Path | dict[str, Any] = "builtin:example", config: TrainConfig | None = None) -> pd.DataFrame:
    """The paragraph table of pages or a table, as `stance corpus` writes it (one row per
    paragraph: paragraph_id, doc_id, outlet, date, text, actors, cluster_id, ... and any label
    columns). `data`: a path (str or os.PathLike, or builtin:example), or a dict of `data:`
    settings; `config` (a `TrainConfig`, or None for the package defaults) supplies the corpus
    rules and schema. Raises StanceError (one line naming the argument and key) on an argument
    of another type or a bad setting, and as `stance corpus` does on bad data."""
    if isinstance(data, dict):
        settings = dict(data)
    else:
        settings = {"path": str(_path_argument(data, "data", "a data path or a dict of data: settings"))}
    if config is not None and not isinstance(config, TrainConfig):
        raise StanceError(f"config: expected a TrainConfig (or None for the package defaults), got "
                          f"{type(config).__name__}; load a YAML file with stance.config.load_config")
    data_config = _validated(DataConfig, settings, "data")
    cfg = config or config_from_dict({"name": "ingest", "data": settings})
    return _ingest(data_config, cfg.corpus, cfg.label_schema)
