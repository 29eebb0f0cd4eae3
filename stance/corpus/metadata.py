"""Metadata sidecar for raw pages (`data.metadata`, or `--metadata` on the command line).

A CSV with one row per page file:

    file,outlet,date,url,title,wire,note

`file` is the page's file name (required); every other column is optional. Values fill what a
page does not say about its own (lead) article: an outlet or date named on the page, or found by
trafilatura in an HTML page, is kept; related-article items on aggregator pages keep their own
outlets. `note` is for the person keeping the file (where a value came from) and is not read.
Read as UTF-8 with or without a byte-order mark; dates are checked like any other date.
"""

from __future__ import annotations

import csv
import logging
from importlib import resources
from pathlib import Path

from stance.corpus.tables import parse_date  # the same date rules as the corpus
from stance.errors import StanceError

log = logging.getLogger(__name__)

FIELDS = ("outlet", "date", "url", "title", "wire")
# The sidecar for ../shared/seeds that configs/seeds.yaml uses (stance/data/seeds/metadata.csv).
BUILTIN_METADATA = {"builtin:seeds-metadata": "metadata.csv"}


def resolve_metadata_path(path: str) -> Path:
    if path in BUILTIN_METADATA:
        return Path(str(resources.files("stance") / "data" / "seeds" / BUILTIN_METADATA[path]))
    return Path(path)


def read_metadata(path: str, dayfirst: bool = True) -> dict[str, dict[str, str]]:
    """file name -> {field: value} for the non-empty cells; errors name the file and line."""
    file = resolve_metadata_path(path)
    if not file.is_file():
        raise StanceError(f"{file}: metadata file not found (data.metadata)")
    try:
        with file.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.reader(handle))
    except UnicodeDecodeError as exc:
        raise StanceError(f"{file}: not UTF-8 text (byte {exc.start})") from None
    except csv.Error as exc:
        raise StanceError(f"{file}: malformed CSV ({exc})") from None
    if not rows:
        raise StanceError(f"{file}: empty metadata file; expected a header: file,{','.join(FIELDS)}")
    header = [h.strip() for h in rows[0]]
    unknown = [h for h in header if h not in ("file", "note", *FIELDS)]
    if "file" not in header or unknown:
        raise StanceError(f"{file}:1: expected columns file,{','.join(FIELDS)} (and note); "
                          + (f"unknown {unknown}" if unknown else "no 'file' column"))
    out: dict[str, dict[str, str]] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise StanceError(f"{file}:{line}: {len(row)} fields, the header has {len(header)}")
        cells = {h: cell.strip() for h, cell in zip(header, row)}
        name = cells["file"]
        if not name:
            raise StanceError(f"{file}:{line}: empty file name")
        if name in out:
            raise StanceError(f"{file}:{line}: file {name!r} appears twice")
        values = {k: cells[k] for k in FIELDS if cells.get(k)}
        if "date" in values:
            values["date"] = parse_date(values["date"], dayfirst, f"{file}:{line}")
        out[name] = values
    return out


def fill(found: dict[str, str | None], sidecar: dict[str, str] | None, where: str) -> dict[str, str | None]:
    """What the page says, with the sidecar's values where it says nothing. A page value that
    differs from the sidecar's is kept, with a warning."""
    merged = dict(found)
    for key, value in (sidecar or {}).items():
        if not merged.get(key):
            merged[key] = value
        elif merged[key] != value:
            log.warning("%s: %s is %r on the page, %r in the metadata file; keeping the page's", where, key,
                        merged[key], value)
    return merged
