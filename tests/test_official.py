"""Document bodies as scrapers leave them, speaker turns, folders of tables, repeated items and the
seeded annotation sample (issue 18, items 1-2). Every body here is invented for these tests; the
last tests read a few documents of ../shared/data/official-statements at run time."""

import json
from pathlib import Path

import pandas as pd
import pytest
from pydantic import ValidationError

from stance.annotate.__main__ import main as annotate_main
from stance.annotate.sample import SampleDesign, draw_sample, eligible
from stance.config import DataConfig, load_config
from stance.corpus.bodies import SpeakerRoles, body_paragraphs
from stance.corpus.ingest import IngestReport, ingest
from stance.corpus.normalize import clean
from stance.errors import StanceError
from tests.conftest import REPO

ROLES = SpeakerRoles.compile(["MS. HALE", "THE PRESIDENT", "Ivan Sidorov"], ["Q", "Question"])
OFFICIAL = REPO.parent / "shared" / "data" / "official-statements"

BRIEFING = """Briefing Room B

1:02 P.M. EDT

MS. HALE:  Good afternoon, everyone.  Today we are announcing a new
package of winter aid for Ukraine, which our partners in Europe will
match.

And one more thing on the schedule before questions.

Q    Thank you.  Does the package include
air defence for Kyiv?

MS. HALE:  I will not get ahead of the Pentagon on that.

MR. OKAFOR:  Thank you, Karine, for having me here today.

END"""


def texts(text, paragraphs):
    return [" ".join(text[p.span.start:p.span.end].split()) for p in paragraphs]


def test_blank_line_blocks_join_hard_wraps_and_tag_speakers():
    paras = body_paragraphs(BRIEFING, "blank_lines", ROLES, 1000, 600)
    got = list(zip(texts(BRIEFING, paras), [p.speaker for p in paras], [p.role for p in paras]))
    assert got[0] == ("Briefing Room B", None, "institution")
    assert got[2] == ("Good afternoon, everyone. Today we are announcing a new package of winter aid for Ukraine, "
                      "which our partners in Europe will match.", "MS. HALE", "official")
    # an unlabelled block continues the turn before it
    assert got[3] == ("And one more thing on the schedule before questions.", "MS. HALE", "official")
    assert got[4] == ("Thank you. Does the package include air defence for Kyiv?", "Q", "reporter")
    assert got[6][1:] == ("MR. OKAFOR", "other")
    assert got[-1] == ("END", "MR. OKAFOR", "other")  # no colon: not a label; short lines are the caller's


def test_a_body_with_one_label_is_no_transcript():
    body = "Note: the meeting was moved.\n\nThe two delegations met on Tuesday."
    paras = body_paragraphs(body, "blank_lines", ROLES, 1000, 600)
    assert [p.role for p in paras] == ["institution", "institution"]
    assert texts(body, paras)[0] == "Note: the meeting was moved."


def test_one_line_body_is_cut_at_turns_and_reporters_are_known_by_their_introduction():
    body = ("The President met the press after the summit. Anna Petrova: Anna Petrova, Channel Five. What did the "
            "summit decide? President of the Republic Ivan Sidorov: We agreed on grain corridors. We also spoke "
            "about prices. Anna Petrova: And what about the sanctions? Ivan Sidorov: They will not work.")
    paras = body_paragraphs(body, "one_line", ROLES, 1000, 600)
    got = list(zip(texts(body, paras), [p.speaker for p in paras], [p.role for p in paras]))
    assert got[0] == ("The President met the press after the summit.", None, "institution")
    assert got[1] == ("Anna Petrova, Channel Five. What did the summit decide?", "Anna Petrova", "reporter")
    # a label with a title in it is still a label (and the role patterns can allow the title)
    assert got[2] == ("We agreed on grain corridors. We also spoke about prices.",
                      "President of the Republic Ivan Sidorov", "other")
    assert got[4][1:] == ("Ivan Sidorov", "official")
    # her second turn carries no introduction, and is still a reporter's
    assert got[3] == ("And what about the sanctions?", "Anna Petrova", "reporter")


def test_one_line_body_without_turns_becomes_sentence_windows():
    sentence = "The council met again on Friday to discuss the harbour fees and the winter ferry timetable. "
    body = sentence * 12
    paras = body_paragraphs(body, "one_line", ROLES, 1000, 300)
    assert len(paras) >= 4
    assert all(p.span.end - p.span.start <= 300 for p in paras)
    assert " ".join(texts(body, paras)) == " ".join(body.split())


