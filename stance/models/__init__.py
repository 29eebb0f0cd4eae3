"""Model registry: a model kind is an entry in a table (stance.models.kinds), not a class hierarchy.

Every kind's `build` returns an object with the scikit-learn estimator API: fit(X, y),
predict(X), predict_proba(X) and classes_, where X is a DataFrame with a `text` column and,
for target-aware tasks, `target` and `target_spans` columns. Each kind also knows how to
save a fitted model to a folder and load it back; `model.json` in that folder names the kind.

Everything that differs between kinds is its entry (ModelKind: its config section, the module
of its code and two flags), so training, comparing and reporting never branch on a kind's
name, and the config builds its `model:` schema from the same table. A new kind is one module
and one `register_kind` line (see stance.models.kinds).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

from stance import files
from stance.errors import StanceError
from stance.models.kinds import MODEL_BUILDERS, ModelConfig, ModelKind, ModelSection, register_kind, unregister_kind

__all__ = ["MODEL_BUILDERS", "ModelConfig", "ModelKind", "ModelSection", "register_kind", "unregister_kind",
           "build_model", "describe_model", "tune_grid", "fit_model", "check_model_config", "save_model", "load_model",
           "verify_model_files", "model_files"]


def implementation(kind: str) -> ModuleType:
    """The module of a registered kind's code, imported on first use: torch, transformers and
    scikit-learn load only when a model of a kind that needs them is built or loaded."""
    return importlib.import_module(MODEL_BUILDERS[kind].module)


def build_model(model_cfg: Any, task: str, seed: int) -> Any:
    """An unfitted estimator for a config's model section (the kind module's `build`)."""
    return implementation(model_cfg.kind).build(model_cfg, task=task, seed=seed)


def describe_model(model_cfg: Any) -> str:
    """One line naming the model of a config section, e.g. "TF-IDF (logreg, word+char n-grams)"."""
    return model_cfg.describe()


def tune_grid(model_cfg: Any) -> dict[str, list[Any]]:
    """The grid train searches (key -> values), or {} for a kind that tunes itself or has none."""
    return dict(getattr(model_cfg, "tune", None) or {}) if MODEL_BUILDERS[model_cfg.kind].grid_search else {}


def fit_model(model_cfg: Any, model: Any, X: Any, y: Any, eval_set: tuple[Any, Any] | None = None,
              work_dir: Path | None = None, progress: Callable[[str], None] | None = None,
              metric: str = "macro_f1") -> Any:
    """Fit `model` (built from `model_cfg`) on X (DataFrame: text, target, target_spans) and y
    (labels, shape (n,)); kinds that select on the validation split get `eval_set`, `work_dir`,
    `progress` and the selection `metric` (evaluation.metric: macro_f1 or f_avg) too. Returns the
    fitted model."""
    if MODEL_BUILDERS[model_cfg.kind].fit_on_validation:
        return model.fit(X, y, eval_set=eval_set, work_dir=work_dir, progress=progress, metric=metric)
    return model.fit(X, y)


def check_model_config(model_cfg: Any, field: str = "model") -> None:
    """Everything about a model section that can be checked before a run folder exists: each
    point of its tune grid validated like the section (grid_point), then the kind module's own
    `check` (scikit-learn's parameter validation for TF-IDF; the pretrained encoder's files, the
    device and the precision for the others) on the section and on each grid point.

    Raises StanceError naming the field under `field` (`model`, or `models.<name>` in an
    experiment), e.g. `model.tune.C[0] = inf: Input should be a finite number`.
    """
    from pydantic import ValidationError

    from stance.models.kinds import grid_error

    points: list[tuple[str, Any]] = [(field, model_cfg)]
    for key, values in (getattr(model_cfg, "tune", None) or {}).items():
        for i, value in enumerate(values):
            try:
                points.append((f"{field}.tune.{key}[{i}] = {value!r}", model_cfg.grid_point({key: value})))
            except ValidationError as exc:
                raise StanceError(f"{field}.{grid_error(key, i, value, exc)}") from None
    check = getattr(implementation(model_cfg.kind), "check", None)
    if check is None:
        return
    for where, point in points:
        try:
            check(point)
        except ValueError as exc:
            raise StanceError(f"{where}: {exc}") from None
        except StanceError as exc:
            # A kind's check names its field as `model.<key>`; in an experiment it is `models.<name>.<key>`.
            message = str(exc)
            if field != "model" and message.startswith(("model.", "model:")):
                message = field + message[len("model"):]
            raise StanceError(message) from None


MODEL_META = "model.json"
# Model files that unpickle (run code) when loaded: never read, whatever a folder holds.
PICKLE_SUFFIXES = (".joblib", ".pkl", ".pickle", ".bin", ".pt", ".pth")


def model_files(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under `folder`, by path relative to it (sorted)."""
    return {p.relative_to(folder).as_posix(): files.sha256(p)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def save_model(model: Any, folder: Path, kind: str, task: str, extra: dict[str, Any] | None = None) -> dict[str, str]:
    """Save a fitted model as the folder `folder`; return the SHA-256 of each file in it.

    The kind's own files are written into a temporary folder that is renamed into place at the
    end, so a crash or a full disk never leaves a half-written model. `model.json` names the
    kind and records the SHA-256 of every other file, which load_model checks.
    """
    with files.atomic_folder(folder) as tmp:
        try:
            implementation(kind).save(model, tmp)
        except OSError as exc:
            if exc.errno in files.DISK_ERRORS:
                raise files.write_error(folder, exc) from None
            raise
        files.write_json(tmp / MODEL_META, {"kind": kind, "task": task, "classes": [str(c) for c in model.classes_],
                                            **(extra or {}), "files": model_files(tmp)})
        hashes = model_files(tmp)
    return hashes


def verify_model_files(folder: Path, expected: dict[str, str]) -> None:
    """Refuse a model folder whose files differ from `expected` (relative path -> SHA-256)."""
    for name, digest in expected.items():
        path = folder / name
        if not path.is_file():
            raise StanceError(f"{path}: model file is missing")
        if files.sha256(path) != digest:
            raise StanceError(f"{path}: SHA-256 does not match the one recorded when the model was saved "
                              "(the file is damaged or was altered); it is not loaded: retrain, or restore the run")


def load_model(folder: Path, expected: dict[str, str] | None = None) -> Any:
    """Load a model saved by save_model, after checking every file's SHA-256.

    `expected` (relative path -> SHA-256, e.g. from run.json) is checked first, model.json's own
    record second; a file in the folder that neither lists is refused, so nothing unverified
    (a pickle dropped in beside the model) is ever read.
    """
    folder = Path(folder)
    meta_path = folder / MODEL_META
    if not meta_path.is_file():
        raise StanceError(f"{folder}: not a saved stance model (no {MODEL_META})")
    if expected is not None:
        verify_model_files(folder, expected)
    meta = files.read_json(meta_path, "the model description")
    if not isinstance(meta, dict) or "kind" not in meta:
        raise StanceError(f"{meta_path}: unreadable model description (no kind)")
    recorded = meta.get("files")
    if not isinstance(recorded, dict):
        pickled = [p.name for p in folder.iterdir() if p.suffix in PICKLE_SUFFIXES]
        what = f" ({', '.join(pickled)}: a pickle, which runs code when loaded)" if pickled else ""
        raise StanceError(f"{folder}: saved by an older stance without file hashes{what}; it is not loaded: "
                          "train the run again")
    verify_model_files(folder, recorded)
    unlisted = sorted(set(model_files(folder)) - set(recorded) - {MODEL_META} - set(expected or {}))
    if unlisted:
        raise StanceError(f"{folder / unlisted[0]}: not among the files recorded when the model was saved; "
                          "it is not loaded (remove it, or restore the run)")
    kind = meta["kind"]
    if kind not in MODEL_BUILDERS:
        raise StanceError(f"{meta_path}: unknown model kind {kind!r}; known: {sorted(MODEL_BUILDERS)}")
    return implementation(kind).load(folder)
