"""Build the paragraph table: one row per paragraph, with stable ids and offsets.

Columns: paragraph_id, doc_id, source, source_row, start, end, outlet, date, title, url,
wire, text, text_sha1, n_words, actors, actor_spans, dup_group, cluster_id, plus any extra
columns a table carried (labels, for instance).
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections import Counter
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from stance.config import BUILTIN_EXAMPLE, CorpusConfig, DataConfig, LabelSchema, SourceLayout, SpeakerRules, visible
from stance.corpus.actors import Gazetteer
from stance.corpus.bodies import SpeakerRoles, body_paragraphs
from stance import files
from stance.corpus.dedup import NearDuplicateIndex, UnionFind, cluster
from stance.corpus.html import HTML_SUFFIXES, extract_html
from stance.corpus import metadata as sidecar
from stance.corpus.normalize import Normalized, normalize
from stance.corpus.pages import DroppedLine, PageRules, parse_page
from stance.corpus.segment import Span, chunk_span, iter_lines, normalize_ws, strip_span
from stance.corpus.tables import (TABLE_SUFFIXES, TableTarget, check_columns, has_target_layout, iter_table_chunks,
                                  parse_date, place_targets, read_table, row_locator, row_targets, table_format, target_columns,
                                  wide_label_column)
from stance.errors import StanceError
from stance.progress import bar

log = logging.getLogger(__name__)

PAGE_SUFFIXES = {".txt", ".md", ".text"} | HTML_SUFFIXES
BASE_COLUMNS = ["paragraph_id", "doc_id", "source", "source_row", "start", "end", "outlet", "date",
                "title", "url", "wire", "text", "text_sha1", "n_words", "actors", "actor_spans",
                "dup_group", "cluster_id"]


@dataclass
class IngestReport:
    files: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, why)
    dropped: list[dict[str, Any]] = field(default_factory=list)  # stand-off: no text
    extractions: list[dict[str, Any]] = field(default_factory=list)  # HTML pages: extractor, settings, hash

    def skip(self, path: Path, why: str) -> None:
        log.warning("skipped %s: %s", path, why)
        self.skipped.append((str(path), why))


def example_corpus_path() -> Path:
    return Path(str(resources.files("stance").joinpath("data/example/corpus.jsonl")))


def resolve_data_path(path: str) -> Path:
    if path == BUILTIN_EXAMPLE:
        return example_corpus_path()
    return Path(path)


def text_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def ingest(data: DataConfig, corpus: CorpusConfig, schema: LabelSchema,
           report: IngestReport | None = None) -> pd.DataFrame:
    """Read pages or a table into the paragraph table (pandas; see `to_dataset`)."""
    report = report if report is not None else IngestReport()
    path = resolve_data_path(data.path)
    if not path.exists():
        hint = " (the public data sets live in ../shared/data beside the checkout)" if "shared" in str(path) else ""
        raise StanceError(f"{path}: data path not found{hint}")
    fmt = data.format
    if fmt == "auto":
        fmt = folder_format(path) if path.is_dir() else \
            "pages" if path.suffix.lower() in PAGE_SUFFIXES else table_format(path, "auto")
    check_folder_settings(path, fmt, data)
    if data.metadata and (fmt != "pages" or data.split_files):
        raise StanceError(f"data.metadata ({data.metadata}) describes raw pages; {path} is read as a table "
                          "(give outlet, date, url and title as its columns instead)")
    if data.split_files:
        rows = _ingest_split_files(path, data, corpus, report)
    elif fmt == "pages":
        metadata = sidecar.read_metadata(data.metadata, corpus.dayfirst) if data.metadata else None
        rows = _ingest_pages(path, corpus, report, metadata)
    else:
        rows = _ingest_table_folder(path, fmt, data, corpus, report) if path.is_dir() \
            else _ingest_table(path, fmt, data, corpus, report)
    if not rows:
        raise StanceError(f"{path}: no paragraphs found (files read: {report.files}, "
                          f"skipped: {len(report.skipped)})")
    frame = pd.DataFrame(rows)
    _check_unique_ids(frame, path)
    frame = annotate_structure(frame, corpus, schema)
    if data.same_story:
        merge_stories(frame, data.same_story)
    return frame


def folder_format(folder: Path) -> str:
    """How `data.format: auto` reads a folder: as raw pages when a page file (.txt, .md, .html)
    lies in it, else as tables when the files under it (recursively) are tables of one format
    (.csv/.tsv, .jsonl/.ndjson or .parquet); tables of several formats are an error asking for
    data.format, since a folder of tables is read one format at a time."""
    top = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]
    if any(p.suffix.lower() in PAGE_SUFFIXES for p in top):
        return "pages"
    found = sorted({fmt for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")
                    for fmt, suffixes in TABLE_FOLDER_SUFFIXES.items() if p.suffix.lower() in suffixes})
    if len(found) > 1:
        raise StanceError(f"{folder}: holds {' and '.join(found)} tables and no page files; set data.format to the "
                          f"one to read ({' or '.join(found)})")
    return found[0] if found else "pages"


def check_folder_settings(path: Path, fmt: str, data: DataConfig) -> None:
    """Refuse settings that describe a folder of tables when `path` is not read as one: they
    would be silently ignored (data.sources, data.speakers) or could never apply (data.same_story
    joins copies of a story across files)."""
    tables = path.is_dir() and fmt != "pages" and not data.split_files
    what = ("one file" if not path.is_dir() else "read as raw pages (data.format: pages)" if fmt == "pages"
            else "read with data.split_files")
    if data.sources and not tables:
        raise StanceError(f"data.sources: read only for a folder of tables (data.format csv, jsonl or parquet), "
                          f"but {path} is {what}; remove data.sources (predict, evaluate: --set 'data.sources={{}}')")
    if data.speakers != SpeakerRules() and not (data.sources and data.rows_are == "documents"):
        raise StanceError("data.speakers: read only with data.sources and data.rows_are: documents (the transcripts "
                          f"of a folder of tables), which {path} is not read as; remove data.speakers "
                          "(--set 'data.speakers={}')")
    if data.same_story and not path.is_dir():
        raise StanceError(f"data.same_story: joins copies of one story in different files, but {path} is one file; "
                          "remove data.same_story (--set 'data.same_story=[]')")


def merge_stories(frame: pd.DataFrame, keys: list[str]) -> None:
    """Documents of one outlet in different source files that agree on `keys` (title compared
    case- and space-insensitively) are one story published twice: every story cluster they touch
    becomes one, and each copy after the first (in row order) names the first's doc_id in
    `repeat_of`. Documents of one file that agree are left apart: a briefing room titles many
    different events "Remarks by the President" on one day. In place."""
    docs = frame.drop_duplicates("doc_id")
    first: dict[tuple, dict[str, str]] = {}
    repeat_of: dict[str, str | None] = {}
    # Clusters are merged by index in sorted order, so a merged story keeps its smallest id.
    clusters = sorted(set(frame["cluster_id"]))
    index = {c: k for k, c in enumerate(clusters)}
    stories = UnionFind(len(clusters))
    doc_cluster = dict(zip(docs["doc_id"], docs["cluster_id"]))
    for record in docs[["doc_id", "source", "outlet", *keys]].to_dict("records"):
        values = tuple("" if pd.isna(record[k]) else " ".join(str(record[k]).casefold().split()) for k in keys)
        repeat_of[record["doc_id"]] = None
        if any(v == "" for v in values) or not record["outlet"]:
            continue
        by_source = first.setdefault((record["outlet"], *values), {})
        originals = [d for s, d in by_source.items() if s != record["source"]]
        by_source.setdefault(record["source"], record["doc_id"])
        if not originals:
            continue
        repeat_of[record["doc_id"]] = originals[0]
        stories.union(index[doc_cluster[originals[0]]], index[doc_cluster[record["doc_id"]]])
    frame["repeat_of"] = frame["doc_id"].map(repeat_of)
    frame["cluster_id"] = [clusters[stories.find(index[c])] for c in frame["cluster_id"]]


def ingest_frame(frame: pd.DataFrame, data: DataConfig, corpus: CorpusConfig, schema: LabelSchema,
                 source: str = "texts", report: IngestReport | None = None) -> pd.DataFrame:
    """The paragraph table of an in-memory table (the Python API): the rows are read exactly as
    `ingest` reads the same rows from a CSV file named `source`.csv (same normalisation, ids,
    actor mentions and story clusters), so predictions on them are the same numbers."""
    report = report if report is not None else IngestReport()
    path = Path(f"{source}.csv")
    rows = _table_rows(frame.reset_index(drop=True), path, data, corpus, report, offset=0, per_doc={})
    if not rows:
        raise StanceError(f"{source}: no paragraphs found (skipped: {len(report.skipped)})")
    out = pd.DataFrame(rows)
    _check_unique_ids(out, path)
    return annotate_structure(out, corpus, schema)


def add_actor_mentions(frame: pd.DataFrame, gazetteer: Gazetteer) -> None:
    mentions = [gazetteer.find(text) for text in frame["text"]]
    frame["actors"] = [gazetteer.actors_of(ms) for ms in mentions]
    frame["actor_spans"] = [[{"actor": m.actor, "start": m.start, "end": m.end} for m in ms]
                            for ms in mentions]


def annotate_structure(frame: pd.DataFrame, corpus: CorpusConfig, schema: LabelSchema) -> pd.DataFrame:
    """Add actor mentions, near-duplicate groups and story clusters."""
    add_actor_mentions(frame, Gazetteer.from_schema(schema))
    if frame["paragraph_id"].is_unique:
        result = cluster(list(frame["paragraph_id"]), list(frame["doc_id"]), list(frame["text"]), corpus.dedup)
        frame["dup_group"] = result.dup_group
        frame["cluster_id"] = result.cluster_id
    else:  # a paragraph with several targets has one row per target; it is one paragraph to dedup
        unique = frame.drop_duplicates("paragraph_id")
        result = cluster(list(unique["paragraph_id"]), list(unique["doc_id"]), list(unique["text"]), corpus.dedup)
        groups = dict(zip(unique["paragraph_id"], zip(result.dup_group, result.cluster_id)))
        frame["dup_group"] = [groups[p][0] for p in frame["paragraph_id"]]
        frame["cluster_id"] = [groups[p][1] for p in frame["paragraph_id"]]
    extra = [c for c in frame.columns if c not in BASE_COLUMNS]
    return frame[BASE_COLUMNS + extra].reset_index(drop=True)


MENTION_TYPES = {"actors": pa.list_(pa.string()),
                 "actor_spans": pa.list_(pa.struct([("actor", pa.string()), ("start", pa.int64()),
                                                    ("end", pa.int64())]))}
STRING_COLUMNS = ["paragraph_id", "doc_id", "source", "outlet", "date", "title", "url", "wire", "text",
                  "text_sha1", "dup_group", "cluster_id"]


def ingest_to_shards(data: DataConfig, corpus: CorpusConfig, schema: LabelSchema, out: Path, shard_rows: int,
                     report: IngestReport) -> list[Path]:
    """Ingest a table too large for memory, `shard_rows` input rows at a time, into
    `out/part-00000.parquet`, ... with the same rows and columns as `ingest` gives for the whole
    table. Memory holds one shard, plus per paragraph only its id, document id and 8-byte shingle
    hashes for the near-duplicate search; story clusters are known only after the last shard,
    so each shard is written once without them and once more with them."""
    path = resolve_data_path(data.path)
    if not path.is_file():
        raise StanceError(f"{path}: sharded ingest reads one table file (CSV, JSONL or Parquet)")
    fmt = table_format(path, data.format)
    if fmt == "pages" or data.split_files:
        raise StanceError(f"{path}: sharded ingest is for one table, not pages or data.split_files")
    check_folder_settings(path, fmt, data)
    if shard_rows < 1:
        raise StanceError("--shard-rows must be at least 1")
    staging = out.with_name(out.name + ".partial")
    if staging.exists():
        shutil.rmtree(staging)  # left by an interrupted ingest: redo it
    gazetteer, index = Gazetteer.from_schema(schema), NearDuplicateIndex(corpus.dedup)
    seen: dict[str, str] = {}  # paragraph id -> where it was read, so a repeat names both places
    per_doc: dict[str, int] = {}
    report.files += 1
    sizes: list[int] = []
    for chunk, offset in iter_table_chunks(path, fmt, shard_rows, data.sep, data.encoding):
        rows = _table_rows(chunk, path, data, corpus, report, offset, per_doc)
        if not rows:
            continue
        frame = pd.DataFrame(rows)
        _check_unique_ids(frame, path)
        places = _row_places(frame)
        repeated = [(p, w) for p, w in zip(frame["paragraph_id"], places) if p in seen]
        if repeated:
            first, where = repeated[0]
            raise StanceError(f"{path}: duplicate paragraph id {first!r}: used twice ({seen[first]} and {where})"
                              + (f"; {len(repeated) - 1} more repeated ids" if len(repeated) > 1 else ""))
        seen.update(zip(frame["paragraph_id"], places))
        add_actor_mentions(frame, gazetteer)
        index.add(list(frame["paragraph_id"]), list(frame["doc_id"]), list(frame["text"]))
        files.write_parquet(staging / "raw" / f"part-{len(sizes):05d}.parquet", frame)
        sizes.append(len(frame))
    if not sizes:
        raise StanceError(f"{path}: no paragraphs found (skipped: {len(report.skipped)})")
    del seen
    result = index.result()
    start = 0
    for k, size in enumerate(bar(sizes, desc="story clusters into shards", unit="shard")):
        raw = staging / "raw" / f"part-{k:05d}.parquet"
        frame = pd.read_parquet(raw)
        frame["dup_group"] = result.dup_group[start:start + size]
        frame["cluster_id"] = result.cluster_id[start:start + size]
        start += size
        for column in STRING_COLUMNS:  # one Parquet schema for every shard, even an all-empty column
            frame[column] = frame[column].astype("string")
        extra = [c for c in frame.columns if c not in BASE_COLUMNS]
        table = pa.Table.from_pandas(frame[BASE_COLUMNS + extra], preserve_index=False)
        for name, kind in MENTION_TYPES.items():  # a shard where no actor is mentioned has list<null>
            table = table.set_column(table.schema.get_field_index(name), name, table.column(name).cast(kind))
        with files.atomic_path(staging / f"part-{k:05d}.parquet") as tmp:
            pq.write_table(table, tmp)
        raw.unlink()
    (staging / "raw").rmdir()
    staging.rename(out)
    return [out / f"part-{k:05d}.parquet" for k in range(len(sizes))]


def _check_unique_ids(frame: pd.DataFrame, path: Path) -> None:
    if "target" in frame.columns and frame["target"].notna().any():
        _check_target_rows(frame, path)
        return
    duplicated = frame["paragraph_id"].duplicated(keep=False)
    if duplicated.any():
        ids = frame.loc[duplicated, "paragraph_id"]
        first = ids.iloc[0]
        where = [w for w, p in zip(_row_places(frame), frame["paragraph_id"]) if p == first]
        more = ids.nunique() - 1
        raise StanceError(f"{path}: duplicate paragraph id {first!r}: used {len(where)} times ({', '.join(where[:3])})"
                          + (f"; {more} more repeated ids" if more else ""))


def _row_places(frame: pd.DataFrame) -> list[str]:
    """'file row N' for each row (tables read from a folder carry their file in `source`), else 'row N'."""
    rows = frame["source_row"].tolist()
    sources = frame["source"].tolist() if "source" in frame.columns else [None] * len(rows)
    return [f"{s} row {r}" if isinstance(s, str) and s else f"row {r}" for s, r in zip(sources, rows)]


def _check_target_rows(frame: pd.DataFrame, path: Path) -> None:
    """Long-format target tables: several rows of one paragraph are fine (one per target span),
    but ids are unique per (paragraph, target, span), and one paragraph id has one text."""
    key = frame[["paragraph_id", "target", "target_start", "target_end"]].astype("string").fillna("")
    duplicated = key.duplicated(keep=False)
    if duplicated.any():
        first = frame.loc[duplicated, ["paragraph_id", "source_row", "target", "target_start"]].head(3).to_dict("records")
        raise StanceError(f"{path}: the same paragraph and target span appear twice, e.g. {first}")
    texts = frame.groupby("paragraph_id")["text_sha1"].nunique()
    if (texts > 1).any():
        pid = texts[texts > 1].index[0]
        rows = frame.loc[frame["paragraph_id"] == pid, "source_row"].tolist()[:3]
        raise StanceError(f"{path}: paragraph id {pid!r} holds different texts (rows {rows}); rows of one paragraph "
                          "must repeat its text exactly")


# ---------------------------------------------------------------- raw pages


def read_page_text(path: Path) -> str:
    raw = path.read_bytes()
    if b"\x00" in raw[:8192]:
        raise ValueError("binary file")
    return raw.decode("utf-8")  # newlines untranslated so offsets match the file


def _ingest_pages(path: Path, corpus: CorpusConfig, report: IngestReport,
                  metadata: dict[str, dict[str, str]] | None = None) -> list[dict[str, Any]]:
    files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")) \
        if path.is_dir() else [path]
    rules = PageRules(corpus)
    keys = id_keys([f for f in files if f.suffix.lower() in PAGE_SUFFIXES], path if path.is_dir() else path.parent)
    rows: list[dict[str, Any]] = []
    for file in bar(files, desc="ingest pages", unit="file"):
        if file.suffix.lower() not in PAGE_SUFFIXES:
            table = TABLE_SUFFIXES.get(file.suffix.lower())
            hint = f"; to read the folder's tables instead, set data.format: {table}" if table else ""
            report.skip(file, f"not a page file ({file.suffix or 'no suffix'}); pages are "
                              f"{sorted(PAGE_SUFFIXES)}{hint}")
            continue
        found: dict[str, str | None] = {}
        if file.suffix.lower() in HTML_SUFFIXES:
            try:
                extraction = extract_html(file)
            except Exception as exc:  # noqa: BLE001 - a third-party parser on hostile input: skip the file, say why
                report.skip(file, f"HTML could not be parsed ({type(exc).__name__}: {exc})")
                continue
            if extraction is None:
                report.skip(file, "no article text found in the HTML (trafilatura)")
                continue
            text, found = extraction.text, extraction.metadata()
            report.extractions.append(extraction.record())
        else:
            try:
                text = read_page_text(file)
            except UnicodeDecodeError as exc:
                report.skip(file, f"not UTF-8 text (byte {exc.start})")
                continue
            except ValueError as exc:
                report.skip(file, str(exc))
                continue
        report.files += 1
        meta = sidecar.fill(found, (metadata or {}).get(file.name), str(file))
        rows.extend(page_rows(text, file, rules, corpus, report, meta, key=keys[file]))
    if metadata:
        unmatched = sorted(set(metadata) - {f.name for f in files})
        if unmatched:
            log.warning("metadata rows for files not in %s: %s", path, unmatched[:5])
    return rows


def page_rows(text: str, file: Path, rules: PageRules, corpus: CorpusConfig,
              report: IngestReport | None = None, meta: dict[str, str | None] | None = None,
              key: str | None = None) -> list[dict[str, Any]]:
    """Paragraph rows of one page. The page is normalised first (entities, invisible
    characters, mojibake: stance.corpus.normalize) and parsed in normalised form; every offset
    written (paragraphs and dropped lines) is mapped back into `text`. `meta` (outlet, date, url,
    title, wire: from trafilatura or the metadata sidecar) fills what the page's lead article
    does not say itself. `key` (default: the file's stem) starts every doc_id: see `id_keys`."""
    norm = normalize(text)
    parsed = parse_page(norm.text, rules)
    source = file.name
    if report is not None:
        report.dropped.extend(_dropped_record(source, d, norm) for d in parsed.dropped)
    rows = []
    for k, doc in enumerate(parsed.documents):
        doc_id = f"{key or file.stem}:{k}"
        date = parse_date(doc.date, corpus.dayfirst, f"{file}: document {k}") if doc.date else None
        said = {"outlet": doc.outlet, "date": date, "title": doc.title, "wire": doc.wire, "url": None}
        if doc.kind == "lead" and meta:
            said = sidecar.fill(said, {key: value for key, value in meta.items() if value}, f"{file}: document {k}")
        n = 0
        for span in doc.paragraphs:
            for chunk in chunk_span(norm.text, span, corpus.chunk_above_chars, corpus.chunk_target_chars):
                rows.append(_row(norm, chunk, f"{doc_id}:{n}", doc_id, source, None, **said))
                n += 1
    return rows


def _dropped_record(source: str, d: DroppedLine, norm: Normalized) -> dict[str, Any]:
    start, end = norm.source_span(d.start, d.end)
    return {"source": source, "line": d.line, "start": start, "end": end, "reason": d.reason, "rule": d.rule}


def _row(norm: Normalized, span: Span, paragraph_id: str, doc_id: str, source: str, source_row: int | None,
         **meta: Any) -> dict[str, Any]:
    """One paragraph: `span` is in the normalised text, `start`/`end` are mapped to the source."""
    para = normalize_ws(norm.text[span.start:span.end])
    start, end = norm.source_span(span.start, span.end)
    return {"paragraph_id": paragraph_id, "doc_id": doc_id, "source": source, "source_row": source_row,
            "start": start, "end": end, **meta, "text": para, "text_sha1": text_hash(para),
            "n_words": len(para.split())}


# ---------------------------------------------------------------- tables


def _ingest_table(path: Path, fmt: str, data: DataConfig, corpus: CorpusConfig,
                  report: IngestReport, layout: SourceLayout | None = None, source: str | None = None,
                  key: str | None = None) -> list[dict[str, Any]]:
    if layout is not None and layout.encoding is not None:  # given for this very file
        frame = read_table(path, fmt, data.sep, layout.encoding, encoding_from=None)
    else:
        frame = read_table(path, fmt, data.sep, data.encoding)
    report.files += 1
    return _table_rows(frame, path, data, corpus, report, offset=0, per_doc={}, layout=layout, source=source,
                       key=key)


def id_keys(files: list[Path], root: Path) -> dict[Path, str]:
    """What the generated ids of each file of a folder start with (`KEY:row` doc ids,
    `KEY:k` page documents): the file's stem, as ever (gold sets are keyed by those ids), where
    no other file read with it has that stem; else its path under `root` without the suffix
    (a/news, b/news), or with it where even that is shared (news.csv, news.jsonl)."""
    under = {p: (p.relative_to(root) if p.is_relative_to(root) else p) for p in files}
    stems = Counter(p.stem for p in files)
    bare = Counter(r.with_suffix("").as_posix() for r in under.values())
    keys = {}
    for p in files:
        relative = under[p]
        if stems[p.stem] == 1:
            keys[p] = p.stem
        elif bare[relative.with_suffix("").as_posix()] == 1:
            keys[p] = relative.with_suffix("").as_posix()
        else:
            keys[p] = relative.as_posix()
    return keys


TABLE_FOLDER_SUFFIXES = {"csv": {".csv", ".tsv"}, "jsonl": {".jsonl", ".ndjson"}, "parquet": {".parquet"}}


def _ingest_table_folder(folder: Path, fmt: str, data: DataConfig, corpus: CorpusConfig,
                         report: IngestReport) -> list[dict[str, Any]]:
    """Every `fmt` table under `folder` (recursively, in path order), each read with its
    `data.sources` layout; `source` is the file's path under the folder."""
    tables = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in TABLE_FOLDER_SUFFIXES[fmt])
    if not tables:
        raise StanceError(f"{folder}: no {fmt} files in this folder (data.format: {fmt})")
    names = {p.relative_to(folder).as_posix(): p for p in tables}
    unknown = sorted(set(data.sources) - set(names))
    if unknown:
        raise StanceError(f"data.sources.{unknown[0]}: no such file under {folder} (files: {sorted(names)[:6]})")
    bodies = sorted(n for n, layout in data.sources.items() if layout.body != "lines")
    if bodies and data.rows_are != "documents":
        raise StanceError(f"data.sources.{bodies[0]}.body: describes document bodies: set data.rows_are: documents")
    undescribed = sorted(set(names) - set(data.sources)) if data.sources else []
    if undescribed:
        raise StanceError(f"{folder / undescribed[0]}: no data.sources entry for this file (give it one, "
                          f"even `{undescribed[0]}: {{}}` for the defaults, or move it out of the folder)")
    keys = id_keys(tables, folder)
    rows: list[dict[str, Any]] = []
    for name, file in names.items():
        rows.extend(_ingest_table(file, fmt, data, corpus, report, data.sources.get(name), source=name, key=keys[file]))
    return rows


