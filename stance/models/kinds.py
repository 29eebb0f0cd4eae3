"""The model kinds: for each, its config section (the schema of `model:`) and where its code lives.

This is the registry's table. stance.config builds the `model:` section's discriminated union
from it (one member per registered kind, chosen by `kind`), so the kind, not the config, owns
its schema: its fields, their validation and which of them the `tune` grid may vary.

The table imports only pydantic and stance.sections: loading a config never imports
scikit-learn, torch or transformers. A kind's code (build, save, load, check) is named by its
module and imported by stance.models the first time a model of that kind is built or loaded.

A new kind is its module and one `register_kind` line:

    class MajorityModel(ModelSection):          # the `model:` section, in the kind's module
        kind: Literal["majority"] = "majority"
        smoothing: float = Field(0.0, ge=0)

    register_kind(ModelKind(MajorityModel, "mypackage.majority", grid_search=False))

The module defines `build(cfg, task=, seed=)`, `save(model, folder)`, `load(folder)` and,
optionally, `check(cfg)` (see ModelKind). A kind of this package is registered at the bottom
of this file; its section class sits here too, because the config imports this table and may
not import model code (tests/test_imports.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Literal, Union

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic.fields import FieldInfo

from stance.sections import NgramRange, PathStr, Strict


class ModelSection(Strict):
    """Base of every kind's `model:` section: a `kind: Literal["name"] = "name"` field picks the
    kind; unknown keys are errors. A section with a `tune` field (key -> list of values) gives
    the grid train searches; each point is validated like the section itself (grid_point),
    when the config is loaded and again before a run folder exists (check_model_config)."""

    kind: str
    # The fields `tune` may vary; None: every field but kind and tune.
    tunable: ClassVar[tuple[str, ...] | None] = None
    # Fields only the stance task reads (the target's mentions): set to anything but their
    # default on another task, they would be ignored, so the config refuses them. (Not the
    # encoders' target_input / target_markers: configs/embeddings.yaml sets target_input on a
    # framing task for `--set task=stance`, and its run id must not change.)
    stance_only: ClassVar[tuple[str, ...]] = ()

    def describe(self) -> str:
        """One line naming the model for logs, tables and the model card (override per kind)."""
        return self.kind

    def grid_point(self, params: dict[str, Any]) -> "ModelSection":
        """This section with `params` (key -> value) from the tune grid.

        Raises ValidationError where the section would reject the values, as a config would.
        """
        return type(self).model_validate({**self.model_dump(), **params, "tune": {}})

    @classmethod
    def tunable_fields(cls) -> tuple[str, ...]:
        return cls.tunable if cls.tunable is not None else tuple(f for f in cls.model_fields if f not in ("kind", "tune"))

    @classmethod
    def untunable(cls, key: str, settings: dict[str, Any]) -> str | None:
        """Why the grid may not vary `key` given the section's other `settings` (a field they make
        the model ignore: every point would be the same model), or None. Override per kind."""
        return None

    # check_fields=False: declared here for every kind's `tune` field (a kind without one has no grid).
    @field_validator("tune", check_fields=False)
    @classmethod
    def _grid_points(cls, grid: dict[str, list[Any]], info: ValidationInfo) -> dict[str, list[Any]]:
        if not grid:
            return grid
        base = dict(info.data)  # the fields declared before `tune`; later ones take their defaults here
        try:
            cls.model_validate({**base, "tune": {}}, context=info.context)
        except ValidationError:
            return grid  # the section's own error is reported on its own field, not on every grid point
        allowed = cls.tunable_fields()
        for key, values in grid.items():
            if key not in allowed:
                raise ValueError(f"cannot tune {key!r}; tunable: {list(allowed)}")
            if not values:
                raise ValueError(f"tune.{key} is empty")
            problem = None if is_saved_run(info) else cls.untunable(key, base)
            if problem:
                raise ValueError(problem)
            for i, value in enumerate(values):
                # Each grid point gets the validation the fitted model gets (grid_point), strict
                # types included: the grid is recorded as written, so `true` or "1.5" would be too.
                try:
                    cls.model_validate({**base, key: value, "tune": {}}, context=info.context)
                except ValidationError as exc:
                    raise ValueError(grid_error(key, i, value, exc)) from None
        return grid


def is_saved_run(info: ValidationInfo) -> bool:
    """Whether the config being validated is a finished run's (stance.runs.read_run_config):
    settings that were accepted, and ignored, when the run was made still load, so that the run
    can be used; only a new config is refused them."""
    return bool(info.context and info.context.get("saved_run"))


def unread_for_task(section: ModelSection, task: str) -> str | None:
    """Why `section` does not fit `task` (a stance-only field set to anything but its default on
    another task, which would be ignored), or None."""
    if task == "stance":
        return None
    for name in type(section).stance_only:
        default = type(section).model_fields[name].default
        if getattr(section, name) != default:
            return (f"{name} is read only by the stance task (task is {task}); remove it "
                    f"(default {default!r})")
    return None


def grid_error(key: str, index: int, value: Any, exc: ValidationError) -> str:
    """`tune.<key>[<index>] = <value>: <the first problem pydantic found>` (one line)."""
    first = exc.errors()[0]
    message = first["msg"].removeprefix("Value error, ")
    if isinstance(value, bool) and first["type"] in ("float_type", "int_type"):
        message = f"{message}, not a boolean"
    return f"tune.{key}[{index}] = {value!r}: {message}"


@dataclass(frozen=True)
class ModelKind:
    """One registry entry: a kind's config section and the module of its code.

    `module` (a dotted module name) defines `build(cfg, task=, seed=)` -> an unfitted estimator
    with the scikit-learn API (fit returns self; predict, predict_proba, classes_ over a
    DataFrame with `text`, and `target`, `target_spans` for stance), `save(model, folder)` and
    `load(folder)` (formats that run no code when read), and optionally `check(cfg)`: checks
    the model library makes of a section (raises ValueError) or of the machine (pretrained
    files, device, precision, caches: raises StanceError naming `model.<key>`), run on the
    section and each tune-grid point before a run folder exists. The grid's points are
    validated against the section's schema whether or not the kind has a check.
    """

    schema: type[ModelSection]
    module: str
    # train fits one model per point of the section's `tune` grid and keeps the best on the
    # validation split; False: the kind has no grid or tunes itself inside fit (setfit's head).
    grid_search: bool = True
    # fit takes eval_set (the validation split: best epoch, early stopping), work_dir
    # (checkpoints to resume from), progress (a callback for one-line messages) and metric.
    fit_on_validation: bool = False

    @property
    def name(self) -> str:
        """The kind's name: the default of its section's `kind` field."""
        return kind_name(self.schema)


def kind_name(schema: type) -> str:
    """The `kind` a section class declares (`kind: Literal["x"] = "x"`); TypeError otherwise."""
    field: FieldInfo | None = getattr(schema, "model_fields", {}).get("kind")
    if not isinstance(schema, type) or not issubclass(schema, ModelSection) or field is None \
            or not isinstance(field.default, str):
        raise TypeError(f"{schema!r}: a kind's section must subclass ModelSection and declare "
                        "kind: Literal['name'] = 'name'")
    return field.default


# kind name -> entry, in registration order (the order the config's union lists the kinds).
MODEL_BUILDERS: dict[str, ModelKind] = {}
_LISTENERS: list[Callable[[], None]] = []


def register_kind(entry: ModelKind) -> ModelKind:
    """Add a kind (or replace the entry of that name) and rebuild every schema that lists kinds
    (stance.config's TrainConfig and ExperimentConfig). Returns `entry`. Raises TypeError for a
    section class that does not declare its kind."""
    MODEL_BUILDERS[entry.name] = entry
    _changed()
    return entry


def unregister_kind(name: str) -> None:
    """Remove a kind (a test's toy kind, say); KeyError if it is not registered."""
    del MODEL_BUILDERS[name]
    _changed()


def on_change(callback: Callable[[], None]) -> None:
    """Call `callback()` whenever a kind is registered or removed (the config rebuilds its union)."""
    _LISTENERS.append(callback)


def _changed() -> None:
    for callback in _LISTENERS:
        callback()


def model_sections() -> tuple[type[ModelSection], ...]:
    """The section class of every registered kind, in registration order."""
    return tuple(entry.schema for entry in MODEL_BUILDERS.values())


class ModelConfig:
    """Type of a `model:` section: the section of the kind its `kind` names, over the kinds
    registered when the enclosing schema is built (pydantic's discriminated union, so an
    unknown kind is an error that lists the known ones, and a wrong key is reported at
    `model.<key>`). Use as a field type or in TypeAdapter(ModelConfig)."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        from typing import Annotated

        sections = model_sections()
        if not sections:
            raise TypeError("no model kind is registered")
        return handler(Annotated[Union[sections], Field(discriminator="kind")])


# ---------------------------------------------------------------- the kinds of this package

# The TF-IDF kind's classifiers, named here so that loading a config imports no model code;
# stance.models.tfidf.CLASSIFIERS builds them and refuses to import if the two lists differ.
TFIDF_CLASSIFIERS = ("logreg", "linear_svm", "sgd_log")
TUNABLE_TFIDF = ("C", "word_ngrams", "char_ngrams", "min_df", "max_features", "sublinear_tf")


class TfidfModel(ModelSection):
    """Word and character n-gram TF-IDF features into a linear classifier (stance.models.tfidf)."""

    tunable: ClassVar[tuple[str, ...] | None] = TUNABLE_TFIDF
    stance_only: ClassVar[tuple[str, ...]] = ("context_window",)
    kind: Literal["tfidf"] = "tfidf"
    features: Literal["word", "char", "word+char"] = "word+char"
    word_ngrams: NgramRange = (1, 2)
    char_ngrams: NgramRange = (2, 5)
    min_df: int = Field(1, ge=1)
    max_features: int | None = Field(None, ge=1)
    sublinear_tf: bool = True
    lowercase: bool = True
    classifier: str = "logreg"
    C: float = Field(1.0, gt=0)
    class_weight: Literal["balanced"] | None = "balanced"
    max_iter: int = Field(2000, ge=10)
    # Stance only: tokens either side of each target mention that get their own features.
    context_window: int = Field(6, ge=0)
    # Grid of values to try, selected by macro-F1 on the validation split.
    tune: dict[str, list[Any]] = Field(default_factory=dict)

    def describe(self) -> str:
        return f"TF-IDF ({self.classifier}, {self.features} n-grams)"

    @field_validator("classifier")
    @classmethod
    def _known_classifier(cls, name: str) -> str:
        if name not in TFIDF_CLASSIFIERS:
            raise ValueError(f"unknown classifier {name!r}; choose one of {sorted(TFIDF_CLASSIFIERS)}")
        return name

    @model_validator(mode="after")
    def _ngrams_the_features_read(self, info: ValidationInfo) -> "TfidfModel":
        # An n-gram range the chosen features never read would be ignored silently. The default
        # is allowed anywhere: a run's saved config spells every field out.
        unread = UNREAD_NGRAMS.get(self.features)
        if unread and not is_saved_run(info) and getattr(self, unread) != type(self).model_fields[unread].default:
            raise ValueError(f"{unread} is not read with features: {self.features}; remove it, or use "
                             "features: word+char")
        return self

    @classmethod
    def untunable(cls, key: str, settings: dict[str, Any]) -> str | None:
        features = settings.get("features", cls.model_fields["features"].default)
        if key == UNREAD_NGRAMS.get(features):
            return (f"tune.{key} is not read with features: {features} (every grid point would be the same model); "
                    "remove it, or use features: word+char")
        return None


# The n-gram range each `features` setting leaves unread.
UNREAD_NGRAMS = {"word": "char_ngrams", "char": "word_ngrams"}


class TransformerModel(ModelSection):
    """A fine-tuned transformer encoder with a classification head (stance.models.transformer)."""

    kind: Literal["transformer"] = "transformer"
    # A short alias (see stance.models.pretrained.ALIASES) or a local folder with config.json.
    model: PathStr = "minilm"
    max_length: int = Field(256, ge=16, le=8192)
    # head: keep the start of a long paragraph; around_target: keep a window centred on the
    # stance target's mentions; auto: around_target for stance, head otherwise.
    truncation: Literal["auto", "head", "around_target"] = "auto"
    # Stance only: wrap the target's mentions in entity-marker tokens (<t> ... </t>, added to
    # the tokenizer and trained) at their offsets. Models saved before this option have none.
    target_markers: bool = True
    epochs: float = Field(6.0, gt=0)
    batch_size: int = Field(16, ge=1)
    eval_batch_size: int = Field(64, ge=1)
    grad_accum: int = Field(1, ge=1)
    learning_rate: float = Field(5e-5, gt=0)
    weight_decay: float = Field(0.01, ge=0)
    warmup_ratio: float = Field(0.1, ge=0, lt=1)
    scheduler: Literal["linear", "cosine", "constant_with_warmup"] = "linear"
    class_weight: Literal["balanced"] | None = "balanced"
    # Evaluations (once per epoch) without a better validation macro-F1 before stopping; null: never.
    early_stopping_patience: int | None = Field(2, ge=1)
    device: Literal["auto", "cpu", "cuda"] = "auto"
    # auto: bf16 on a GPU that has it, else fp16 on a GPU, fp32 on the CPU.
    precision: Literal["auto", "fp32", "fp16", "bf16"] = "auto"

    def describe(self) -> str:
        return f"fine-tuned transformer `{self.model}` (max {self.max_length} tokens, truncation {self.truncation})"


class _SentenceEncoderModel(ModelSection):
    """What the two few-shot kinds share: a sentence encoder, its inputs and a logreg head."""

    # The head's C only: the grid never refits (or re-encodes with) another encoder.
    tunable: ClassVar[tuple[str, ...] | None] = ("C",)
    # A short alias (see stance.models.pretrained.ALIASES) or a local folder with config.json.
    model: PathStr = "minilm"
    max_length: int = Field(128, ge=16, le=8192)
    # Stance only: the actor as the first segment ("Russia [SEP] paragraph"), its mentions
    # marked in the paragraph with plain-text markers (<< Russia >>), or both.
    target_input: Literal["first_segment", "marked", "both"] = "both"
    # head: keep the start of a long paragraph; around_target: a window centred on the
    # stance target's mentions; auto: around_target for stance, head otherwise.
    truncation: Literal["auto", "head", "around_target"] = "auto"
    # Head: logistic regression on the sentence vectors.
    C: float = Field(1.0, gt=0)
    class_weight: Literal["balanced"] | None = "balanced"
    max_iter: int = Field(2000, ge=10)
    device: Literal["auto", "cpu", "cuda"] = "auto"
    # Values of the head's C to try, selected by macro-F1 on the validation split.
    tune: dict[str, list[Any]] = Field(default_factory=dict)


class EmbeddingsModel(_SentenceEncoderModel):
    """A frozen sentence encoder and a logistic-regression head (stance.models.embeddings)."""

    kind: Literal["embeddings"] = "embeddings"
    normalize: bool = True
    batch_size: int = Field(64, ge=1)
    # Keep sentence vectors on disk ($STANCE_CACHE/embeddings), keyed by encoder and input.
    cache: bool = True

    def describe(self) -> str:
        return f"frozen sentence encoder `{self.model}` + logistic regression (max {self.max_length} tokens)"


class SetFitModelConfig(_SentenceEncoderModel):
    """SetFit: contrastive fine-tuning of the encoder, then the head (stance.models.setfit_kind)."""

    kind: Literal["setfit"] = "setfit"
    # Pairs per training example and epoch: 2 x num_iterations (half same-class, half not).
    num_iterations: int = Field(20, ge=1)
    # Cap on contrastive steps (batches of pairs); null: as many as num_iterations make.
    max_steps: int | None = Field(None, ge=1)
    epochs: int = Field(1, ge=1)
    batch_size: int = Field(16, ge=2)
    eval_batch_size: int = Field(64, ge=1)
    body_learning_rate: float = Field(2e-5, gt=0)
    warmup_ratio: float = Field(0.1, ge=0, lt=1)
    # oversampling: as many same-class as different-class pairs (balanced pairs); undersampling
    # or unique: the pairs as they come.
    sampling_strategy: Literal["oversampling", "undersampling", "unique"] = "oversampling"
    normalize: bool = False

    def describe(self) -> str:
        return (f"SetFit on `{self.model}` (max {self.max_length} tokens, "
                f"{self.num_iterations} pair iterations)")


register_kind(ModelKind(TfidfModel, "stance.models.tfidf"))
register_kind(ModelKind(TransformerModel, "stance.models.transformer", grid_search=False, fit_on_validation=True))
register_kind(ModelKind(EmbeddingsModel, "stance.models.embeddings"))
register_kind(ModelKind(SetFitModelConfig, "stance.models.setfit_kind", grid_search=False, fit_on_validation=True))
