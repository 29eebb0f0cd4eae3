"""Atomic writes and checked reads.

Writes: a reader (or a crash) never sees a half-written file: everything is written under a
temporary name beside its target and renamed into place, and a full disk or a read-only
folder is a one-line error naming the file (StanceError), with the temporary file removed.

Reads: a missing, truncated or garbled file we wrote earlier is a one-line error naming it.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from stance.errors import StanceError

# Errors that are the machine's state, not a bug: say so in one line.
DISK_ERRORS = {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT, errno.ENOTDIR, errno.EFBIG,
               errno.ENAMETOOLONG, errno.EIO}


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_error(path: str | Path, exc: OSError) -> StanceError:
    reason = exc.strerror or str(exc)
    hint = {errno.ENOSPC: " (the disk is full)", errno.EDQUOT: " (over the disk quota)",
            errno.EROFS: " (the folder is read-only)", errno.EACCES: " (no permission to write there)"}
    return StanceError(f"{path}: cannot write: {reason}{hint.get(exc.errno, '')}")


def make_dirs(path: str | Path) -> Path:
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        if exc.errno in DISK_ERRORS or isinstance(exc, FileExistsError):
            raise write_error(path, exc) from None
        raise
    return path


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it into place only if the block succeeds."""
    path = Path(path)
    make_dirs(path.parent)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        if exc.errno in DISK_ERRORS:
            raise write_error(path, exc) from None
        raise
    os.close(fd)
    # mkstemp makes the file private (0600); give it the mode a plain open() would.
    os.chmod(tmp, 0o666 & ~_umask())
    tmp_path = Path(tmp)
    try:
        try:
            yield tmp_path
            os.replace(tmp_path, path)
        except OSError as exc:
            if exc.errno in DISK_ERRORS:
                raise write_error(path, exc) from None
            raise
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


@contextmanager
def atomic_folder(path: str | Path) -> Iterator[Path]:
    """Yield a temporary folder beside `path`; it replaces `path` only if the block succeeds.

    For outputs that are several files (a saved model): a crash leaves either the complete
    folder or none. An existing `path` is replaced (callers only replace their own unfinished work).
    """
    path = Path(path)
    make_dirs(path.parent)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    except OSError as exc:
        if exc.errno in DISK_ERRORS:
            raise write_error(path, exc) from None
        raise
    os.chmod(tmp, 0o777 & ~_umask())
    try:
        try:
            yield tmp
            if path.exists():
                shutil.rmtree(path)
            os.rename(tmp, path)
        except OSError as exc:
            if exc.errno in DISK_ERRORS:
                raise write_error(path, exc) from None
            raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(path: str | Path, data: Any) -> None:
    write_text(path, json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False, default=str) + "\n")


def write_parquet(path: str | Path, frame) -> None:
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False)


def write_csv(path: str | Path, frame) -> None:
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)


def sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_json(path: str | Path, what: str = "file") -> Any:
    """A JSON file we wrote; missing, truncated or not JSON -> StanceError naming it."""
    path = Path(path)
    if not path.is_file():
        raise StanceError(f"{path}: {what} is missing")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise StanceError(f"{path}: {what} is damaged (truncated or not JSON: {str(exc).splitlines()[0]})") from None
    except OSError as exc:
        raise StanceError(f"{path}: cannot read {what}: {exc.strerror or exc}") from None


def read_parquet(path: str | Path, what: str = "table", **kwargs: Any):
    """A Parquet file (or folder of parts) we wrote; missing or damaged -> StanceError naming it."""
    import pandas as pd
    import pyarrow as pa

    path = Path(path)
    if not path.exists():
        raise StanceError(f"{path}: {what} is missing")
    try:
        return pd.read_parquet(path, **kwargs)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise StanceError(f"{path}: {what} is damaged (not a readable Parquet file: "
                          f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None