def test_joined_body_is_cut_after_sentence_ends_only():
    body = ", Dear friends!, We are grateful to Poland, Lithuania, and Latvia., Glory to the defenders!"
    paras = body_paragraphs(body, "joined", ROLES, 1000, 600)
    assert texts(body, paras) == ["Dear friends!", "We are grateful to Poland, Lithuania, and Latvia.",
                                  "Glory to the defenders!"]


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "official"
    write_jsonl(root / "news" / "news.jsonl", [
        {"doc_id": "n1", "source": "news", "date": "2022-03-01", "title": "Address to the nation",
         "url": "https://example.org/n1", "meta": {"k": 1},
         "text": "The President thanked the defenders of Kyiv for their courage. Russia must stop the shelling of "
                 "cities at once. The address ended with a call for unity across Ukraine today."},
        {"doc_id": "n2", "source": "news", "date": "2022-03-02", "title": "Meeting on grain exports",
         "url": "https://example.org/n2", "meta": {},
         "text": "The grain ministers met in Lviv to plan the spring sowing, and the Washington envoy attended."}])
    write_jsonl(root / "speeches" / "speeches.jsonl", [
        {"doc_id": "s1", "source": "speeches", "date": "2022-03-01", "title": "ADDRESS to the  nation", "url": None,
         "meta": {}, "text": ", Dear Ukrainians!, We are grateful to Europe and to the United States for help., "
                             "Glory to Ukraine!"}])
    write_jsonl(root / "house" / "house.jsonl", [
        {"doc_id": "h1", "source": "house", "date": "2022-03-01", "title": "Press Briefing", "url": "u", "meta": {},
         "text": BRIEFING},
        {"doc_id": "h2", "source": "house", "date": "2022-03-01", "title": "Press Briefing", "url": "u2", "meta": {},
         "text": "Today the United States announced new sanctions on Russian banks,\nwith our partners in the European\n"
                 "Union.\n\nThe measures take effect at once."}])
    return root


def folder_data(root: Path, **extra) -> DataConfig:
    return DataConfig.model_validate({
        "path": str(root), "format": "jsonl", "rows_are": "documents", "same_story": ["title", "date"],
        "columns": {"outlet": None, "paragraph_id": None},
        "sources": {"news/news.jsonl": {"outlet": "Kyiv office", "body": "one_line"},
                    "speeches/speeches.jsonl": {"outlet": "Kyiv office", "body": "joined"},
                    "house/house.jsonl": {"outlet": "Washington office", "body": "blank_lines"}},
        "speakers": {"official": ["MS\\. HALE"]}, **extra})


def test_a_folder_of_tables_is_read_with_each_files_layout(folder, defaults):
    corpus, schema = defaults
    corpus = corpus.model_copy(update={"chunk_above_chars": 120, "chunk_target_chars": 100})
    report = IngestReport()
    frame = ingest(folder_data(folder), corpus, schema, report)
    assert set(frame["source"]) == {"news/news.jsonl", "speeches/speeches.jsonl", "house/house.jsonl"}
    assert set(frame["outlet"]) == {"Kyiv office", "Washington office"}
    assert frame.loc[frame["doc_id"] == "n1", "n_words"].max() <= 25  # one-line body cut into windows
    house = frame[frame["doc_id"] == "h2"]
    assert house.iloc[0]["text"].startswith("Today the United States announced new sanctions on Russian banks, with our")
    roles = frame[frame["doc_id"] == "h1"].set_index("text")["speaker_role"]
    assert roles["Thank you. Does the package include air defence for Kyiv?"] == "reporter"
    assert json.loads(frame.loc[frame["doc_id"] == "n1", "meta"].iloc[0]) == {"k": 1}
    assert set(frame["table_source"]) == {"news", "speeches", "house"}  # the JSONL field kept beside ours
    # short lines (a room name, a time, END) are dropped and recorded stand-off, without text
    assert {d["reason"] for d in report.dropped} == {"fewer than 4 words"}
    assert all("text" not in d for d in report.dropped)
    # every paragraph points back into its document's text
    bodies = {}
    for file in folder.rglob("*.jsonl"):
        for line in file.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            bodies[row["doc_id"]] = row["text"]
    for row in frame.itertuples():
        assert clean(bodies[row.doc_id][row.start:row.end]) == row.text