def _table_rows(frame: pd.DataFrame, path: Path, data: DataConfig, corpus: CorpusConfig, report: IngestReport,
                offset: int, per_doc: dict[str, int], layout: SourceLayout | None = None, source: str | None = None,
                key: str | None = None) -> list[dict[str, Any]]:
    """Paragraph rows from (a chunk of) a table; `offset` rows and `per_doc` paragraph counts
    come from earlier chunks. `source` (default: the file name) is the file's path under
    data.path, `key` (default: its stem) starts generated doc ids (see `id_keys`)."""
    source, key = source or path.name, key or path.stem
    check_columns(path, frame, data.columns, data.targets)
    cols = data.columns
    mapped = {getattr(cols, name) for name in ("text", "doc_id", "paragraph_id", "outlet", "date", "title", "url")}
    mapped |= target_columns(data)
    targeted = has_target_layout(data)
    same_text: dict[tuple[str, str], str] = {}
    extra = [c for c in frame.columns if c not in mapped and c != "__line__"]
    # A table column named like one of ours (a JSONL `source` field) is kept beside it, not over it.
    renamed = {c: (f"table_{c}" if c in BASE_COLUMNS else c) for c in extra}
    roles = SpeakerRoles.compile(data.speakers.official, data.speakers.reporter) if layout else None
    records = frame.to_dict("records")
    rows: list[dict[str, Any]] = []
    for index, record in enumerate(bar(records, desc=f"ingest {path.name}", unit="row")):
        where = f"{path}: {row_locator(frame, index, offset)}"
        cell = record.get(cols.text)
        if not isinstance(cell, str) or not cell.strip():
            report.skip(Path(f"{path}#{row_locator(frame, index, offset)}"), "empty text")
            continue
        doc_id = _cell(record, cols.doc_id) or f"{key}:{offset + index + 1}"
        meta = {"outlet": (layout.outlet if layout and layout.outlet else _cell(record, cols.outlet)),
                "date": parse_date(_cell(record, cols.date), corpus.dayfirst, where),
                "title": _cell(record, cols.title), "url": _cell(record, cols.url), "wire": None}
        extras = {renamed[c]: _plain(record.get(c)) for c in extra}
        source_row = int(record.get("__line__", offset + index + 1))
        norm = normalize(cell)
        if not norm.text.strip():
            report.skip(Path(f"{path}#{row_locator(frame, index, offset)}"), "empty text (invisible characters only)")
            continue
        # Targets are located in the raw cell (their offsets count there), then moved into the
        # normalised text that paragraphs are cut from.
        targets = ([_normalised_target(t, norm) for t in row_targets(cell, record, data, where, norm)]
                   if targeted else [])
        if data.rows_are == "paragraphs":
            span = strip_span(norm.text, Span(0, len(norm.text)))
            paragraph_id = _cell(record, cols.paragraph_id)
            if paragraph_id is None and targeted and (doc_id, cell) in same_text:
                # A long target table without paragraph ids: a document's rows that repeat one
                # text are one paragraph (one row per mention), not new paragraphs.
                paragraph_id = same_text[(doc_id, cell)]
            else:
                n = per_doc.get(doc_id, 0)
                per_doc[doc_id] = n + 1
                paragraph_id = paragraph_id or f"{doc_id}:{n}"
                if targeted:
                    same_text.setdefault((doc_id, cell), paragraph_id)
            base = {**_row(norm, span, paragraph_id, doc_id, source, source_row, **meta), **extras}
            rows.extend({**base, **_target_fields(norm.text, span, t, where)} for t in targets)
            if not targets:
                rows.append({**base, **(_no_target(data) if targeted else {})})
        elif layout is not None:
            rows.extend(_body_rows(norm, doc_id, source, source_row, meta, extras, layout, roles, corpus, report))
        else:
            spans = _document_paragraphs(norm.text, corpus)
            placed, problems = place_targets(spans, targets)
            for problem in problems:  # reported with the row, never dropped silently
                report.skip(Path(f"{path}#{row_locator(frame, index, offset)}"), problem)
            for n, span in enumerate(spans):
                base = {**_row(norm, span, f"{doc_id}:{n}", doc_id, source, source_row, **meta), **extras}
                rows.extend({**base, **_target_fields(norm.text, span, t, where)} for t in placed.get(n, []))
                if n not in placed:
                    rows.append({**base, **(_no_target(data) if targeted else {})})
    return _merge_target_rows(rows) if targeted else rows


