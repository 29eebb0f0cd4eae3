"""CSV / JSONL / Parquet tables with a text column and metadata columns."""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pandas as pd

from stance.config import ColumnMap
from stance.errors import StanceError

TABLE_SUFFIXES = {".csv": "csv", ".tsv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl",
                  ".json": "jsonl", ".parquet": "parquet", ".pq": "parquet"}


def table_format(path: Path, declared: str) -> str:
    if declared != "auto":
        return declared
    fmt = TABLE_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise StanceError(f"{path}: cannot tell the table format from the suffix {path.suffix!r}; "
                          f"set data.format to csv, jsonl or parquet")
    return fmt


def read_table(path: Path, fmt: str) -> pd.DataFrame:
    """Read a table keeping values as written (no type guessing on ids or dates)."""
    frame = _read_table(path, fmt)
    if frame.empty:
        raise StanceError(f"{path}: no paragraphs found: the table has no rows")
    return frame


@contextmanager
def _read_errors(path: Path, fmt: str) -> Iterator[None]:
    """A file that cannot be read becomes one clear error naming it, whole or in chunks."""
    try:
        yield
    except UnicodeDecodeError as exc:
        raise StanceError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except pd.errors.ParserError as exc:
        raise StanceError(f"{path}: cannot parse as {fmt}: {str(exc).splitlines()[0]}") from None
    except (OSError, ValueError) as exc:
        raise StanceError(f"{path}: cannot read as {fmt}: {str(exc).splitlines()[0]}") from None


def _csv_options(path: Path) -> dict:
    return {"dtype": str, "keep_default_na": False, "na_values": [""], "encoding": "utf-8",
            "sep": "\t" if path.suffix.lower() == ".tsv" else ","}


def _read_table(path: Path, fmt: str) -> pd.DataFrame:
    with _read_errors(path, fmt):
        if fmt == "csv":
            return pd.read_csv(path, **_csv_options(path))
        if fmt == "jsonl":
            return pd.DataFrame(list(_jsonl_rows(path)))
        return pd.read_parquet(path)


def _jsonl_rows(path: Path) -> Iterator[dict]:
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if line.strip():
                yield _jsonl_row(path, line_no, line)


def _jsonl_row(path: Path, line_no: int, line: str) -> dict:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise StanceError(f"{path}:{line_no}: invalid JSON: {exc.msg}") from None
    if not isinstance(row, dict):
        raise StanceError(f"{path}:{line_no}: expected a JSON object per line")
    row["__line__"] = line_no
    return row


def row_locator(frame: pd.DataFrame, index: int, offset: int = 0) -> str:
    """How to point a user at one row: the JSONL line, or the row number (`offset` rows came
    in earlier chunks)."""
    if "__line__" in frame.columns:
        return f"line {int(frame['__line__'].iloc[index])}"
    return f"row {offset + index + 1}"


def iter_table_chunks(path: Path, fmt: str, rows: int) -> Iterator[tuple[pd.DataFrame, int]]:
    """(chunk, rows before it): a table read `rows` rows at a time, so a corpus larger than
    memory can be ingested shard by shard."""
    offset = 0
    with _read_errors(path, fmt):
        if fmt == "parquet":
            import pyarrow.parquet as pq  # noqa: PLC0415

            chunks: Iterator[pd.DataFrame] = (b.to_pandas() for b in pq.ParquetFile(path).iter_batches(batch_size=rows))
        elif fmt == "csv":
            chunks = pd.read_csv(path, **_csv_options(path), chunksize=rows)
        else:
            chunks = _jsonl_chunks(path, rows)
        for chunk in chunks:
            yield chunk, offset
            offset += len(chunk)
    if offset == 0:
        raise StanceError(f"{path}: no paragraphs found: the table has no rows")


def _jsonl_chunks(path: Path, rows: int) -> Iterator[pd.DataFrame]:
    batch: list[dict] = []
    for row in _jsonl_rows(path):
        batch.append(row)
        if len(batch) == rows:
            yield pd.DataFrame(batch)
            batch = []
    if batch:
        yield pd.DataFrame(batch)


def check_columns(path: Path, frame: pd.DataFrame, columns: ColumnMap) -> None:
    available = [c for c in frame.columns if c != "__line__"]
    if columns.text not in frame.columns:
        raise StanceError(f"{path}: no text column {columns.text!r} (set data.columns.text); "
                          f"columns are {available}")
    for name in ("target", "target_start", "target_end"):
        column = getattr(columns, name)
        if column is not None and column not in frame.columns:
            raise StanceError(f"{path}: no {name} column {column!r} (data.columns.{name}); columns are {available}")
