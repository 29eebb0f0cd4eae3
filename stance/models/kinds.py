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
from typing import Any, Callable, Literal, Union

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic.fields import FieldInfo

from stance.sections import NgramRange, PathStr, Strict


class ModelSection(Strict):
    """Base of every kind's `model:` section: a `kind: Literal["name"] = "name"` field picks the
    kind; unknown keys are errors. A section with a `tune` field (key -> list of values) gives
    the grid train searches; each point is validated like the section itself (grid_point)."""

    kind: str

    def describe(self) -> str:
        """One line naming the model for logs, tables and the model card (override per kind)."""
        return self.kind

    def grid_point(self, params: dict[str, Any]) -> "ModelSection":
        """This section with `params` (key -> value) from the tune grid.

        Raises ValidationError where the section would reject the values, as a config would.
        """
        return type(self).model_validate({**self.model_dump(), **params, "tune": {}})


@dataclass(frozen=True)
class ModelKind:
    """One registry entry: a kind's config section and the module of its code.

    `module` (a dotted module name) defines `build(cfg, task=, seed=)` -> an unfitted estimator
    with the scikit-learn API (fit returns self; predict, predict_proba, classes_ over a
    DataFrame with `text`, and `target`, `target_spans` for stance), `save(model, folder)` and
    `load(folder)` (formats that run no code when read), and optionally `check(cfg)`: checks
    the model library makes of a section (raises ValueError) or that pretrained files exist
    (raises StanceError), run on the section and each tune-grid point before a run folder exists.
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

    @field_validator("tune")
    @classmethod
    def _tunable(cls, grid: dict[str, list[Any]], info: ValidationInfo) -> dict[str, list[Any]]:
        base = dict(info.data)
        for key, values in grid.items():
            if key not in TUNABLE_TFIDF:
                raise ValueError(f"cannot tune {key!r}; tunable: {list(TUNABLE_TFIDF)}")
            if not values:
                raise ValueError(f"tune.{key} is empty")
            for i, value in enumerate(values):
                # Each grid point gets the validation the fitted model gets (grid_point).
                try:
                    cls.model_validate({**base, key: value})
                except ValidationError as exc:
                    first = exc.errors()[0]
                    raise ValueError(f"tune.{key}[{i}] = {value!r}: {first['msg'].removeprefix('Value error, ')}") from None
        return grid


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

    # A short alias (see stance.models.pretrained.ALIASES) or a local folder with config.json.
    model: str = "minilm"
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

    @field_validator("tune")
    @classmethod
    def _tunable(cls, grid: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for key, values in grid.items():
            if key != "C":
                raise ValueError(f"cannot tune {key!r}; tunable: ['C']")
            if not values or any(not isinstance(v, (int, float)) or v <= 0 for v in values):
                raise ValueError("tune.C needs positive numbers")
        return grid


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
