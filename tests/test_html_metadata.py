"""HTML pages through trafilatura, and the metadata sidecar for raw pages (issue 16, items 9-10).
Every page here is written for these tests."""

import hashlib
import json

import pandas as pd
import pytest

from stance.config import DataConfig
from stance.corpus.__main__ import main as corpus_main
from stance.corpus.html import EXTRACTOR_SETTINGS, extract_html, trafilatura_version
from stance.corpus.ingest import IngestReport, ingest, read_page_text
from stance.corpus.normalize import clean
from stance.errors import StanceError
from tests.conftest import AGGREGATOR_PAGE

PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Ferry talks resume | Harbour Gazette</title>
<meta property="og:site_name" content="Harbour Gazette">
<meta property="og:title" content="Ferry talks resume after a long pause">
<link rel="canonical" href="https://gazette.example/2025/ferry-talks">
<meta property="article:published_time" content="2025-03-04T08:00:00Z">
</head><body>
<nav><a href="/">Home</a> <a href="/world">World</a> <a href="/sport">Sport</a></nav>
<div class="cookie-banner">We use cookies to improve your experience. <button>Accept all</button></div>
<article><h1>Ferry talks resume after a long pause</h1>
<p>The harbour board met on Monday to discuss the ferry timetable for the winter months, officials said.</p>
<p>Envoys from Moscow &amp; Kyiv were not invited, a spokesman said, adding that the talks concerned only cargo fees.</p>
<p>The Kremlin&#8217;s office declined to comment on the plan, which would take effect in the spring after a vote.</p>
<p>Share this article</p>
</article>
<aside><h3>Related</h3><ul><li><a href="/x">A story about the lighthouse keepers</a></li></ul></aside>
<footer>Copyright 2025 Harbour Gazette. All rights reserved.</footer></body></html>"""
BARE = """<html><body><div><p>Dockworkers in the southern port voted on Friday to end a strike that had lasted nine days.</p>
<p>The union said the new contract raised wages and limited night shifts during the winter season.</p></div></body></html>"""


@pytest.fixture
def html_pages(tmp_path):
    folder = tmp_path / "html"
    folder.mkdir()
    (folder / "gazette.html").write_text(PAGE, encoding="utf-8")
    (folder / "bare.htm").write_bytes(BARE.encode("utf-8"))
    return folder


def test_html_pages_give_main_text_and_metadata(html_pages, defaults):
    corpus, schema = defaults
    report = IngestReport()
    frame = ingest(DataConfig(path=str(html_pages)), corpus, schema, report)
    page = frame[frame["source"] == "gazette.html"]
    assert list(page["text"]) == [
        "The harbour board met on Monday to discuss the ferry timetable for the winter months, officials said.",
        "Envoys from Moscow & Kyiv were not invited, a spokesman said, adding that the talks concerned only cargo fees.",
        "The Kremlin’s office declined to comment on the plan, which would take effect in the spring after a vote."]
    first = page.iloc[0]
    assert (first["outlet"], first["date"], first["url"], first["title"]) == (
        "Harbour Gazette", "2025-03-04", "https://gazette.example/2025/ferry-talks", "Ferry talks resume after a long pause")
    assert list(page.iloc[1]["actors"]) == ["Russia", "Ukraine"]
    bare = frame[frame["source"] == "bare.htm"]
    assert len(bare) == 2 and bare["outlet"].isna().all()


def test_html_offsets_point_into_the_extracted_text_and_the_extraction_is_recorded(html_pages, defaults):
    corpus, schema = defaults
    report = IngestReport()
    frame = ingest(DataConfig(path=str(html_pages)), corpus, schema, report)
    records = {r["source"]: r for r in report.extractions}
    assert set(records) == {"gazette.html", "bare.htm"}
    for name, group in frame.groupby("source"):
        again = extract_html(html_pages / name)  # a re-extraction gives the same text, by hash
        assert hashlib.sha1(again.text.encode("utf-8")).hexdigest() == records[name]["text_sha1"]
        assert records[name]["version"] == trafilatura_version()
        assert json.loads(records[name]["settings"]) == EXTRACTOR_SETTINGS
        for row in group.itertuples():
            assert clean(again.text[row.start:row.end]) == row.text


def test_the_corpus_command_writes_the_extraction_record(html_pages, tmp_path):
    assert corpus_main([str(html_pages), "--out", str(tmp_path / "out")]) == 0
    table = pd.read_csv(tmp_path / "out" / "extractions.csv")
    assert set(table["source"]) == {"gazette.html", "bare.htm"} and (table["extractor"] == "trafilatura").all()


def write_sidecar(path, rows, header="file,outlet,date,url,title,note"):
    path.write_text(header + "\n" + "".join(r + "\n" for r in rows), encoding="utf-8-sig")  # a BOM, as Excel writes
    return path


def test_the_sidecar_fills_what_a_page_does_not_say(tmp_path, html_pages, aggregator_page, defaults):
    corpus, schema = defaults
    (aggregator_page / "plain.txt").write_text(
        "Ferry strike ends\n\nDockworkers voted on Friday to end the strike, the union said in a statement.\n",
        encoding="utf-8")
    sidecar = write_sidecar(tmp_path / "meta.csv", [
        "plain.txt,Coast Herald,05/04/2025,https://herald.example/strike,,from the scrape log",
        "page.txt,Another Name,2025-04-09,https://gazette.example/harbour,,",
        "not-there.txt,Nobody,,,,"])
    frame = ingest(DataConfig(path=str(aggregator_page), metadata=str(sidecar)), corpus, schema)
    docs = frame.groupby("doc_id")[["outlet", "date", "url", "title"]].first()
    assert tuple(docs.loc["plain:0"]) == ("Coast Herald", "2025-04-05", "https://herald.example/strike",
                                          "Ferry strike ends")  # day first, like the corpus
    # The page names its lead's outlet and date: kept; the URL it lacks comes from the sidecar.
    assert tuple(docs.loc["page:0", ["outlet", "date", "url"]]) == ("Gazette Weekly", "2025-04-03",
                                                                     "https://gazette.example/harbour")
    # Related items keep their own outlets and get nothing from the page's row.
    assert docs.loc["page:1", "outlet"] == "River Post" and pd.isna(docs.loc["page:1", "url"])
    html_sidecar = write_sidecar(tmp_path / "html.csv", ["bare.htm,Port Bulletin,2025-06-01,,Strike ends,"])
    html = ingest(DataConfig(path=str(html_pages), metadata=str(html_sidecar)), corpus, schema)
    assert set(html.loc[html["source"] == "bare.htm", "outlet"]) == {"Port Bulletin"}


@pytest.mark.parametrize("header, rows, message", [
    ("file,outlet,publisher", ["a.txt,X,Y"], "unknown ['publisher']"),
    ("outlet,date", ["X,2025-01-01"], "no 'file' column"),
    ("file,outlet", ["a.txt,X", "a.txt,Y"], "meta.csv:3: file 'a.txt' appears twice"),
    ("file,date", ["a.txt,the day after"], "meta.csv:2: cannot read date"),
    ("file,outlet", ["a.txt,X,extra"], "meta.csv:2: 3 fields"),
])
def test_a_bad_sidecar_is_refused_naming_file_and_line(tmp_path, aggregator_page, defaults, header, rows, message):
    corpus, schema = defaults
    sidecar = write_sidecar(tmp_path / "meta.csv", rows, header)
    with pytest.raises(StanceError, match=message.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(")):
        ingest(DataConfig(path=str(aggregator_page), metadata=str(sidecar)), corpus, schema)


def test_a_sidecar_for_a_table_is_refused(tmp_path, labelled_table, defaults):
    corpus, schema = defaults
    sidecar = write_sidecar(tmp_path / "meta.csv", ["x.txt,X,,,,"])
    with pytest.raises(StanceError, match="describes raw pages"):
        ingest(DataConfig(path=str(labelled_table), metadata=str(sidecar)), corpus, schema)


def test_the_corpus_command_takes_the_sidecar_by_flag_or_config(tmp_path, aggregator_page):
    sidecar = write_sidecar(tmp_path / "meta.csv", ["page.txt,,,https://gazette.example/harbour,,"])
    assert corpus_main([str(aggregator_page), "--metadata", str(sidecar), "--out", str(tmp_path / "a")]) == 0
    config = tmp_path / "c.yaml"
    config.write_text(f"name: c\ndata: {{metadata: {sidecar}}}\n", encoding="utf-8")
    assert corpus_main([str(aggregator_page), "--config", str(config), "--out", str(tmp_path / "b")]) == 0
    for out in ("a", "b"):
        frame = pd.read_parquet(tmp_path / out / "paragraphs.parquet")
        assert set(frame.loc[frame["doc_id"] == "page:0", "url"]) == {"https://gazette.example/harbour"}
    assert read_page_text(aggregator_page / "page.txt") == AGGREGATOR_PAGE  # the input is never touched
