"""A frozen sentence encoder with a scikit-learn head (`model.kind: embeddings`).

The encoder (MiniLM by default, see stance.models.pretrained) turns each input into one
vector; a logistic regression learns the classes from those vectors. The encoder never
changes, so its vectors are cached on disk per encoder and input string: a grid over the
head (`tune: {C: [...]}`), another seed or another learning-curve point re-encodes nothing
it has seen and costs seconds.

Inputs are built the way the fine-tuned transformer kind builds them, so one model serves
every actor in the stance task:

- framing and sentiment: the paragraph;
- stance: `first_segment` puts the actor first ("Russia [SEP] paragraph"), `marked` wraps
  each of its mentions in the paragraph in << >> at their offsets (every mention of a schema
  actor), `both` (the default) does both; a long paragraph is cut to a window centred on the
  marked mentions (truncation around_target) so they are never lost. The markers are plain
  text, not new special tokens as in the fine-tuned transformer kind: a frozen encoder
  cannot learn an embedding for a token it has never seen.

This module also holds what the SetFit kind (stance.models.setfit_kind) shares with it: the
input builder, the encoder loader and the head's safe file format (npz + JSON, never pickle).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from stance.errors import StanceError
from stance.models.pretrained import check_encoder

# Never reach for the Hub: encoders come from installed packages or local folders.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")

META_FILE = "embeddings_model.json"
HEAD_FILE = "head.npz"
MARK_OPEN, MARK_CLOSE = "<<", ">>"


def check(cfg: Any) -> None:
    """The registry's check (before a run folder exists): the encoder's files, the device asked
    for, and with `cache` a writable $STANCE_CACHE. Raises StanceError."""
    from stance.models.pretrained import usable_cache_dir
    from stance.models.transformer import pick_device

    check_encoder(cfg)
    pick_device(cfg.device)
    if cfg.cache:
        usable_cache_dir("embeddings")


# ------------------------------------------------------------------ inputs


def mark_mentions(text: str, spans: Any) -> tuple[str, list[tuple[int, int]]]:
    """`text` with each target mention wrapped in << >>, and the mentions' new offsets.

    Plain-text markers, not new special tokens: a frozen encoder cannot learn embeddings for
    tokens it never saw, and "<<" / ">>" are ordinary tokens of every vocabulary, so both few-label
    kinds (the frozen encoder, and SetFit, which keeps the encoder's vocabulary) see the same
    marked string. Overlapping spans keep the first; spans are [start, end) character offsets.
    """
    from stance.models.transformer import mark_mentions as mark

    return mark(text, spans, MARK_OPEN, MARK_CLOSE)


def build_inputs(X: pd.DataFrame, task: str, tokenizer: Any, max_length: int,
                 target_input: str = "both", truncation: str = "auto") -> list[str]:
    """One input string per row of X (columns `text`, and for stance `target`, `target_spans`).

    Lengths are in tokens of `tokenizer`; `max_length` counts the special tokens too.
    """
    from stance.models.transformer import widen, window_around_target

    texts = [str(t) for t in X["text"]]
    if task != "stance":
        return texts
    if truncation == "auto":
        truncation = "around_target"
    targets = [str(t) for t in X["target"]]
    spans = list(X["target_spans"]) if "target_spans" in X else [None] * len(X)
    sep = f" {tokenizer.sep_token} " if getattr(tokenizer, "sep_token", None) else " : "
    out = []
    for text, target, span in zip(texts, targets, spans):
        if target_input in ("marked", "both"):
            text, moved = mark_mentions(text, span)
            # The window is centred on the mentions with their markers, so none is cut off.
            span = widen(moved, len(MARK_OPEN) + 1, len(MARK_CLOSE) + 1)
        prefix = target_input in ("first_segment", "both")
        if truncation == "around_target":
            used = len(tokenizer.tokenize(target + sep)) if prefix else 0
            text = window_around_target(text, span, tokenizer, max(8, max_length - used - 2))
        out.append(f"{target}{sep}{text}" if prefix else text)
    return out


# ------------------------------------------------------------------ encoders


_FINGERPRINTS: dict[tuple[str, float], str] = {}


def encoder_fingerprint(folder: str | Path) -> str:
    """SHA-256 over the names and contents of every file in an encoder folder (hex)."""
    folder = Path(folder)
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    stamp = max((p.stat().st_mtime for p in files), default=0.0)
    key = (str(folder.resolve()), stamp)
    if key not in _FINGERPRINTS:
        digest = hashlib.sha256()
        for path in files:
            digest.update(str(path.relative_to(folder)).encode("utf-8") + b"\0")
            with path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
        _FINGERPRINTS[key] = digest.hexdigest()
    return _FINGERPRINTS[key]


def quiet_libraries() -> None:
    import logging

    import transformers

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    for name in ("sentence_transformers", "setfit"):
        logging.getLogger(name).setLevel(logging.ERROR)


def load_encoder(path: str | Path, max_length: int, device: str) -> Any:
    """A SentenceTransformer from a local folder; a plain Hugging Face encoder gets mean pooling."""
    from sentence_transformers import SentenceTransformer

    quiet_libraries()
    encoder = SentenceTransformer(str(path), device=device, local_files_only=True)
    encoder.max_seq_length = max_length
    return encoder


def encode(encoder: Any, inputs: list[str], batch_size: int, normalize: bool) -> np.ndarray:
    """float32 array (len(inputs), dimension)."""
    if not inputs:
        return np.zeros((0, encoder.get_sentence_embedding_dimension() or 0), dtype=np.float32)
    vectors = encoder.encode(inputs, batch_size=batch_size, normalize_embeddings=normalize,
                             convert_to_numpy=True, show_progress_bar=False)
    return np.asarray(vectors, dtype=np.float32)


class EmbeddingCache:
    """Vectors of one frozen encoder setting, on disk under `folder`, keyed by input string.

    Each write adds a new npz shard (keys, vectors) renamed into place, so processes that
    share the cache never see a half-written file and never overwrite each other.
    """

    def __init__(self, folder: Path):
        self.folder = folder
        self._vectors: dict[str, np.ndarray] = {}
        self._seen: set[str] = set()

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]

    def _refresh(self) -> None:
        if not self.folder.is_dir():
            return
        for shard in sorted(self.folder.glob("*.npz")):
            if shard.name in self._seen:
                continue
            with np.load(shard, allow_pickle=False) as data:
                self._vectors.update(zip(data["keys"].tolist(), data["vectors"]))
            self._seen.add(shard.name)

    def lookup(self, inputs: list[str]) -> tuple[list[str], dict[str, np.ndarray]]:
        self._refresh()
        keys = [self.key(t) for t in inputs]
        return keys, {k: self._vectors[k] for k in keys if k in self._vectors}

    def add(self, keys: list[str], vectors: np.ndarray) -> None:
        if not keys:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}.npz"
        tmp = self.folder / f".{name}.tmp"
        with tmp.open("wb") as handle:
            np.savez(handle, keys=np.array(keys), vectors=vectors.astype(np.float32))
        os.replace(tmp, self.folder / name)
        self._seen.add(name)
        self._vectors.update(zip(keys, vectors))


_CACHES: dict[Path, EmbeddingCache] = {}


def cache_for(setting: dict[str, Any]) -> EmbeddingCache:
    from stance.models.pretrained import cache_dir

    digest = hashlib.sha256(json.dumps(setting, sort_keys=True).encode("utf-8")).hexdigest()[:16]
    folder = cache_dir() / "embeddings" / digest
    if folder not in _CACHES:
        _CACHES[folder] = EmbeddingCache(folder)
    return _CACHES[folder]


# ------------------------------------------------------------------ heads


def logreg_head(C: float, class_weight: str | None, max_iter: int, seed: int) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, class_weight=class_weight, max_iter=max_iter, random_state=seed)


def save_head(head: Any, path: Path) -> None:
    """A fitted LogisticRegression as arrays (npz): no pickle, nothing runs on load."""
    np.savez(path, coef=head.coef_, intercept=head.intercept_, classes=np.asarray(head.classes_))


def load_head(path: Path, C: float = 1.0, max_iter: int = 100) -> Any:
    from sklearn.linear_model import LogisticRegression

    with np.load(path, allow_pickle=False) as data:
        head = LogisticRegression(C=C, max_iter=max_iter)
        head.coef_ = data["coef"]
        head.intercept_ = data["intercept"]
        head.classes_ = data["classes"]
    head.n_features_in_ = head.coef_.shape[1]
    return head


def macro_f1(gold: Any, predicted: Any) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(np.asarray(gold), np.asarray(predicted), average="macro", zero_division=0))


# ------------------------------------------------------------------ the model kind


class EmbeddingsClassifier:
    """fit / predict / predict_proba / classes_ over a DataFrame with text (and target) columns.

    Learned attributes: classes_ (class names), head_ (LogisticRegression over vectors of the
    encoder's dimension), encoder_path_, encoder_sha256_, fit_info_.
    """

    def __init__(self, cfg: Any, task: str, seed: int):
        self.cfg = cfg
        self.task = task
        self.seed = seed

    def _encoder(self) -> Any:
        if getattr(self, "encoder_", None) is None:
            from stance.models.transformer import pick_device

            self.encoder_ = load_encoder(self.encoder_path_, self.cfg.max_length, pick_device(self.cfg.device))
        return self.encoder_

    def _setting(self) -> dict[str, Any]:
        cfg = self.cfg
        return {"encoder_sha256": self.encoder_sha256_, "max_length": cfg.max_length, "normalize": cfg.normalize,
                "version": 1}

    def inputs(self, X: pd.DataFrame) -> list[str]:
        return build_inputs(X, self.task, self._encoder().tokenizer, self.cfg.max_length,
                            self.cfg.target_input, self.cfg.truncation)

    def vectors(self, X: pd.DataFrame) -> np.ndarray:
        """float32 (len(X), dimension); cached vectors are reused, new ones encoded and stored."""
        inputs = self.inputs(X)
        if not self.cfg.cache:
            return encode(self._encoder(), inputs, self.cfg.batch_size, self.cfg.normalize)
        cache = cache_for(self._setting())
        keys, found = cache.lookup(inputs)
        missing = list(dict.fromkeys(k for k in keys if k not in found))
        if missing:
            first = {k: i for i, k in reversed(list(enumerate(keys)))}
            fresh = encode(self._encoder(), [inputs[first[k]] for k in missing], self.cfg.batch_size,
                           self.cfg.normalize)
            cache.add(missing, fresh)
            found.update(zip(missing, fresh))
        self.cache_hits_ = len(keys) - len(missing)
        return np.stack([found[k] for k in keys]) if keys else np.zeros((0, 0), dtype=np.float32)

    def fit(self, X: pd.DataFrame, y: Any) -> "EmbeddingsClassifier":
        from stance.models.pretrained import resolve_model_path

        cfg = self.cfg
        self.encoder_path_ = str(resolve_model_path(cfg.model))
        self.encoder_sha256_ = encoder_fingerprint(self.encoder_path_)
        self.encoder_ = None
        started = time.perf_counter()
        features = self.vectors(X)
        encoded = time.perf_counter()
        y = np.asarray([str(v) for v in y])
        self.head_ = logreg_head(cfg.C, cfg.class_weight, cfg.max_iter, self.seed).fit(features, y)
        self.classes_ = np.asarray(self.head_.classes_)
        self.fit_info_ = {"base_model": self.encoder_path_, "encode_seconds": round(encoded - started, 3),
                          "head_seconds": round(time.perf_counter() - encoded, 3),
                          "cache_hits": int(getattr(self, "cache_hits_", 0)), "dimension": int(features.shape[1])}
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """float64 (len(X), len(classes_)), columns in the order of classes_."""
        if len(X) == 0:
            return np.zeros((0, len(self.classes_)))
        return self.head_.predict_proba(self.vectors(X)).astype(np.float64)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


def build(cfg: Any, task: str, seed: int) -> EmbeddingsClassifier:
    return EmbeddingsClassifier(cfg, task=task, seed=seed)


def save(model: EmbeddingsClassifier, folder: Path) -> None:
    """The head (npz) and a description (JSON); the frozen encoder is referenced by path and
    SHA-256, not copied: it is the installed pretrained model, identical for every fit."""
    folder.mkdir(parents=True, exist_ok=True)
    save_head(model.head_, folder / HEAD_FILE)
    meta = {"config": model.cfg.model_dump(mode="json"), "task": model.task, "seed": model.seed,
            "classes": [str(c) for c in model.classes_], "encoder_path": model.encoder_path_,
            "encoder_sha256": model.encoder_sha256_}
    (folder / META_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")


def load(folder: Path) -> EmbeddingsClassifier:
    from stance.models.kinds import EmbeddingsModel
    from stance.models.pretrained import resolve_model_path

    meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    cfg = EmbeddingsModel.model_validate(meta["config"])
    model = EmbeddingsClassifier(cfg, meta["task"], meta["seed"])
    # The alias is resolved again (the package may live elsewhere on this machine); the encoder
    # must be the one the head was trained on, byte for byte.
    path = resolve_model_path(cfg.model) if not Path(meta["encoder_path"]).is_dir() else Path(meta["encoder_path"])
    found = encoder_fingerprint(path)
    if found != meta["encoder_sha256"]:
        raise StanceError(f"{folder / META_FILE}: the encoder at {path} is not the one this model was trained on "
                          f"(SHA-256 {found[:12]}, expected {meta['encoder_sha256'][:12]}); install the same version")
    model.encoder_path_, model.encoder_sha256_, model.encoder_ = str(path), found, None
    model.head_ = load_head(folder / HEAD_FILE, cfg.C, cfg.max_iter)
    model.classes_ = np.asarray(model.head_.classes_)
    return model