def _body_rows(norm: Normalized, doc_id: str, source: str, source_row: int, meta: dict[str, Any],
               extras: dict[str, Any], layout: SourceLayout, roles: SpeakerRoles, corpus: CorpusConfig,
               report: IngestReport) -> list[dict[str, Any]]:
    """The paragraphs of one document body read with its file's layout, each with its speaker
    and role; paragraphs under `corpus.min_paragraph_words` (datelines, times, "END") are
    dropped and recorded stand-off."""
    rows, n = [], 0
    for para in body_paragraphs(norm.text, layout.body, roles, corpus.chunk_above_chars, corpus.chunk_target_chars,
                                layout.joiner):
        if len(norm.text[para.span.start:para.span.end].split()) < corpus.min_paragraph_words:
            start, end = norm.source_span(para.span.start, para.span.end)
            report.dropped.append({"source": source, "line": source_row, "start": start, "end": end,
                                   "reason": f"fewer than {corpus.min_paragraph_words} words", "rule": None})
            continue
        row = _row(norm, para.span, f"{doc_id}:{n}", doc_id, source, source_row, **meta)
        rows.append({**row, **extras, "speaker": para.speaker, "speaker_role": para.role})
        n += 1
    return rows


def _normalised_target(target: TableTarget, norm: Normalized) -> TableTarget:
    if target.start is None or not norm.changed:
        return target
    return replace(target, start=norm.norm_start(target.start), end=norm.norm_end(target.end))


