"""TF-IDF baselines: word and character n-grams into a linear classifier.

For the stance task the model is target-aware: the target's mentions are replaced by a
placeholder token (so "Russia" in a paragraph about Russia is not a feature of stance toward
Ukraine), the words around each mention get their own features, and the target itself is
one-hot encoded so the classifier can learn per-actor baselines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import OneHotEncoder
from sklearn.svm import LinearSVC

from stance.models.kinds import TFIDF_CLASSIFIERS
from stance.errors import StanceError

TARGET_TOKEN = "targetmention"


def _logreg(cfg: Any, seed: int):
    return LogisticRegression(C=cfg.C, class_weight=cfg.class_weight, max_iter=cfg.max_iter,
                              random_state=seed)


class CalibratedLinearSVM(ClassifierMixin, BaseEstimator):
    """LinearSVC with sigmoid-calibrated probabilities from internal folds.

    The number of calibration folds shrinks to the rarest class's count (at most 3), so small
    training sets (a learning-curve point, a rare class) still fit; one example is too few.
    """

    def __init__(self, C: float = 1.0, class_weight: str | None = "balanced", max_iter: int = 2000,
                 random_state: int = 0):
        self.C, self.class_weight, self.max_iter, self.random_state = C, class_weight, max_iter, random_state

    def fit(self, X, y):
        _, counts = np.unique(y, return_counts=True)
        folds = int(min(3, counts.min()))
        if folds < 2:
            raise StanceError("model.classifier linear_svm calibrates its probabilities on internal folds and needs "
                              "at least 2 training examples of every class; a class has 1 here (use logreg, or more data)")
        svm = LinearSVC(C=self.C, class_weight=self.class_weight, max_iter=self.max_iter,
                        random_state=self.random_state)
        self.model_ = CalibratedClassifierCV(svm, method="sigmoid", cv=folds).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)

    def predict(self, X):
        return self.model_.predict(X)


def _linear_svm(cfg: Any, seed: int):
    # LinearSVC has no probabilities; sigmoid calibration on internal folds gives honest ones.
    return CalibratedLinearSVM(C=cfg.C, class_weight=cfg.class_weight, max_iter=cfg.max_iter, random_state=seed)


def _sgd_log(cfg: Any, seed: int):
    return SGDClassifier(loss="log_loss", alpha=1.0 / (cfg.C * 1000), class_weight=cfg.class_weight,
                         max_iter=cfg.max_iter, random_state=seed, tol=1e-4)


CLASSIFIERS: dict[str, Callable[[Any, int], Any]] = {
    "logreg": _logreg,
    "linear_svm": _linear_svm,
    "sgd_log": _sgd_log,
}
if set(CLASSIFIERS) != set(TFIDF_CLASSIFIERS):  # the config validates names without importing this module
    raise ImportError(f"stance.models.kinds.TFIDF_CLASSIFIERS {TFIDF_CLASSIFIERS} differs from {sorted(CLASSIFIERS)}")


def text_features(cfg: Any) -> FeatureUnion:
    parts = []
    common = dict(min_df=cfg.min_df, max_features=cfg.max_features, sublinear_tf=cfg.sublinear_tf,
                  lowercase=cfg.lowercase, dtype=np.float32)
    if cfg.features in ("word", "word+char"):
        parts.append(("word", TfidfVectorizer(analyzer="word", ngram_range=tuple(cfg.word_ngrams),
                                              token_pattern=r"(?u)\b\w+\b", **common)))
    if cfg.features in ("char", "word+char"):
        parts.append(("char", TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(cfg.char_ngrams), **common)))
    return FeatureUnion(parts)


class TargetMarker(TransformerMixin, BaseEstimator):
    """Adds `marked_text` (target mentions replaced by a placeholder) and `context` columns."""

    def __init__(self, window: int = 6):
        self.window = window

    def fit(self, X: pd.DataFrame, y=None):
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        marked, context = [], []
        for text, spans in zip(X["text"], X["target_spans"]):
            spans = sorted((int(s[0]), int(s[1])) for s in (spans if spans is not None else []))
            pieces, position, windows = [], 0, []
            for start, end in spans:
                if start < position:
                    continue
                pieces.append(text[position:start])
                pieces.append(f" {TARGET_TOKEN} ")
                position = end
                before = text[:start].split()[-self.window:] if self.window else []
                after = text[end:].split()[:self.window] if self.window else []
                windows.append(" ".join(before + [TARGET_TOKEN] + after))
            pieces.append(text[position:])
            marked.append("".join(pieces))
            # A target never mentioned by name still gets a token, so the vocabulary is never empty.
            context.append(" ".join(windows) or f"no{TARGET_TOKEN}")
        return pd.DataFrame({"marked_text": marked, "context": context,
                             "target": X["target"].fillna("").astype(str).to_numpy()})


def build(cfg: Any, task: str, seed: int) -> Pipeline:
    classifier = CLASSIFIERS[cfg.classifier](cfg, seed)
    if task != "stance":
        features = ColumnTransformer([("text", text_features(cfg), "text")])
        return Pipeline([("features", features), ("clf", classifier)])
    context = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), token_pattern=r"(?u)\b\w+\b",
                              sublinear_tf=True, dtype=np.float32)
    features = ColumnTransformer([
        ("text", text_features(cfg), "marked_text"),
        ("context", context, "context"),
        ("target", OneHotEncoder(handle_unknown="ignore"), ["target"]),
    ])
    return Pipeline([("mark", TargetMarker(cfg.context_window)), ("features", features), ("clf", classifier)])


def check_params(cfg: Any) -> None:
    """Run scikit-learn's own parameter validation on the estimators this config builds.

    Raises ValueError (pydantic turns it into a config error) with scikit-learn's message.
    """
    from sklearn.utils._param_validation import InvalidParameterError

    for task in ("framing", "stance"):
        pipeline = build(cfg, task, seed=0)
        for estimator in _estimators(pipeline):
            validate = getattr(estimator, "_validate_params", None)
            if validate is None or not hasattr(estimator, "_parameter_constraints"):
                continue
            try:
                validate()
            except InvalidParameterError as exc:
                raise ValueError(str(exc).splitlines()[0]) from None


# The registry's check of a config section (stance.models.check_model_config).
check = check_params


def _estimators(estimator: Any) -> Iterator[Any]:
    yield estimator
    children = []
    if isinstance(estimator, Pipeline):
        children = [step for _, step in estimator.steps]
    elif isinstance(estimator, FeatureUnion):
        children = [part for _, part in estimator.transformer_list]
    elif isinstance(estimator, ColumnTransformer):
        children = [part for _, part, _ in estimator.transformers]
    elif isinstance(estimator, CalibratedLinearSVM):
        children = [LinearSVC(C=estimator.C, class_weight=estimator.class_weight, max_iter=estimator.max_iter,
                              random_state=estimator.random_state)]
    for child in children:
        if isinstance(child, BaseEstimator):
            yield from _estimators(child)


MODEL_FILE = "model.skops"
# Types outside scikit-learn's own that our pipelines hold; skops refuses every other type
# (and never unpickles), so a replaced model file cannot run code on load.
TRUSTED_TYPES = [
    "stance.models.tfidf.TargetMarker",
    "stance.models.tfidf.CalibratedLinearSVM",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
]


def save(model: Pipeline, folder: Path) -> None:
    import skops.io as sio

    sio.dump(model, folder / MODEL_FILE)


def load(folder: Path) -> Pipeline:
    import skops.io as sio
    from skops.io.exceptions import UntrustedTypesFoundException

    path = folder / MODEL_FILE
    if not path.is_file():
        raise StanceError(f"{path}: model file is missing")
    try:
        return sio.load(path, trusted=TRUSTED_TYPES)
    except UntrustedTypesFoundException as exc:
        raise StanceError(f"{path}: holds types stance does not trust ({exc}); it is not loaded") from None
    except Exception as exc:  # noqa: BLE001 — skops raises many kinds on a damaged archive
        raise StanceError(f"{path}: damaged model file ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})") from None