def test_an_item_published_in_two_files_is_one_story(folder, defaults):
    corpus, schema = defaults
    frame = ingest(folder_data(folder), corpus, schema)
    docs = frame.drop_duplicates("doc_id").set_index("doc_id")
    assert docs.loc["s1", "repeat_of"] == "n1"  # same title (case and spaces aside) and date, other file
    assert docs.loc["s1", "cluster_id"] == docs.loc["n1", "cluster_id"]
    # same title and date within one file: two different briefings, not a repeat
    assert pd.isna(docs.loc["h2", "repeat_of"]) and docs.loc["h1", "cluster_id"] != docs.loc["h2", "cluster_id"]


def test_a_source_key_naming_no_file_is_refused(folder, defaults):
    corpus, schema = defaults
    data = folder_data(folder)
    data.sources["news/nesw.jsonl"] = data.sources["news/news.jsonl"]
    with pytest.raises(StanceError, match=r"data.sources.news/nesw.jsonl: no such file"):
        ingest(data, corpus, schema)


def test_the_sample_is_seeded_stratified_and_excludes_what_it_should(folder, defaults):
    corpus, schema = defaults
    frame = ingest(folder_data(folder), corpus, schema)
    design = SampleDesign(per_stratum=1, seed=7, date_from="2022-03-01", date_to="2022-03-31")
    pool = eligible(frame, design)
    assert not (pool["speaker_role"] == "reporter").any()
    assert pool["repeat_of"].isna().all() and (pool["actors"].map(len) > 0).all()
    assert "s1" not in set(pool["doc_id"])
    first, again = draw_sample(frame, design), draw_sample(frame, design)
    pd.testing.assert_frame_equal(first, again)
    assert list(first["outlet"]) == ["Kyiv office", "Washington office"]
    sizes = pool.groupby("outlet").size()
    for row in first.itertuples():
        assert row.inclusion_probability == pytest.approx(1 / sizes[row.outlet])
        assert row.design_weight == pytest.approx(sizes[row.outlet])
    assert "text" not in first.columns
    with pytest.raises(StanceError, match="fewer than the 50 asked for"):
        draw_sample(frame, SampleDesign(per_stratum=50, seed=7))


def test_sample_and_export_commands(folder, tmp_path, capsys):
    config = tmp_path / "official.yaml"
    data = folder_data(folder).model_dump(mode="json")
    config.write_text(json.dumps({"name": "t", "data": data, "corpus": {"chunk_above_chars": 120,
                                                                          "chunk_target_chars": 100}}), encoding="utf-8")
    out = tmp_path / "sample.csv"
    argv = ["sample", str(folder), "--config", str(config), "--per-outlet", "1", "--seed", "3", "--out", str(out)]
    assert annotate_main(argv) == 0
    assert "inclusion probability" in capsys.readouterr().out
    assert annotate_main(argv) == 2  # never overwrites
    assert annotate_main([*argv[:-1], str(tmp_path / "x.csv"), "--from", "March 1"]) == 2
    assert "--from: expected a date YYYY-MM-DD" in capsys.readouterr().err
    export = tmp_path / "export"
    assert annotate_main(["export", str(folder), "--config", str(config), "--ids", str(out), "--out", str(export)]) == 0
    sheet = pd.read_csv(export / "labels.csv", dtype=str)
    assert list(sheet["paragraph_id"]) == list(pd.read_csv(out, dtype=str)["paragraph_id"])
    assert {"speaker", "title", "date"} <= set(sheet.columns)


@pytest.fixture
def official_subset(tmp_path):
    """The first documents of each official-statements file (read at run time, not copied)."""
    if not OFFICIAL.is_dir():
        pytest.skip("../shared/data/official-statements is not present beside the checkout")
    root = tmp_path / "official"
    for file in OFFICIAL.rglob("*.jsonl"):
        lines = file.read_text(encoding="utf-8").splitlines()
        picked = [line for line in lines if json.loads(line)["date"].startswith("2022-03")][:12]
        target = root / file.relative_to(OFFICIAL)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("\n".join(picked) + "\n", encoding="utf-8")
    return root


