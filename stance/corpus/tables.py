"""CSV / JSONL / Parquet tables with a text column and metadata columns.

Spreadsheets come in many dialects: Excel writes a byte-order mark and, in many locales,
semicolons; RUW-style public files are GBK or cp1252. The delimiter is `data.sep` or read from
the header line, the encoding is `data.encoding`, and a BOM is dropped from any UTF-8 file.
"""

from __future__ import annotations

import codecs
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


def read_table(path: Path, fmt: str, sep: str | None = None, encoding: str = "utf-8") -> pd.DataFrame:
    """Read a table keeping values as written (no type guessing on ids or dates).

    `sep`: the CSV delimiter (None: a tab for .tsv, else read from the header line);
    `encoding`: the text encoding of CSV and JSONL files (a UTF-8 BOM is always dropped).
    """
    frame = _read_table(path, fmt, sep, encoding)
    if frame.empty:
        raise StanceError(f"{path}: no paragraphs found: the table has no rows")
    return frame


def text_encoding(encoding: str) -> str:
    """The codec to open a file with: UTF-8 becomes utf-8-sig, so an Excel BOM never reaches a
    column name (a BOM before `paragraph_id` makes that column look missing)."""
    return "utf-8-sig" if codecs.lookup(encoding).name == "utf-8" else encoding


def open_text(path: Path, encoding: str = "utf-8", newline: str | None = None):
    """Open a text file we read (tables, label sheets, stand-off files) with BOM handling."""
    return path.open(encoding=text_encoding(encoding), newline=newline)


def decode_error(path: Path, exc: UnicodeDecodeError, encoding: str = "utf-8") -> StanceError:
    name = codecs.lookup(encoding).name
    label = "UTF-8" if name == "utf-8" else encoding
    return StanceError(f"{path}: not {label} text (byte {exc.start}); if the file was saved in another encoding "
                       "(Excel: cp1252; Chinese data sets: gbk), set data.encoding")


@contextmanager
def _read_errors(path: Path, fmt: str, encoding: str = "utf-8", sep: str | None = None) -> Iterator[None]:
    """A file that cannot be read becomes one clear error naming it, whole or in chunks."""
    try:
        yield
    except UnicodeDecodeError as exc:
        raise decode_error(path, exc, encoding) from None
    except pd.errors.ParserError as exc:
        hint = ""
        if fmt == "csv":
            hint = (f" (read with delimiter {sep!r}; if the file uses another one, set data.sep, "
                    "e.g. ';' or '\\t')")
        raise StanceError(f"{path}: cannot parse as {fmt}: {str(exc).splitlines()[0]}{hint}") from None
    except (OSError, ValueError) as exc:
        raise StanceError(f"{path}: cannot read as {fmt}: {str(exc).splitlines()[0]}") from None


DELIMITERS = (",", ";", "\t", "|")


def sniff_delimiter(path: Path, encoding: str = "utf-8") -> str:
    """The delimiter of a CSV: the candidate found most often in its header line.

    Our own rule rather than csv.Sniffer: Sniffer guesses from a sample of rows and is thrown
    by the commas of ordinary prose in unquoted text cells (Excel quotes only cells that hold
    its own delimiter), while a header line of column names is unambiguous.
    """
    try:
        with open_text(path, encoding) as handle:
            header = handle.readline()
    except UnicodeDecodeError as exc:
        raise decode_error(path, exc, encoding) from None
    except OSError as exc:
        raise StanceError(f"{path}: cannot read: {exc.strerror}") from None
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])  # ties keep the earlier, more common one
    return best if counts[best] else ","


def csv_delimiter(path: Path, sep: str | None, encoding: str = "utf-8") -> str:
    if sep is not None:
        return sep
    if path.suffix.lower() == ".tsv":
        return "\t"
    return sniff_delimiter(path, encoding)


def _csv_options(path: Path, sep: str | None = None, encoding: str = "utf-8") -> dict:
    return {"dtype": str, "keep_default_na": False, "na_values": [""], "encoding": text_encoding(encoding),
            "sep": csv_delimiter(path, sep, encoding)}


def _read_table(path: Path, fmt: str, sep: str | None = None, encoding: str = "utf-8") -> pd.DataFrame:
    sep = csv_delimiter(path, sep, encoding) if fmt == "csv" else sep
    with _read_errors(path, fmt, encoding, sep):
        if fmt == "csv":
            return pd.read_csv(path, **_csv_options(path, sep, encoding))
        if fmt == "jsonl":
            return pd.DataFrame(list(_jsonl_rows(path, encoding)))
        return pd.read_parquet(path)


def _jsonl_rows(path: Path, encoding: str = "utf-8") -> Iterator[dict]:
    with open_text(path, encoding) as handle:
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


def iter_table_chunks(path: Path, fmt: str, rows: int, sep: str | None = None,
                      encoding: str = "utf-8") -> Iterator[tuple[pd.DataFrame, int]]:
    """(chunk, rows before it): a table read `rows` rows at a time, so a corpus larger than
    memory can be ingested shard by shard."""
    offset = 0
    sep = csv_delimiter(path, sep, encoding) if fmt == "csv" else sep
    with _read_errors(path, fmt, encoding, sep):
        if fmt == "parquet":
            import pyarrow.parquet as pq  # noqa: PLC0415

            chunks: Iterator[pd.DataFrame] = (b.to_pandas() for b in pq.ParquetFile(path).iter_batches(batch_size=rows))
        elif fmt == "csv":
            chunks = pd.read_csv(path, **_csv_options(path, sep, encoding), chunksize=rows)
        else:
            chunks = _jsonl_chunks(path, rows, encoding)
        for chunk in chunks:
            yield chunk, offset
            offset += len(chunk)
    if offset == 0:
        raise StanceError(f"{path}: no paragraphs found: the table has no rows")


def _jsonl_chunks(path: Path, rows: int, encoding: str = "utf-8") -> Iterator[pd.DataFrame]:
    batch: list[dict] = []
    for row in _jsonl_rows(path, encoding):
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
    check_text_values(path, frame, columns.text)


def check_text_values(path: Path, frame: pd.DataFrame, column: str, offset: int = 0) -> None:
    """A text column must hold strings: numbers there (a shifted column, an id exported as
    text) would otherwise become rows of 'empty text' one by one."""
    series = frame[column]
    if isinstance(series.dtype, pd.StringDtype):
        return
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        kind = "integers" if pd.api.types.is_integer_dtype(series) else \
            "booleans" if pd.api.types.is_bool_dtype(series) else "numbers"
        raise StanceError(f"{path}: the text column {column!r} holds {kind} ({series.dtype}), not strings; "
                          "is data.columns.text the right column?")
    bad = [(i, v) for i, v in enumerate(series.tolist())
           if v is not None and not isinstance(v, str) and not (isinstance(v, float) and pd.isna(v))]
    if bad:
        index, value = bad[0]
        raise StanceError(f"{path}: {row_locator(frame, index, offset)}: the text column {column!r} holds "
                          f"{type(value).__name__} {str(value)[:40]!r}, not a string"
                          + (f" ({len(bad) - 1} more such rows)" if len(bad) > 1 else ""))
