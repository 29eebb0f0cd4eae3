"""Typed configuration: one pydantic model per section, unknown keys are errors.

A config file is merged over `stance/defaults.yaml` section by section, overridden by
`--set key=value` pairs, validated once, and then saved into the run directory. The run id
is derived from the hash of that resolved config.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator

from stance.errors import StanceError
# The kinds' sections are the registry's (stance.models.kinds); their names stay importable from here.
from stance.models.kinds import (MODEL_BUILDERS, EmbeddingsModel, ModelConfig, SetFitModelConfig,  # noqa: F401
                                 TfidfModel, TransformerModel, on_change, is_saved_run, unread_for_task)
from stance.sections import PathStr, Strict

TASKS = ("framing", "sentiment", "stance")
BUILTIN_EXAMPLE = "builtin:example"


# numpy's and scikit-learn's seeds are unsigned 32-bit integers.
Seed = Annotated[int, Field(ge=0, le=2**32 - 1)]


class LabelSchema(Strict):
    actors: dict[str, list[str]]
    # Phrases that contain an alias but are not the actor ("Latin America" is not the US).
    actor_ignore: list[str] = Field(default_factory=list)
    # Also match aliases (and ignored phrases) written in capitals: all-caps headlines.
    match_all_caps: bool = False
    stance_classes: list[str]
    framing_classes: list[str]
    sentiment_classes: list[str]

    @field_validator("actors")
    @classmethod
    def _actors_have_aliases(cls, actors: dict[str, list[str]]) -> dict[str, list[str]]:
        for name, aliases in actors.items():
            if not aliases:
                raise ValueError(f"actor {name!r} has no aliases")
        return actors

    @field_validator("stance_classes", "framing_classes", "sentiment_classes")
    @classmethod
    def _classes_unique(cls, classes: list[str]) -> list[str]:
        if len(classes) < 2:
            raise ValueError("needs at least two classes")
        if len(set(classes)) != len(classes):
            raise ValueError(f"classes repeat: {classes}")
        return classes

    def classes_for(self, task: str) -> list[str]:
        return {"framing": self.framing_classes, "sentiment": self.sentiment_classes,
                "stance": self.stance_classes}[task]


class DedupConfig(Strict):
    shingle_words: int = Field(5, ge=1)
    num_perm: int = Field(128, ge=16)
    candidate_jaccard: float = Field(0.4, gt=0, le=1)
    min_containment: float = Field(0.8, gt=0, le=1)
    min_shingles: int = Field(8, ge=1)
    story_min_shared: float = Field(0.3, gt=0, le=1)
    # Paragraphs with the same words (case, punctuation and a leading dateline aside) are copies
    # whatever their length, from this many words up (shorter lines are too generic).
    exact_min_words: int = Field(6, ge=1)


class CorpusConfig(Strict):
    boilerplate: list[str]
    inline_boilerplate: list[str] = Field(default_factory=list)
    tail_boilerplate: list[str] = Field(default_factory=list)
    stop_markers: list[str]
    related_markers: list[str]
    metadata_patterns: list[str]
    item_marker: str
    item_time: str
    dayfirst: bool = True
    heading_max_words: int = Field(12, ge=1)
    min_paragraph_words: int = Field(4, ge=1)
    chunk_above_chars: int = Field(1500, ge=100)
    chunk_target_chars: int = Field(700, ge=50)
    dedup: DedupConfig = DedupConfig()

    @field_validator("boilerplate", "inline_boilerplate", "tail_boilerplate", "stop_markers",
                     "related_markers", "metadata_patterns")
    @classmethod
    def _regexes_compile(cls, patterns: list[str]) -> list[str]:
        for i, pattern in enumerate(patterns):
            _check_regex(pattern, f"item {i}")
        return patterns

    @field_validator("item_marker", "item_time")
    @classmethod
    def _regex_compiles(cls, pattern: str) -> str:
        _check_regex(pattern, "pattern")
        return pattern


def _check_regex(pattern: str, where: str) -> None:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"{where} is not a valid regular expression ({exc}): {pattern!r}") from None


class ColumnMap(Strict):
    """Which table column holds what. Only `text` is required to exist."""

    text: str = "text"
    doc_id: str | None = "doc_id"
    paragraph_id: str | None = "paragraph_id"
    outlet: str | None = "outlet"
    date: str | None = "date"
    title: str | None = "title"
    url: str | None = "url"
    # Target-dependent data (one row per text and target, e.g. NewsMTSC): the column with the
    # target mention as written, and its character offsets in the text (optional: without
    # them the first occurrence of the mention is used). The row's stance label is then one
    # class, not a mapping actor -> class, and the target need not be a schema actor.
    target: str | None = None
    target_start: str | None = None
    target_end: str | None = None


class LabelColumns(Strict):
    framing: str | None = "framing"
    sentiment: str | None = "sentiment"
    # A mapping actor -> stance class per row, e.g. {"Russia": "unfavourable"}.
    stance: str | None = "stance"
    # Raw label values -> schema classes, e.g. {"-1": unfavourable, "0": neutral, "1": favourable}.
    values: dict[str, str] = Field(default_factory=dict)


class OffsetConvention(Strict):
    """How a table's target offsets count: `end` exclusive (Python, NewsMTSC) or inclusive
    (the last character's index); `unit` characters (code points) or UTF-16 code units (what
    JavaScript tools such as Label Studio write; an emoji counts two)."""

    end: Literal["exclusive", "inclusive"] = "exclusive"
    unit: Literal["chars", "utf16"] = "chars"


class TargetPair(Strict):
    """One (target, label) column pair of a wide table, e.g. `Target 1` / `Stance 1`."""

    target: str
    label: str
    start: str | None = None
    end: str | None = None

    @model_validator(mode="after")
    def _both_offsets(self) -> "TargetPair":
        if (self.start is None) != (self.end is None):
            raise ValueError("give both start and end offset columns, or neither")
        return self


def _check_encoding(encoding: str) -> str:
    import codecs

    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ValueError(f"unknown text encoding {encoding!r} (e.g. utf-8, cp1252, latin-1, gbk)") from None
    return encoding


def visible(value: str) -> bool:
    """Whether a name holds a character one can see: not only whitespace and format characters
    (Unicode category Cf: zero-width space, soft hyphen, byte-order mark, directional marks),
    which ingest removes from text, so a name made of them names nothing. Called for every
    table cell ingest reads."""
    return any(not c.isspace() and unicodedata.category(c) != "Cf" for c in value)


class SourceLayout(Strict):
    """How the documents of one file of a folder of tables are read (stance.corpus.bodies)."""

    # The publisher named for every row of this file (overrides the outlet column), so that
    # several files of one publisher are one outlet.
    outlet: str | None = None
    # lines: a paragraph per line; blank_lines: blank-line blocks, single line breaks are hard
    # wraps; one_line: paragraph breaks lost, cut at speaker turns and into sentence windows;
    # joined: paragraphs joined with `joiner` after a sentence end.
    body: Literal["lines", "blank_lines", "one_line", "joined"] = "lines"
    # Only for body: joined; set on another layout it would be ignored, so that is an error.
    joiner: str = ", "
    # This file's text encoding (CSV/JSONL), when it differs from data.encoding: a folder that
    # mixes UTF-8 and GBK files, say. Taken as said, while a UTF-8 file read with a data.encoding
    # that is not UTF-8 is refused (stance.corpus.tables.check_not_utf8).
    encoding: str | None = None

    @field_validator("outlet")
    @classmethod
    def _visible_outlet(cls, outlet: str | None) -> str | None:
        if outlet is not None and not visible(outlet):
            raise ValueError(f"the outlet must be a name with a visible character, not {outlet!r} (or leave it "
                             "unset to use the outlet column)")
        return outlet.strip() if outlet is not None else None

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, encoding: str | None) -> str | None:
        return None if encoding is None else _check_encoding(encoding)

    @field_validator("joiner")
    @classmethod
    def _visible_joiner(cls, joiner: str) -> str:
        if not visible(joiner):
            raise ValueError(f"the joiner must hold a visible character, e.g. ', ', not {joiner!r}")
        return joiner

    @model_validator(mode="after")
    def _joiner_only_when_joined(self) -> "SourceLayout":
        # The default is allowed anywhere: a run's saved config spells every field out.
        if self.joiner != ", " and self.body != "joined":
            raise ValueError(f"joiner is read only with body: joined (this file's body is {self.body})")
        return self


class SpeakerRules(Strict):
    """Who speaks in a transcript: full-match regexes on the speaker label as the text gives it."""

    official: list[str] = Field(default_factory=list)
    reporter: list[str] = Field(default_factory=lambda: ["Q", "Question", "QUESTION"])

    @field_validator("official", "reporter")
    @classmethod
    def _compile(cls, patterns: list[str]) -> list[str]:
        for i, pattern in enumerate(patterns):
            if not visible(pattern):
                # Labels are matched in the normalised text, where format characters are gone.
                raise ValueError(f"item {i} must be a visible pattern, not {pattern!r}")
            _check_regex(pattern, f"item {i}")
        return patterns


class DataConfig(Strict):
    # A folder of raw pages, a CSV/JSONL/Parquet file, or builtin:example for the packaged corpus.
    path: PathStr = BUILTIN_EXAMPLE
    format: Literal["auto", "pages", "csv", "jsonl", "parquet"] = "auto"
    rows_are: Literal["paragraphs", "documents"] = "paragraphs"
    # CSV delimiter; null: a tab for .tsv, else the most frequent of , ; tab | in the header line.
    sep: str | None = None
    # Text encoding of CSV/JSONL tables (a UTF-8 byte-order mark is always dropped), e.g. cp1252, gbk.
    encoding: str = "utf-8"
    columns: ColumnMap = ColumnMap()
    labels: LabelColumns = LabelColumns()
    # Wide layout: several target/label column pairs per row (Tweet, Target 1, Stance 1, Target 2,
    # Stance 2); each non-empty target becomes one (paragraph, target) example. The labels land in
    # the column data.labels.stance names.
    targets: list[TargetPair] | None = None
    # Targets given without offsets: exact: the first exact occurrence; ignore_case: the first
    # case-insensitive one; none: the target need not be mentioned (found case-insensitively
    # where it is; otherwise the example has no mention span). A missing mention is an error
    # unless `none`.
    target_match: Literal["exact", "ignore_case", "none"] = "exact"
    offsets: OffsetConvention = OffsetConvention()
    # Stand-off labels (paragraph_id, text_sha1, framing, sentiment, stance) joined onto the
    # ingested paragraphs; builtin:seeds-gold is the packaged gold set for ../shared/seeds.
    annotations: PathStr | None = None
    # Data that comes already split: files under `path` (a folder) for train, val and test.
    # Use with split.method: files.
    split_files: dict[Literal["train", "val", "test"], PathStr] | None = None
    # Raw pages only: a CSV file -> outlet, date, url, title, wire that fills what a page does
    # not say (stance.corpus.metadata); builtin:seeds-metadata for ../shared/seeds.
    metadata: PathStr | None = None

    # A folder of tables (data.format csv/jsonl/parquet): how each file's documents are read,
    # keyed by the file's path under data.path, e.g. kremlin/news.jsonl: {outlet: ..., body: one_line}.
    sources: dict[str, SourceLayout] = Field(default_factory=dict)
    speakers: SpeakerRules = SpeakerRules()
    # Documents that agree on these fields are one story (e.g. [title, date]: one item published
    # in two files of a publisher): their paragraphs share a story cluster, and all but the first
    # copy (in file order) name it in `repeat_of`.
    same_story: list[Literal["title", "date", "url"]] = Field(default_factory=list)

    @field_validator("same_story")
    @classmethod
    def _distinct_keys(cls, keys: list[str]) -> list[str]:
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        if repeated:
            raise ValueError(f"{', '.join(repeated)} named more than once")
        return keys

    @field_validator("sep")
    @classmethod
    def _one_character(cls, sep: str | None) -> str | None:
        if sep is not None and len(sep) != 1:
            raise ValueError(f"the delimiter must be one character (a tab is '\\t'), got {sep!r}")
        return sep

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, encoding: str) -> str:
        return _check_encoding(encoding)

    @field_validator("targets")
    @classmethod
    def _pairs(cls, pairs: list[TargetPair] | None) -> list[TargetPair] | None:
        if pairs is not None and not pairs:
            raise ValueError("list at least one target/label column pair, or leave targets unset")
        return pairs

    @model_validator(mode="after")
    def _one_target_layout(self) -> "DataConfig":
        if self.targets and self.columns.target:
            raise ValueError("set data.columns.target (one target per row) or data.targets (several target/label "
                             "column pairs per row), not both")
        if (self.columns.target_start is None) != (self.columns.target_end is None):
            raise ValueError("data.columns.target_start and target_end go together: set both or neither")
        return self


class SplitConfig(Strict):
    # holdout: one seeded train/val/test split; kfold: every group is tested once per repeat;
    # time: train on the earliest groups, validate on later ones, test on the latest;
    # files: the split the data comes with (data.split_files).
    method: Literal["holdout", "kfold", "time", "files"] = "holdout"
    test_size: float = Field(0.2, gt=0, lt=1)
    # Share of all paragraphs held out of training for validation (model selection).
    val_size: float = Field(0.1, ge=0, lt=1)
    # Syndicated copies of one story share a cluster; grouping by it keeps them on one side.
    # outlet: test outlets are never seen in training.
    group_by: Literal["cluster", "doc", "paragraph", "outlet"] = "cluster"
    folds: int = Field(5, ge=2, le=100)
    repeats: int = Field(1, ge=1, le=100)
    # Train on this share of the training side (whole groups, nested: a smaller share is a
    # subset of a larger one); validation and test stay the same. For learning curves.
    train_fraction: float = Field(1.0, gt=0, le=1)

    @model_validator(mode="after")
    def _room_for_training(self) -> "SplitConfig":
        test = 1.0 / self.folds if self.method == "kfold" else self.test_size
        if test + self.val_size >= 0.9:
            raise ValueError("the test and validation shares leave under 10% of the data for training")
        if self.method != "kfold" and self.repeats > 1:
            raise ValueError("repeats needs method: kfold")
        return self


# SemEval-2016 Task 6's F_avg (Mohammad et al. 2016): the mean F1 of these two stance classes.
F_AVG_CLASSES = ("favourable", "unfavourable")


class EvaluationConfig(Strict):
    # The headline score, and the one that picks grid points and the best epoch on the
    # validation split: macro_f1 over all classes, or f_avg (stance only), the mean F1 of
    # favourable and unfavourable. Both are always reported, with intervals.
    metric: Literal["macro_f1", "f_avg"] = "macro_f1"


class TrainConfig(Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    task: Literal["framing", "sentiment", "stance"] = "framing"
    # Seeds the split, and the model unless `seeds` is given.
    seed: Seed = 13
    # Model seeds trained on the same split; results are reported per seed and as mean +- sd.
    seeds: list[Seed] = Field(default_factory=list)
    data: DataConfig = DataConfig()
    label_schema: LabelSchema = Field(alias="schema")
    corpus: CorpusConfig
    split: SplitConfig = SplitConfig()
    # The section of the kind `kind` names, validated by that kind's own schema (stance.models.kinds).
    model: ModelConfig = TfidfModel()
    evaluation: EvaluationConfig = EvaluationConfig()
    output_dir: PathStr = "experiments"

    @field_validator("evaluation")
    @classmethod
    def _metric_fits_task(cls, evaluation: EvaluationConfig, info: ValidationInfo) -> EvaluationConfig:
        if evaluation.metric == "f_avg":
            task, schema = info.data.get("task"), info.data.get("label_schema")
            if task != "stance":
                raise ValueError(f"metric f_avg is a stance score; task is {task}: use macro_f1")
            missing = [c for c in F_AVG_CLASSES if schema is not None and c not in schema.stance_classes]
            if missing:
                raise ValueError(f"metric f_avg needs the stance classes {list(F_AVG_CLASSES)}; "
                                 f"schema.stance_classes lacks {missing}")
        return evaluation

    @field_validator("model")
    @classmethod
    def _model_fits_task(cls, model: Any, info: ValidationInfo) -> Any:
        problem = (unread_for_task(model, info.data["task"])
                   if model is not None and "task" in info.data and not is_saved_run(info) else None)
        if problem:
            raise ValueError(problem)
        return model

    @model_validator(mode="before")
    @classmethod
    def _default_model_kind(cls, data: Any) -> Any:
        # `kind` picks the model's schema; a model section without one is a TF-IDF baseline.
        if isinstance(data, dict) and isinstance(data.get("model"), dict) and "kind" not in data["model"]:
            data = {**data, "model": {"kind": "tfidf", **data["model"]}}
        return data

    @field_validator("seeds")
    @classmethod
    def _distinct_seeds(cls, seeds: list[int]) -> list[int]:
        if len(set(seeds)) != len(seeds):
            raise ValueError("seeds must be distinct")
        return seeds

    def model_seeds(self) -> list[int]:
        return list(self.seeds) or [self.seed]

    def canonical(self) -> dict[str, Any]:
        """The resolved config as plain data, with the file's own key names."""
        return self.model_dump(mode="json", by_alias=True)

    def config_hash(self) -> str:
        # Where a run is written does not change the experiment, so it does not change the id.
        content = {k: v for k, v in self.canonical().items() if k != "output_dir"}
        if self.evaluation == EvaluationConfig():
            content.pop("evaluation")  # runs made before the section existed keep their ids
        blob = json.dumps(content, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class LearningCurveConfig(Strict):
    # Shares of the training side to train on; validation and test items never change.
    fractions: list[float] = Field(default_factory=lambda: [0.25, 0.5, 0.75, 1.0], min_length=2)

    @field_validator("fractions")
    @classmethod
    def _shares(cls, fractions: list[float]) -> list[float]:
        if any(not 0 < f <= 1 for f in fractions):
            raise ValueError("every fraction must be in (0, 1]")
        return sorted(set(fractions))


def _default_kinds(models: Any) -> Any:
    if isinstance(models, dict):
        return {name: ({"kind": "tfidf", **m} if isinstance(m, dict) and "kind" not in m else m)
                for name, m in models.items()}
    return models


class ExperimentConfig(TrainConfig):
    """Several models on the same data, task, split and seeds; each becomes one ordinary run."""

    model: None = None  # type: ignore[assignment]  # models are listed under `models`
    models: dict[str, ModelConfig] = Field(min_length=1)
    learning_curve: LearningCurveConfig | None = None

    @model_validator(mode="before")
    @classmethod
    def _default_model_kinds(cls, data: Any) -> Any:
        if isinstance(data, dict) and "models" in data:
            data = {**data, "models": _default_kinds(data["models"])}
        return data

    @field_validator("model", mode="before")
    @classmethod
    def _no_single_model(cls, model: Any) -> Any:
        if model is not None:
            raise ValueError("an experiment config lists its models under `models:`, one section per name "
                             "(--set models.<name>.<key>=...), not `model:`")
        return model

    @field_validator("models")
    @classmethod
    def _model_names(cls, models: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        for name, model in models.items():
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}", name):
                raise ValueError(f"model name {name!r}: use letters, digits, '_', '-' or '.'")
            problem = unread_for_task(model, info.data["task"]) if "task" in info.data and not is_saved_run(info) else None
            if problem:
                raise ValueError(f"{name}: {problem}")
        return models

    def runs(self, train_fraction: float | None = None) -> dict[str, TrainConfig]:
        """One TrainConfig per model, named <experiment>-<model>."""
        base = self.model_dump(mode="json", by_alias=True, exclude={"model", "models", "learning_curve"})
        out = {}
        for model_name, model in self.models.items():
            data = {**base, "name": f"{self.name}-{model_name}", "model": model.model_dump(mode="json")}
            if train_fraction is not None:
                data["split"] = {**data["split"], "train_fraction": train_fraction}
                data["name"] = f"{self.name}-{model_name}-lc{round(train_fraction * 100):03d}"
            out[model_name] = TrainConfig.model_validate(data)
        return out


def _rebuild_model_schemas() -> None:
    # A `model:` section is validated against the kinds registered when the schema was built;
    # registering a kind (stance.models.register_kind) rebuilds the two schemas that list them.
    TrainConfig.model_rebuild(force=True)
    ExperimentConfig.model_rebuild(force=True)


on_change(_rebuild_model_schemas)


# ---------------------------------------------------------------- loading


class ConfigYamlError(Exception):
    """A YAML construct a config may not use; `line` is 1-based, `key` the dotted path to it."""

    def __init__(self, line: int, key: str, message: str):
        super().__init__(message)
        self.line, self.key, self.message = line, key, message


class StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors and aliases as the parser meets them.

    An alias is a reference, so nine nested lists of nine aliases (the "billion laughs")
    compose in a few kilobytes and only blow up when the data is copied and validated;
    refusing the first `&anchor` or `*alias` event keeps memory bounded by the file's size.
    A config never needs them: repeating a value is clearer than a reference.
    """

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise ConfigYamlError(event.start_mark.line + 1, "", f"YAML alias *{event.anchor} is not allowed in a "
                                  "config; write the value out")
        if getattr(event, "anchor", None) is not None:
            raise ConfigYamlError(event.start_mark.line + 1, "", f"YAML anchor &{event.anchor} is not allowed in a "
                                  "config; write the value out where it is used")
        return super().compose_node(parent, index)


def check_keys(node: yaml.Node | None, path: str = "") -> None:
    """Refuse repeated keys at any depth (YAML's last-one-wins would drop the first silently),
    merge keys (`<<`) and keys that are not plain scalars."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                raise ConfigYamlError(line, path, "a key must be a plain name, not a list or mapping")
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise ConfigYamlError(line, path, "YAML merge keys (<<) are not allowed in a config")
            key = key_node.value
            dotted = f"{path}.{key}" if path else key
            if key in seen:
                raise ConfigYamlError(line, dotted, f"duplicate key (first at line {seen[key]})")
            seen[key] = line
            check_keys(value_node, dotted)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            check_keys(item, f"{path}[{i}]")


def parse_yaml(text: str) -> tuple[Any, yaml.Node | None]:
    """Parse one YAML document strictly; return the data and its node tree (for line numbers).

    Raises ConfigYamlError (aliases, anchors, repeated keys) or yaml.YAMLError (syntax).
    """
    loader = StrictLoader(text)
    try:
        node = loader.get_single_node()
        check_keys(node)
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    return data, node


def package_defaults() -> dict[str, Any]:
    text = resources.files("stance").joinpath("defaults.yaml").read_text(encoding="utf-8")
    return parse_yaml(text)[0]


def merge_sections(defaults: dict[str, Any], user: dict[str, Any]) -> dict[str, Any]:
    """Overlay `user` on `defaults` one level deep: a section's fields replace the defaults'."""
    merged = {key: (dict(value) if isinstance(value, dict) else value) for key, value in defaults.items()}
    for key, value in user.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def read_yaml(path: Path) -> tuple[dict[str, Any], yaml.Node | None]:
    """Parse a YAML mapping; return it and its node tree (for line numbers in errors)."""
    if "\x00" in str(path):
        raise StanceError(f"{str(path)!r}: a file name cannot contain a NUL character")
    if not path.exists():
        raise StanceError(f"{path}: config file not found")
    if path.is_dir():
        raise StanceError(f"{path}: is a folder, expected a YAML config file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise StanceError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise StanceError(f"{path}: cannot read the config ({exc.strerror or exc})") from None
    try:
        data, node = parse_yaml(text)
    except ConfigYamlError as exc:
        raise StanceError(f"{path}:{exc.line}: {exc.key + ': ' if exc.key else ''}{exc.message}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise StanceError(f"{where}: malformed YAML: {problem}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise StanceError(f"{path}: expected a mapping of config sections, got {type(data).__name__}")
    return data, node


def line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the deepest key along `loc` that exists in the YAML node tree."""
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == str(part):
                    line = key_node.start_mark.line + 1
                    node = value_node
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def split_key(key: str) -> list[tuple[str, bool]]:
    """The parts of a dotted --set key, each with whether it was quoted: `data.sources."a.jsonl".outlet`
    -> [(data, False), (sources, False), (a.jsonl, True), (outlet, False)]. Raises StanceError
    for an unclosed quote."""
    parts: list[tuple[str, bool]] = []
    current, quoted, quote = "", False, ""
    for char in key:
        if quote:
            if char == quote:
                quote = ""
            else:
                current += char
        elif char in "\"'" and not current:
            quote, quoted = char, True
        elif char == ".":
            parts.append((current, quoted))
            current, quoted = "", False
        else:
            current += char
    if quote:
        raise StanceError(f"--set {key}: the quote {quote} is not closed")
    parts.append((current, quoted))
    return parts


def _field_type(schema: Any, name: str) -> tuple[bool, Any]:
    """(whether `name` is a field of `schema`, the field's type) for a section class or the
    `model:` union (ModelConfig: a field of any kind)."""
    from typing import Union, get_args, get_origin

    sections = [entry.schema for entry in MODEL_BUILDERS.values()] if schema is ModelConfig else [schema]
    for section in sections:
        if not (isinstance(section, type) and issubclass(section, Strict)):
            continue
        for field_name, info in section.model_fields.items():
            if name in (field_name, info.alias):
                kind = info.annotation
                if get_origin(kind) is Union:  # X | None
                    kind = next((arg for arg in get_args(kind) if arg is not type(None)), kind)
                return True, kind
    return False, None


def resolve_key(key: str, schema: Any = None) -> list[str]:
    """The path of a --set key in the config's data. Dots separate parts, except inside quotes
    and inside a mapping's key (a file name under data.sources, a model's name under models):
    there the key runs up to the first part that is a field of the entry's section, so
    `data.sources.one.jsonl.outlet` is sources -> "one.jsonl" -> outlet."""
    from typing import get_args, get_origin

    parts = split_key(key)
    path: list[str] = []
    kind: Any = schema if schema is not None else TrainConfig
    i = 0
    while i < len(parts):
        part, quoted = parts[i]
        i += 1
        if not part and not quoted:
            continue  # `model..C` is model.C
        path.append(part)
        known, kind = _field_type(kind, part) if kind is not None else (False, None)
        if not known:
            kind = None
            continue
        if get_origin(kind) is dict and i < len(parts):
            value = get_args(kind)[1]
            is_section = value is ModelConfig or (isinstance(value, type) and issubclass(value, Strict))
            end = len(parts)
            if parts[i][1]:  # a quoted key is taken as written
                end = i + 1
            elif is_section:
                end = next((j for j in range(i + 1, len(parts)) if _field_type(value, parts[j][0])[0]), len(parts))
            path.append(".".join(p for p, _ in parts[i:end]))
            i, kind = end, (value if is_section else None)
    return path


def parse_override(item: str, schema: Any = None) -> tuple[list[str], Any]:
    if "=" not in item:
        raise StanceError(f"--set {item!r}: expected key=value, e.g. --set model.C=0.5")
    key, raw = item.split("=", 1)
    path = resolve_key(key.strip(), schema)
    if not path:
        raise StanceError(f"--set {item!r}: empty key")
    if not raw.strip():
        return path, ""
    try:
        value, _ = parse_yaml(raw)
    except ConfigYamlError as exc:
        raise StanceError(f"--set {key.strip()}: {key.strip()}: {exc.message}") from None
    except yaml.YAMLError:
        value = raw  # not YAML: the text itself (a value with a colon, an unbalanced quote)
    return path, value


def apply_overrides(data: dict[str, Any], overrides: list[str], schema: Any = None) -> dict[str, Any]:
    """`data` with each `key=value` of `overrides` set (a dotted key, see resolve_key; `schema`,
    TrainConfig by default, tells where a mapping's key may hold dots)."""
    for item in overrides:
        path, value = parse_override(item, schema)
        target = data
        for part in path[:-1]:
            child = target.get(part)
            if child is None:
                child = target[part] = {}
            if not isinstance(child, dict):
                raise StanceError(f"--set {item!r}: {part!r} is not a section")
            target = child
        target[path[-1]] = value
    return data


def _kind_hints(errors: list[dict[str, Any]], data: dict[str, Any] | None) -> dict[tuple[Any, ...], str]:
    """For each model section written without `kind` (so it is a TF-IDF section) whose unknown
    keys are all fields of another kind: its location -> a message that says so."""
    if not isinstance(data, dict):
        return {}
    unknown: dict[tuple[Any, ...], list[str]] = {}
    for err in errors:
        loc = err["loc"]
        section = loc[:2] if loc[:1] == ("model",) else loc[:3] if loc[:1] == ("models",) else None
        if err["type"] == "extra_forbidden" and section and section[-1] == "tfidf" and len(loc) == len(section) + 1:
            unknown.setdefault(section[:-1], []).append(str(loc[-1]))
    hints = {}
    for where, keys in unknown.items():
        raw = data
        for part in where:
            raw = raw.get(part) if isinstance(raw, dict) else None
        if not isinstance(raw, dict) or "kind" in raw:
            continue
        matching = [name for name, entry in MODEL_BUILDERS.items()
                    if name != "tfidf" and set(raw) <= set(entry.schema.model_fields)]
        if matching:
            dotted = ".".join(map(str, where))
            hints[where] = (f"{dotted}.kind is not set, so it is tfidf, which has no {', '.join(keys)}; did you mean "
                            f"kind: {' or kind: '.join(matching)}?")
    return hints


def format_validation_error(exc: ValidationError, source: str, node: yaml.Node | None,
                            overrides: list[str], data: dict[str, Any] | None = None) -> str:
    """One line for all of pydantic's problems: `<file>:<line>: <dotted key>: <message>` (or
    `--set <key>: ...` for an override), joined by '; '. `data`, the config as validated
    (before pydantic's defaults), lets a model section without `kind` hint at the kind its keys fit."""
    problems = []
    # In the order given (a set would name a different override from one run to the next).
    override_keys = list(dict.fromkeys(".".join(part for part, _ in split_key(item.split("=", 1)[0].strip()))
                                       for item in overrides))
    hints = _kind_hints(exc.errors(), data)

    def place(loc: tuple[Any, ...]) -> str:
        # The --set that wrote the key (or a key under it), else the file and line.
        dotted = ".".join(str(part) for part in loc)
        named = sorted((k for k in override_keys if k == dotted or k.startswith(dotted + ".") or dotted.startswith(k + ".")),
                       key=lambda k: k != dotted)  # the override of the key itself first
        if named:
            return f"--set {named[0]}"
        line = line_of(node, loc)
        return f"{source}:{line}" if line else source

    for err in exc.errors():
        hinted = next((where for where in hints if err["loc"][:len(where)] == where and err["type"] == "extra_forbidden"), None)
        if hinted is not None:
            if hints[hinted]:
                problems.append(f"{place(hinted)}: {hints[hinted]}")
                hints[hinted] = ""  # once per section
            continue
        # pydantic puts the union's tag into the path (model.tfidf.C); the file has model.C.
        raw = err["loc"]
        loc = tuple(part for i, part in enumerate(raw)
                    if not (part in MODEL_BUILDERS and ((i > 0 and raw[i - 1] == "model")
                                                     or (i > 1 and raw[i - 2] == "models"))))
        dotted = ".".join(str(part) for part in loc) or "(top level)"
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown key"
        elif err["type"] == "missing":
            message = "required key is missing"
        elif isinstance(err.get("input"), bool) and err["type"] in ("float_type", "int_type"):
            message += f", not a boolean ({str(err['input']).lower()})"
        problems.append(f"{place(loc)}: {dotted}: {message}")
    return "; ".join(problems)


def load_config(path: str | Path, overrides: list[str] | None = None, saved_run: bool = False) -> TrainConfig:
    """The config at `path` with `overrides` (--set key=value); StanceError naming file, line and
    key. `saved_run`: the config.yaml of a finished run, whose settings the chosen layout ignores
    (word_ngrams with features: char, ...) are still accepted, as they were when it was made."""
    return _load(TrainConfig, path, overrides, saved_run)


def load_experiment(path: str | Path, overrides: list[str] | None = None) -> ExperimentConfig:
    return _load(ExperimentConfig, path, overrides)


def is_experiment_file(path: str | Path) -> bool:
    """An experiment config lists `models:`; a run config has one `model:`."""
    data, _ = read_yaml(Path(path))
    return "models" in data


def _load(kind: type, path: str | Path, overrides: list[str] | None, saved_run: bool = False) -> Any:
    path = Path(path)
    overrides = list(overrides or [])
    user, node = read_yaml(path)
    if kind is TrainConfig:
        refuse_experiment(user, str(path))
    data = apply_overrides(merge_sections(package_defaults(), user), overrides, kind)
    try:
        return kind.model_validate(data, context={"saved_run": saved_run})
    except ValidationError as exc:
        raise StanceError(format_validation_error(exc, str(path), node, overrides, data)) from None


def refuse_experiment(data: dict[str, Any], source: str) -> None:
    """A StanceError where a run's config is expected and `data` is an experiment config (it
    lists `models:`), saying what to pass instead."""
    if isinstance(data, dict) and "models" in data and "model" not in data:
        name = data.get("name", "<name>")
        out = data.get("output_dir", "experiments")
        raise StanceError(f"{source}: an experiment config (it lists models:), not the config of one run: train and "
                          f"compare its models with `stance compare {source}`; to predict or evaluate, pass one of its "
                          f"runs ({out}/{name}-<model>-<hash>) or a config with one model: section")


def config_from_dict(data: dict[str, Any], source: str = "<config>") -> TrainConfig:
    """Validate a config given as a dict (tests, notebooks), with the same defaults."""
    refuse_experiment(data, source)
    merged = merge_sections(package_defaults(), data)
    try:
        return TrainConfig.model_validate(merged)
    except ValidationError as exc:
        raise StanceError(format_validation_error(exc, source, None, [], merged)) from None


def corpus_defaults() -> tuple[CorpusConfig, LabelSchema]:
    defaults = package_defaults()
    return CorpusConfig.model_validate(defaults["corpus"]), LabelSchema.model_validate(defaults["schema"])