def test_official_config_reads_every_publisher(official_subset):
    cfg = load_config(REPO / "configs" / "official.yaml")
    frame = ingest(cfg.data.model_copy(update={"path": str(official_subset), "annotations": None}), cfg.corpus,
                   cfg.label_schema)
    assert set(frame["outlet"]) == {"President of Russia", "President of Ukraine", "White House"}
    assert frame["date"].str.startswith("2022-03").all()
    # paragraphs are paragraph-sized, not whole one-line bodies
    assert frame.groupby("outlet")["n_words"].median().max() < 150
    assert frame["n_words"].max() < 250
    house = frame[frame["outlet"] == "White House"]
    if (house["speaker"] == "Q").any():
        assert (house.loc[house["speaker"] == "Q", "speaker_role"] == "reporter").all()


def test_the_official_configs_read_the_same_corpus():
    from stance.config import load_experiment

    single = load_config(REPO / "configs" / "official.yaml")
    experiment = load_experiment(REPO / "configs" / "official-compare.yaml")
    assert experiment.data == single.data and experiment.corpus == single.corpus
    assert single.data.annotations == "builtin:official-gold"


OFFICIAL_LABELS = REPO / "stance" / "data" / "official"


def test_official_gold_is_the_adjudication_of_the_two_passes():
    """Re-running the documented adjudication reproduces the committed gold file exactly, and
    every disagreement has a written reason."""
    from stance.annotate.agreement import adjudicate
    from stance.annotate.standoff import standoff_table
    from stance.annotate.labels import wide_labels

    passes = [pd.read_csv(OFFICIAL_LABELS / f, dtype=str) for f in ("pass-a.csv", "pass-b.csv")]
    adjudicator = pd.read_csv(OFFICIAL_LABELS / "adjudicator.csv", dtype=str)
    notes = pd.read_csv(OFFICIAL_LABELS / "adjudication-notes.csv", dtype=str)
    gold, ties = adjudicate(pd.concat(passes, ignore_index=True), adjudicator)
    assert ties.empty
    anchors = pd.read_csv(OFFICIAL_LABELS / "sample.csv", dtype={"paragraph_id": str, "text_sha1": str})
    rebuilt = standoff_table(anchors, wide_labels(gold.assign(annotator="gold")))
    committed = pd.read_csv(OFFICIAL_LABELS / "gold.csv", dtype={"paragraph_id": str, "text_sha1": str})
    pd.testing.assert_frame_equal(rebuilt.reset_index(drop=True), committed, check_dtype=False)
    # every item the passes split on was decided with a reason
    a, b = (p.set_index(["paragraph_id", "field"])["label"] for p in passes)
    split = set(a.index[(a != b.reindex(a.index)).to_numpy()])
    assert split == set(zip(notes["paragraph_id"], notes["field"]))
    assert notes["reason"].str.split().str.len().min() >= 5


def test_official_passes_cover_the_sample_and_its_actors(defaults):
    _, schema = defaults
    sample = pd.read_csv(OFFICIAL_LABELS / "sample.csv", dtype=str, keep_default_na=False)
    assert len(sample) == 600 and (sample.groupby("outlet").size() == 200).all()
    for name in ("pass-a.csv", "pass-b.csv"):
        labels = pd.read_csv(OFFICIAL_LABELS / name, dtype=str)
        assert set(labels["paragraph_id"]) == set(sample["paragraph_id"])
        got = set(zip(labels["paragraph_id"], labels["field"]))
        expected = {(p, f) for p, actors in zip(sample["paragraph_id"], sample["actors"])
                    for f in ["framing", "sentiment", *(f"stance:{x}" for x in actors.split("|"))]}
        assert got == expected
        assert set(labels.loc[labels["field"] == "framing", "label"]) <= set(schema.framing_classes)


def test_a_reporters_q_inside_a_one_line_body_is_a_reporter_turn():
    body = ("The meeting ended at noon. Q: Will the talks go on? Ivan Sidorov: They will, next week. "
            "Q: Where? Ivan Sidorov: In Minsk.")
    paras = body_paragraphs(body, "one_line", ROLES, 1000, 600)
    assert [(p.speaker, p.role) for p in paras][1:3] == [("Q", "reporter"), ("Ivan Sidorov", "official")]