def _no_target(data: DataConfig) -> dict[str, Any]:
    """A paragraph of a target table that holds no target: kept in the corpus, labels blank (a
    document's label belongs to the paragraph of its target's mention, not to all of them)."""
    blank = {"target": None, "target_start": None, "target_end": None}
    labels = {wide_label_column(data)} if data.targets else {data.labels.stance} - {None}
    return {**blank, **{label: None for label in labels}}


def _merge_target_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A paragraph repeated by a long target table (one row per mention) keeps its target rows,
    and a target-less row only when it has none."""
    with_target = {r["paragraph_id"] for r in rows if r.get("target") is not None}
    kept, seen = [], set()
    for row in rows:
        if row.get("target") is None:
            if row["paragraph_id"] in with_target or row["paragraph_id"] in seen:
                continue
            seen.add(row["paragraph_id"])
        kept.append(row)
    return kept


def _ingest_split_files(folder: Path, data: DataConfig, corpus: CorpusConfig,
                        report: IngestReport) -> list[dict[str, Any]]:
    """Tables that come already split: each row keeps the split its file names (given_split)."""
    if not folder.is_dir():
        raise StanceError(f"{folder}: data.split_files needs data.path to be the folder holding the files")
    rows: list[dict[str, Any]] = []
    for split, name in data.split_files.items():
        if not (folder / name).is_file():
            raise StanceError(f"{folder / name}: data.split_files.{split} not found")
    keys = id_keys([folder / name for name in data.split_files.values()], folder)
    for split, name in data.split_files.items():
        file = folder / name
        fmt = table_format(file, data.format if data.format != "pages" else "auto")
        found = _ingest_table(file, fmt, data, corpus, report, source=Path(name).as_posix(), key=keys[file])
        rows += [{**row, "given_split": split} for row in found]
    return rows


def normalized_offsets(raw: str, span: Span) -> tuple[list[int], list[int]]:
    """Where raw offsets land in normalize_ws(raw[span]): as a start (the character's own
    position) and as an exclusive end (just after the characters before it)."""
    starts, ends, out, pending = [], [], 0, False
    for i in range(span.start, span.end):
        ends.append(out)
        if raw[i].isspace():
            pending = out > 0
            starts.append(out + (1 if out > 0 else 0))
        else:
            out += 1 if pending else 0
            starts.append(out)
            out += 1
            pending = False
    starts.append(out)
    ends.append(out)
    return starts, ends


def _target_fields(cell: str, span: Span, target: TableTarget, where: str) -> dict[str, Any]:
    """The target mention and its offsets in the paragraph text (None when the target is not
    mentioned), and for a wide table its label. `cell` is the normalised cell, `target` in it."""
    label = {target.label_column: target.label} if target.label_column else {}
    if target.start is None:
        return {"target": target.mention, "target_start": None, "target_end": None, **label}
    starts, ends = normalized_offsets(cell, span)
    clip = lambda k: min(max(k, span.start), span.end) - span.start  # noqa: E731
    begin, finish = starts[clip(target.start)], ends[clip(target.end)]
    if normalize_ws(cell[span.start:span.end])[begin:finish] != normalize_ws(cell[target.start:target.end]):
        raise AssertionError(f"{where}: target offsets lost in whitespace normalisation")  # a bug, not bad input
    return {"target": target.mention, "target_start": begin, "target_end": finish, **label}


def _document_paragraphs(text: str, corpus: CorpusConfig) -> list[Span]:
    """A table cell holding a whole article: one paragraph per non-empty line, long ones chunked."""
    spans = []
    for line in iter_lines(text):
        line = strip_span(text, line)
        if line.end > line.start:
            spans.extend(chunk_span(text, line, corpus.chunk_above_chars, corpus.chunk_target_chars))
    return spans


def _cell(record: dict[str, Any], column: str | None) -> str | None:
    if column is None:
        return None
    value = record.get(column)
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    value = str(value).strip()
    # A cell of only zero-width or other format characters names nothing (ingest drops them).
    return value if visible(value) else None


def _plain(value: Any) -> Any:
    if isinstance(value, float) and pd.isna(value):
        return None
    if isinstance(value, (dict, list)):  # nested JSON (a `meta` object): one JSON string per row
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value


def to_dataset(frame: pd.DataFrame):
    """The paragraph table as a Hugging Face `datasets.Dataset`."""
    import datasets

    return datasets.Dataset.from_pandas(frame, preserve_index=False)


def summarize(frame: pd.DataFrame, report: IngestReport) -> dict[str, Any]:
    actor_counts: dict[str, int] = {}
    for actors in frame["actors"]:
        for actor in actors:
            actor_counts[actor] = actor_counts.get(actor, 0) + 1
    clusters = frame.groupby("cluster_id")["doc_id"].nunique()
    dropped = pd.DataFrame(report.dropped, columns=["source", "line", "start", "end", "reason", "rule"])
    return {
        "files_read": report.files,
        "files_skipped": len(report.skipped),
        "skipped": [{"file": f, "why": w} for f, w in report.skipped],
        "documents": int(frame["doc_id"].nunique()),
        "paragraphs": int(len(frame)),
        "outlets": {str(k): int(v) for k, v in
                    frame["outlet"].fillna("(unknown)").value_counts().sort_index().items()},
        "story_clusters": int(frame["cluster_id"].nunique()),
        "multi_document_stories": int((clusters > 1).sum()),
        "near_duplicate_groups": int((frame["dup_group"].value_counts() > 1).sum()),
        "actor_paragraphs": actor_counts,
        "lines_dropped": {str(k): int(v) for k, v in dropped["reason"].value_counts().sort_index().items()},
        "html_extracted": len(report.extractions),
    }
