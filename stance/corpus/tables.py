"""CSV / JSONL / Parquet tables with a text column and metadata columns.

Spreadsheets come in many dialects: Excel writes a byte-order mark and, in many locales,
semicolons (its "Unicode text" is UTF-16 with tabs); public data sets come in GBK or cp1252. The
delimiter is `data.sep` or read from the header line, the encoding is `data.encoding`, a BOM is
dropped from any UTF-8 file, and a UTF-16 BOM selects UTF-16.
"""

from __future__ import annotations

import codecs
import json
import re
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pandas as pd

from stance.config import ColumnMap, DataConfig, OffsetConvention
from stance.corpus.normalize import Normalized, clean, normalize
from stance.errors import StanceError

TABLE_SUFFIXES = {".csv": "csv", ".tsv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl",
                  ".json": "jsonl", ".parquet": "parquet", ".pq": "parquet"}


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def parse_date(value: Any, dayfirst: bool, where: str) -> str | None:
    """A date cell as ISO `YYYY-MM-DD`, or None when empty; `dayfirst` decides 03/04/2025.
    Raises StanceError naming `where` (file and row) for a cell that is no date."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or str(value).strip() == "":
        return None
    text = str(value).strip()
    try:
        # ISO dates are unambiguous; only other forms need the day-first convention.
        if _ISO_DATE.match(text):
            return pd.Timestamp(text[:10]).date().isoformat()
        return pd.to_datetime(text, dayfirst=dayfirst).date().isoformat()
    except (ValueError, OverflowError):
        raise StanceError(f"{where}: cannot read date {value!r}") from None


def table_format(path: Path, declared: str) -> str:
    if declared != "auto":
        return declared
    fmt = TABLE_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise StanceError(f"{path}: cannot tell the table format from the suffix {path.suffix!r}; "
                          f"set data.format to csv, jsonl or parquet")
    return fmt


def read_table(path: Path, fmt: str, sep: str | None = None, encoding: str = "utf-8",
               encoding_from: str | None = "data.encoding") -> pd.DataFrame:
    """Read a table keeping values as written (no type guessing on ids or dates).

    `sep`: the CSV delimiter (None: a tab for .tsv, else read from the header line);
    `encoding`: the text encoding of CSV and JSONL files (a UTF-8 BOM is always dropped);
    `encoding_from`: the config field that set it, checked by `check_not_utf8` (None: given
    for this very file, taken as said).
    """
    if fmt != "parquet" and encoding_from:
        check_not_utf8(path, encoding, encoding_from)
    frame = _read_table(path, fmt, sep, encoding)
    if frame.empty:
        raise StanceError(f"{path}: no paragraphs found: the table has no rows")
    return frame


def check_not_utf8(path: Path, encoding: str, field: str = "data.encoding") -> None:
    """Refuse to read a file that is valid UTF-8 with non-ASCII text in another encoding
    (`field` set it): decoding would not fail, it would garble every accented or CJK character
    (mojibake), silently. Text in a legacy encoding (cp1252, GBK) is valid UTF-8 only by a
    rare accident, so such a file is taken to be UTF-8. Reads the file in 1 MiB blocks."""
    if codecs.lookup(encoding).name in ("utf-8", "utf-8-sig"):
        return
    decoder = codecs.getincrementaldecoder("utf-8")()
    first = None
    position = 0
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                decoder.decode(block)
                if first is None and not block.isascii():
                    first = position + next(i for i, b in enumerate(block) if b > 127)
                position += len(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return  # not UTF-8: the declared encoding may well be right
    except OSError:
        return  # reading it fails later with its own message
    if first is not None:
        raise StanceError(f"{path}: is UTF-8 text (non-ASCII from byte {first}) but {field} reads it as {encoding}, "
                          "which would garble it; give this file encoding: utf-8 (in a folder: "
                          "data.sources.<file>.encoding), or set data.encoding: utf-8")


def text_encoding(encoding: str) -> str:
    """The codec to open a file with: UTF-8 becomes utf-8-sig, so an Excel BOM never reaches a
    column name (a BOM before `paragraph_id` makes that column look missing)."""
    return "utf-8-sig" if codecs.lookup(encoding).name == "utf-8" else encoding


def file_encoding(path: Path, encoding: str = "utf-8") -> str:
    """The codec for one file: `encoding` with BOM handling, or UTF-16 when the file starts with
    a UTF-16 byte-order mark and UTF-8 was assumed (Excel's "Unicode text" export)."""
    if codecs.lookup(encoding).name == "utf-8":
        try:
            with path.open("rb") as handle:
                head = handle.read(2)
        except OSError:
            head = b""
        if head in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            return "utf-16"
    return text_encoding(encoding)


def open_text(path: Path, encoding: str = "utf-8", newline: str | None = None):
    """Open a text file we read (tables, label sheets, stand-off files) with BOM handling."""
    return path.open(encoding=file_encoding(path, encoding), newline=newline)


def decode_error(path: Path, exc: UnicodeDecodeError, encoding: str = "utf-8") -> StanceError:
    name = codecs.lookup(encoding).name
    label = "UTF-8" if name == "utf-8" else encoding
    return StanceError(f"{path}: not {label} text (byte {exc.start}); if the file was saved in another encoding "
                       "(Excel: cp1252; Chinese data sets: gbk), set data.encoding")


def read_string_csv(path: Path, missing: str) -> pd.DataFrame:
    """A small CSV of strings that stance or an annotator wrote (label sheets, stand-off files),
    BOM- and UTF-16-aware; a missing, undecodable or unparsable file is one error naming it.
    `missing` is the message for a file that is not there."""
    if not path.is_file():
        raise StanceError(f"{path}: {missing}")
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=file_encoding(path))
    except UnicodeDecodeError as exc:
        raise decode_error(path, exc) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise StanceError(f"{path}: cannot read as CSV: {str(exc).splitlines()[0]}") from None


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
    return {"dtype": str, "keep_default_na": False, "na_values": [""], "encoding": file_encoding(path, encoding),
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
    if fmt != "parquet":
        check_not_utf8(path, encoding)
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


def check_columns(path: Path, frame: pd.DataFrame, columns: ColumnMap, targets: list | None = None) -> None:
    available = [c for c in frame.columns if c != "__line__"]
    if columns.text not in frame.columns:
        raise StanceError(f"{path}: no text column {columns.text!r} (set data.columns.text); "
                          f"columns are {available}")
    for name in ("target", "target_start", "target_end"):
        column = getattr(columns, name)
        if column is not None and column not in frame.columns:
            raise StanceError(f"{path}: no {name} column {column!r} (data.columns.{name}); columns are {available}")
    for name in ("doc_id", "paragraph_id", "outlet", "date", "title", "url"):
        # These may be absent under their default names; a column the user named must exist, or
        # the run would silently use another one while its config says otherwise.
        column = getattr(columns, name)
        if column is not None and column != type(columns).model_fields[name].default and column not in frame.columns:
            raise StanceError(f"{path}: no {name} column {column!r} (data.columns.{name}); columns are {available}")
    for i, pair in enumerate(targets or []):
        for name in ("target", "label", "start", "end"):
            column = getattr(pair, name)
            if column is not None and column not in frame.columns:
                raise StanceError(f"{path}: no column {column!r} (data.targets[{i}].{name}); columns are {available}")
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


# ---------------------------------------------------------------- targets named by the table


@dataclass(frozen=True)
class TableTarget:
    """One target a table row names: the mention as written, its span in the row's text cell as
    Python character offsets with an exclusive end (None: not mentioned), and for the wide
    layout the raw label of its pair (`label_column` names the column it goes into)."""

    mention: str
    start: int | None
    end: int | None
    label: Any = None
    label_column: str | None = None


def target_columns(data: DataConfig) -> set[str]:
    """Table columns that describe targets (not carried into the paragraph table as extras)."""
    cols = data.columns
    names = {cols.target, cols.target_start, cols.target_end}
    for pair in data.targets or []:
        names |= {pair.target, pair.label, pair.start, pair.end}
    return {n for n in names if n}


def has_target_layout(data: DataConfig) -> bool:
    return bool(data.columns.target or data.targets)


def wide_label_column(data: DataConfig) -> str:
    return data.labels.stance or "stance"


def utf16_to_chars(text: str, offset: int) -> int | None:
    """The code point index of a UTF-16 code unit offset (None: inside a surrogate pair or past
    the end). JavaScript tools count an emoji as two units."""
    units = 0
    for index, char in enumerate(text):
        if units == offset:
            return index
        units += 2 if ord(char) > 0xFFFF else 1
        if units > offset:
            return None
    return len(text) if units == offset else None


def to_python_offsets(text: str, start: int, end: int, convention: OffsetConvention) -> tuple[int, int] | None:
    """(start, exclusive end) in code points from offsets in the table's convention; None if
    they do not fall on character boundaries."""
    if convention.end == "inclusive":
        end += 1  # the index of the last unit -> one past it, in the same unit
    if convention.unit == "utf16":
        start_c, end_c = utf16_to_chars(text, start), utf16_to_chars(text, end)
        if start_c is None or end_c is None:
            return None
        return start_c, end_c
    return start, end


def _points_at(text: str, start: int, end: int, mention: str, ignore_case: bool) -> bool:
    """Whether text[start:end] is the mention, both normalised as paragraph text is (entities
    decoded, format characters dropped, ftfy, whitespace runs as one space): a raw cell's
    `AT&amp;T` is the mention `AT&T` and the other way round."""
    if not 0 <= start < end <= len(text) or text[start].isspace() or text[end - 1].isspace():
        return False
    return same_mention(clean(text[start:end]), mention, ignore_case)


def same_mention(found: str, mention: str, ignore_case: bool) -> bool:
    """Whether `found` (normalised text) is `mention` normalised, in any case if `ignore_case`."""
    found, wanted = " ".join(found.split()), clean(mention)
    return found.casefold() == wanted.casefold() if ignore_case else found == wanted


def paragraph_target_problem(text: str, target: Any, start: Any, end: Any, ignore_case: bool) -> str | None:
    """Why a paragraph row's target and offsets (target_start, target_end: Python offsets into
    the paragraph `text`) are not a mention of the target, or None when they are. What ingest
    writes always passes; a paragraph table made elsewhere is checked with this before its
    offsets are used. Offsets must be integers (not booleans)."""
    for name, value in (("target_start", start), ("target_end", end)):
        if integer_offset(value) is None:
            return f"{name} = {value!r} is not an integer"
    first, last = integer_offset(start), integer_offset(end)
    if not 0 <= first < last <= len(text):
        return f"target offsets {first}-{last} are outside the paragraph's text (length {len(text)})"
    if not same_mention(text[first:last], str(target), ignore_case):
        return f"text[{first}:{last}] is {text[first:last]!r}, not the target {clean(str(target))!r}"
    return None


def _other_conventions(text: str, start: int, end: int, mention: str, ignore_case: bool,
                       convention: OffsetConvention) -> list[str]:
    """Offset conventions under which the given offsets would point at the mention."""
    fits = []
    for end_kind in ("exclusive", "inclusive"):
        for unit in ("chars", "utf16"):
            other = OffsetConvention(end=end_kind, unit=unit)
            if other == convention:
                continue
            span = to_python_offsets(text, start, end, other)
            if span and _points_at(text, *span, mention, ignore_case):
                fits.append(f"data.offsets: {{end: {end_kind}, unit: {unit}}}")
    return fits


def find_mention(text: str, mention: str, ignore_case: bool) -> tuple[int, int] | None:
    """The first occurrence of `mention` in `text`, any run of whitespace matching any other."""
    words = mention.split()
    if not words:
        return None
    pattern = r"\s+".join(re.escape(w) for w in words)
    match = re.search(pattern, text, re.IGNORECASE if ignore_case else 0)
    return (match.start(), match.end()) if match else None


def _cell_value(record: dict[str, Any], column: str | None) -> Any:
    if column is None:
        return None
    value = record.get(column)
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, str) and not value.strip():
        return None
    return value


