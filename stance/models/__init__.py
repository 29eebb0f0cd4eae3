"""Model registry: a model kind is a name in a dict of builders, not a class hierarchy.

Every builder returns an object with the scikit-learn estimator API: fit(X, y),
predict(X), predict_proba(X) and classes_, where X is a DataFrame with a `text` column and,
for target-aware tasks, `target` and `target_spans` columns.
"""

from __future__ import annotations

from typing import Any, Callable

from stance.models import tfidf

MODEL_BUILDERS: dict[str, Callable[..., Any]] = {
    "tfidf": tfidf.build,
}


def build_model(model_cfg: Any, task: str, seed: int) -> Any:
    return MODEL_BUILDERS[model_cfg.kind](model_cfg, task=task, seed=seed)
