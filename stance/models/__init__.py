"""Model registry: a model kind is a name in a dict of builders, not a class hierarchy.

Every builder returns an object with the scikit-learn estimator API: fit(X, y),
predict(X), predict_proba(X) and classes_, where X is a DataFrame with a `text` column and,
for target-aware tasks, `target` and `target_spans` columns. Each kind also knows how to
save a fitted model to a folder and load it back; `model.json` in that folder names the kind.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from stance import files
from stance.errors import StanceError
from stance.models import tfidf


@dataclass(frozen=True)
class ModelKind:
    build: Callable[..., Any]
    save: Callable[[Any, Path], None]
    load: Callable[[Path], Any]


def _transformer(name: str, module: str = "transformer") -> Callable[..., Any]:
    # Imported on first use: torch and transformers are heavy and TF-IDF runs never need them.
    def call(*args: Any, **kwargs: Any) -> Any:
        import importlib

        return getattr(importlib.import_module(f"stance.models.{module}"), name)(*args, **kwargs)
    return call


MODEL_BUILDERS: dict[str, ModelKind] = {
    "tfidf": ModelKind(tfidf.build, tfidf.save, tfidf.load),
    "transformer": ModelKind(_transformer("build"), _transformer("save"), _transformer("load")),
    "embeddings": ModelKind(*(_transformer(n, "embeddings") for n in ("build", "save", "load"))),
    "setfit": ModelKind(*(_transformer(n, "setfit_kind") for n in ("build", "save", "load"))),
}


def build_model(model_cfg: Any, task: str, seed: int) -> Any:
    return MODEL_BUILDERS[model_cfg.kind].build(model_cfg, task=task, seed=seed)


def save_model(model: Any, folder: Path, kind: str, task: str, extra: dict[str, Any] | None = None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    MODEL_BUILDERS[kind].save(model, folder)
    files.write_json(folder / "model.json", {"kind": kind, "task": task,
                                             "classes": [str(c) for c in model.classes_], **(extra or {})})


def load_model(folder: Path) -> Any:
    meta_path = Path(folder) / "model.json"
    if not meta_path.is_file():
        raise StanceError(f"{folder}: not a saved stance model (no model.json)")
    try:
        kind = json.loads(meta_path.read_text(encoding="utf-8"))["kind"]
    except (ValueError, KeyError) as exc:
        raise StanceError(f"{meta_path}: unreadable model description ({exc})") from None
    if kind not in MODEL_BUILDERS:
        raise StanceError(f"{meta_path}: unknown model kind {kind!r}; known: {sorted(MODEL_BUILDERS)}")
    return MODEL_BUILDERS[kind].load(Path(folder))