_INTEGER_TEXT = re.compile(r"[+-]?\d+(?:\.0*)?")


def integer_offset(value: Any) -> int | None:
    """An offset cell as an int: an integer, a float with no fraction (a JSON or Parquet column
    with gaps), or text of one (a CSV cell, `12` or `12.0`); None for anything else, booleans
    included (True is 1 to Python, but no tool writes an offset as true)."""
    import numbers

    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        return int(number) if number.is_integer() else None
    if isinstance(value, str) and _INTEGER_TEXT.fullmatch(value.strip()):
        return int(value.strip().split(".")[0])
    return None


def _offset(value: Any, column: str, where: str) -> int:
    number = integer_offset(value)
    if number is None:
        kind = f" ({type(value).__name__})" if not isinstance(value, str) else ""
        raise StanceError(f"{where}: target offset {column} = {value!r}{kind} is not an integer")
    return number


def row_targets(text: str, record: dict[str, Any], data: DataConfig, where: str,
                norm: Normalized | None = None) -> list[TableTarget]:
    """The targets a row names (data.columns.target, or the data.targets pairs of a wide
    table), located in `text` (the row's text cell) per data.offsets and data.target_match.
    Each mention is normalised as the text is (entities, format characters, ftfy, whitespace;
    stance.corpus.normalize), so a paragraph's text[target_start:target_end] is its target;
    given offsets count in the raw cell, and a mention without them is looked for in the
    normalised cell (`norm`: normalize(text), computed when not given).

    Errors (StanceError, naming the row): an empty target in the single target column,
    offsets that are not integers or do not point at the mention (the message names the
    offset convention under which they would), a mention missing from the text unless
    data.target_match is `none`, a label given for an empty target.
    """
    cols = data.columns
    pairs: list[tuple[str, str | None, str | None, str | None]]
    if data.targets:
        pairs = [(p.target, p.label, p.start, p.end) for p in data.targets]
    else:
        pairs = [(cols.target, None, cols.target_start, cols.target_end)]
    ignore_case = data.target_match != "exact"
    out = []
    for target_col, label_col, start_col, end_col in pairs:
        mention = _cell_value(record, target_col)
        label = _cell_value(record, label_col) if label_col else None
        if mention is not None and not clean(str(mention)):
            mention = None  # only invisible characters: as empty as a blank cell
        if mention is None:
            if label_col is None:
                raise StanceError(f"{where}: empty target in column {target_col!r}")
            if label is not None:
                raise StanceError(f"{where}: label {label!r} in column {label_col!r} but its target column "
                                  f"{target_col!r} is empty")
            continue
        mention = clean(str(mention))
        start_raw = _cell_value(record, start_col) if start_col else None
        end_raw = _cell_value(record, end_col) if end_col else None
        if start_col and end_col and (start_raw is not None or end_raw is not None):
            start, end = _offset(start_raw, start_col, where), _offset(end_raw, end_col, where)
            span = to_python_offsets(text, start, end, data.offsets)
            if span is None or not _points_at(text, *span, mention, ignore_case):
                fits = _other_conventions(text, start, end, mention, ignore_case, data.offsets)
                hint = (f"; they do with {' or '.join(fits)}" if fits else
                        f" (read as {data.offsets.end} end, {data.offsets.unit}; see data.offsets)")
                raise StanceError(f"{where}: target offsets {start}-{end} do not point at the mention {mention!r}{hint}")
        else:
            norm = norm if norm is not None else normalize(text)
            found = find_mention(norm.text, mention, ignore_case)
            span = norm.source_span(*found) if found else None
            if span is None and data.target_match != "none":
                how = "" if ignore_case else " (exact case)"
                raise StanceError(f"{where}: target {mention!r} does not occur in the text{how}; if that is "
                                  "expected, set data.target_match: ignore_case (any case) or none (the target "
                                  "need not be mentioned)")
        out.append(TableTarget(mention, *(span if span else (None, None)), label=label,
                               label_column=wide_label_column(data) if label_col else None))
    return out


def place_targets(spans: list[Any], targets: list[TableTarget]) -> tuple[dict[int, list[TableTarget]], list[str]]:
    """Which paragraph (index into `spans`, each with .start/.end in the document) holds each
    target's mention; a mention cut by a paragraph boundary, or outside every paragraph (in
    dropped lines), is listed as a problem instead."""
    placed: dict[int, list[TableTarget]] = {}
    problems = []
    for target in targets:
        if target.start is None:
            problems.append(f"target {target.mention!r} is not mentioned in the document, so it belongs to no "
                            "paragraph")
            continue
        inside = [n for n, s in enumerate(spans) if s.start <= target.start and target.end <= s.end]
        if inside:
            placed.setdefault(inside[0], []).append(target)
            continue
        cut = [n for n, s in enumerate(spans) if s.start < target.end and target.start < s.end]
        if cut:
            problems.append(f"target {target.mention!r} at {target.start}-{target.end} is cut by a paragraph "
                            f"boundary (paragraphs {', '.join(str(n) for n in cut)})")
        else:
            problems.append(f"target {target.mention!r} at {target.start}-{target.end} lies outside every "
                            "paragraph (in a line dropped as boilerplate or too short)")
    return placed, problems
