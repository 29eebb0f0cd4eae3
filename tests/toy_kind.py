"""A toy model kind for tests/test_registry.py, written as a new kind would be: this one module
(its config section, build, save, load) and one `register_kind` line, with no edit elsewhere.

The model predicts the training classes' frequencies, add-`smoothing` smoothed, for every row:
a prior, not a classifier, but it has the scikit-learn estimator API and a tunable field.
"""

import json
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field

from stance.models import ModelSection


class PriorModel(ModelSection):
    kind: Literal["prior"] = "prior"
    smoothing: float = Field(1.0, ge=0)
    tune: dict[str, list[float]] = Field(default_factory=dict)

    def describe(self) -> str:
        return f"class prior (add-{self.smoothing:g} smoothing)"


class Prior:
    """fit / predict / predict_proba / classes_ (scikit-learn's estimator API)."""

    def __init__(self, smoothing: float):
        self.smoothing = smoothing

    def fit(self, X: Any, y: Any) -> "Prior":
        self.classes_, counts = np.unique(np.asarray(y, dtype=str), return_counts=True)
        self.prior_ = (counts + self.smoothing) / (counts + self.smoothing).sum()
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        return np.tile(self.prior_, (len(X), 1))

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


def build(cfg: PriorModel, task: str, seed: int) -> Prior:
    return Prior(cfg.smoothing)


def save(model: Prior, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    state = {"smoothing": model.smoothing, "classes": model.classes_.tolist(), "prior": model.prior_.tolist()}
    (folder / "prior.json").write_text(json.dumps(state), encoding="utf-8")


def load(folder: Path) -> Prior:
    state = json.loads((folder / "prior.json").read_text(encoding="utf-8"))
    model = Prior(state["smoothing"])
    model.classes_, model.prior_ = np.asarray(state["classes"]), np.asarray(state["prior"])
    return model
