from stance.config import DataConfig
from stance.corpus.ingest import IngestReport, ingest, read_page_text
from stance.corpus.normalize import clean


def test_aggregator_page_is_split_into_lead_and_related_articles(aggregator_page, defaults):
    corpus, schema = defaults
    frame = ingest(DataConfig(path=str(aggregator_page)), corpus, schema)
    docs = frame.groupby("doc_id").agg(outlet=("outlet", "first"), title=("title", "first"),
                                       date=("date", "first"), n=("text", "size"))
    assert list(docs["outlet"]) == ["Gazette Weekly", "River Post", "Valley Times"]
    assert docs["title"].iloc[1] == "Bridge repairs delayed again as budget dispute drags on"
    assert docs["date"].iloc[0] == "2025-04-03"  # day first, as the page writes it


def test_boilerplate_is_dropped_and_broken_sentences_rejoined(aggregator_page, defaults):
    corpus, schema = defaults
    report = IngestReport()
    frame = ingest(DataConfig(path=str(aggregator_page)), corpus, schema, report)
    texts = list(frame["text"])
    joined = " ".join(texts)
    for junk in ("Live Events", "Try Our AI Features", "No comments", "Related Articles", "STORY CONTINUES",
                 "About the Author", "DOWNLOAD THE APP", "logo"):
        assert junk not in joined
    assert texts[0].startswith("The port authority said") and texts[0].endswith("three months .")
    # The ad marker splits the one-line body; the author blurb at its end is dropped.
    assert "The city council said the bridge would stay closed until autumn." in texts
    assert any(t.startswith("Engineers had warned") and t.endswith("cutting grants.") for t in texts)
    assert not any("teaser headline" in t for t in texts)
    reasons = {d["reason"] for d in report.dropped}
    assert {"boilerplate", "inline-boilerplate", "header", "title", "stop"} <= reasons


def test_offsets_point_at_the_paragraph_text(aggregator_page, defaults):
    corpus, schema = defaults
    frame = ingest(DataConfig(path=str(aggregator_page)), corpus, schema)
    source = read_page_text(aggregator_page / "page.txt")
    for row in frame.itertuples():
        assert clean(source[row.start:row.end]) == row.text


def test_actor_mentions_are_marked(aggregator_page, defaults):
    corpus, schema = defaults
    frame = ingest(DataConfig(path=str(aggregator_page)), corpus, schema)
    row = frame[frame["text"].str.startswith("Officials from Moscow")].iloc[0]
    assert row["actors"] == ["Russia", "Ukraine"]
    spans = {(s["actor"], row["text"][s["start"]:s["end"]]) for s in row["actor_spans"]}
    assert spans == {("Russia", "Moscow"), ("Ukraine", "Kyiv")}


def test_binary_and_non_utf8_files_are_skipped_and_counted(aggregator_page, defaults):
    corpus, schema = defaults
    (aggregator_page / "bad.txt").write_bytes(b"caf\xe9 au lait\n")
    (aggregator_page / "blob.txt").write_bytes(b"\x00\x01\x02binary")
    report = IngestReport()
    frame = ingest(DataConfig(path=str(aggregator_page)), corpus, schema, report)
    assert len(frame) > 0
    skipped = {p.split("/")[-1]: why for p, why in report.skipped}
    assert "not UTF-8" in skipped["bad.txt"] and skipped["blob.txt"] == "binary file"


BROKEN_LINES_PAGE = """Envoys return to the lakeside talks

The delegation met Gov.
Harlan Price and the mayor on Monday to discuss the ferry timetable for the coming winter.
Officials said the schedule was agreed on Feb.
12 after two rounds of talks in the old customs house.
A statement thanked J.
R. Okafor for chairing the session and praised the harbour staff for their patience.
The talks were the first since the U.S.
embassy reopened its consular section in the port city last spring.
The harbour board then met the U.S.
The chairman said a decision on fees would follow within a month of the meeting.
"""


def test_lines_broken_after_abbreviations_and_initials_are_rejoined(tmp_path, defaults):
    corpus, schema = defaults
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "page.txt").write_text(BROKEN_LINES_PAGE, encoding="utf-8")
    texts = list(ingest(DataConfig(path=str(tmp_path / "p")), corpus, schema)["text"])
    assert texts[0].startswith("The delegation met Gov. Harlan Price and the mayor")
    assert any(t.startswith("Officials said the schedule was agreed on Feb. 12 after") for t in texts)
    assert any(t.startswith("A statement thanked J. R. Okafor for chairing") for t in texts)
    # An ambiguous abbreviation joins a lower-case continuation ...
    assert any(t.startswith("The talks were the first since the U.S. embassy reopened") for t in texts)
    # ... but not a new sentence: "U.S." can end one.
    assert "The harbour board then met the U.S." in texts
    assert texts[-1].startswith("The chairman said a decision")