def test_missing_titles_never_make_a_story(folder, defaults):
    corpus, schema = defaults
    for path in (folder / "news" / "news.jsonl", folder / "speeches" / "speeches.jsonl"):
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        write_jsonl(path, [{**r, "title": None} for r in rows])
    frame = ingest(folder_data(folder), corpus, schema)
    assert frame["repeat_of"].isna().all()


def test_a_file_without_a_sources_entry_is_refused(folder, defaults):
    corpus, schema = defaults
    write_jsonl(folder / "extra.jsonl", [{"doc_id": "x1", "date": "2022-03-01", "title": "t", "url": None,
                                          "text": "A short note about Kyiv and Moscow talks."}])
    with pytest.raises(StanceError, match=r"extra.jsonl: no data.sources entry for this file"):
        ingest(folder_data(folder), corpus, schema)


def test_sample_checks_every_output_and_date_before_writing(folder, tmp_path, capsys):
    config = tmp_path / "official.yaml"
    config.write_text(json.dumps({"name": "t", "data": folder_data(folder).model_dump(mode="json")}), encoding="utf-8")
    frame = tmp_path / "frame.parquet"
    frame.write_bytes(b"earlier work")
    out = tmp_path / "s.csv"
    base = ["sample", str(folder), "--config", str(config), "--per-outlet", "1", "--seed", "3"]
    assert annotate_main([*base, "--out", str(out), "--frame-out", str(frame)]) == 2
    assert "--frame-out" in capsys.readouterr().err and not out.exists() and frame.read_bytes() == b"earlier work"
    assert annotate_main([*base, "--out", str(out), "--from", "2022-02-30"]) == 2
    assert "not a calendar date" in capsys.readouterr().err
    assert annotate_main([*base, "--out", str(out), "--from", "2022-06-01", "--to", "2022-03-01"]) == 2
    assert "is after --to" in capsys.readouterr().err and not out.exists()


def test_export_ids_refuses_an_empty_list_and_changed_text(folder, tmp_path, capsys):
    config = tmp_path / "official.yaml"
    config.write_text(json.dumps({"name": "t", "data": folder_data(folder).model_dump(mode="json")}), encoding="utf-8")
    sample = tmp_path / "s.csv"
    assert annotate_main(["sample", str(folder), "--config", str(config), "--per-outlet", "1", "--seed", "3",
                          "--out", str(sample)]) == 0
    empty = tmp_path / "empty.csv"
    empty.write_text("paragraph_id\n", encoding="utf-8")
    assert annotate_main(["export", str(folder), "--config", str(config), "--ids", str(empty),
                          "--out", str(tmp_path / "e1")]) == 2
    assert "no paragraph ids listed" in capsys.readouterr().err
    stale = pd.read_csv(sample, dtype=str)
    stale.loc[0, "text_sha1"] = "0" * 40
    stale.to_csv(tmp_path / "stale.csv", index=False)
    assert annotate_main(["export", str(folder), "--config", str(config), "--ids", str(tmp_path / "stale.csv"),
                          "--out", str(tmp_path / "e2")]) == 2
    assert "line 2" in capsys.readouterr().err and not (tmp_path / "e2").exists()


def test_an_id_repeated_in_two_files_names_both_files(folder, defaults):
    corpus, schema = defaults
    rows = [json.loads(line) for line in (folder / "news" / "news.jsonl").read_text(encoding="utf-8").splitlines()]
    write_jsonl(folder / "house" / "house.jsonl", [{**rows[1], "source": "house"}])
    data = folder_data(folder, columns={"outlet": None, "paragraph_id": "doc_id"})
    with pytest.raises(StanceError) as error:
        ingest(data, corpus, schema)
    message = str(error.value)
    assert "'n2" in message and "house.jsonl row 1" in message and "news.jsonl row 2" in message, message


@pytest.mark.parametrize("entry, error", [
    ({"outlet": "  "}, "outlet must be a name"),
    ({"body": "lines", "joiner": "; "}, "joiner is read only with body: joined"),
])
def test_a_source_entry_that_would_be_ignored_or_blank_is_refused(folder, entry, error):
    with pytest.raises(ValidationError, match=error):
        folder_data(folder, sources={"news/news.jsonl": entry})


def test_a_same_story_key_named_twice_is_refused(folder):
    with pytest.raises(ValidationError, match="title named more than once"):
        folder_data(folder, same_story=["title", "title"])
