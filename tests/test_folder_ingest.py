"""Folders of tables and pages as users lay them out: the same file name in two subfolders,
settings that only a folder of tables reads, invisible names, and folders that mix encodings
(adversarial findings B10-B14). Every sentence here is invented for these tests."""

import json
from pathlib import Path

import pandas as pd
import pytest
from pydantic import ValidationError

from stance.config import DataConfig, SourceLayout, SpeakerRules
from stance.corpus.__main__ import main as corpus_main
from stance.corpus.ingest import IngestReport, id_keys, ingest
from stance.errors import StanceError

BODY = "Harbour Notes\n\nThe council of Velmora voted to repair the northern pier before the storms.\n\nEND"


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def two_news_folders(root: Path) -> Path:
    write_jsonl(root / "a" / "news.jsonl", [{"text": BODY, "title": "Pier"},
                                            {"text": "Officials in Velmora said the ferry will run again on Monday.",
                                             "title": "Ferry"}])
    write_jsonl(root / "b" / "news.jsonl", [{"text": BODY, "title": "Pier"}])
    return root


def documents(root: Path, **extra) -> DataConfig:
    return DataConfig.model_validate({"path": str(root), "format": "jsonl", "rows_are": "documents",
                                      "columns": {"doc_id": None, "paragraph_id": None, "outlet": None}, **extra})


# ---------------------------------------------------------------- B10/B11 ids and sources


def test_the_same_file_name_in_two_subfolders_gets_ids_and_dropped_lines_by_path(tmp_path, defaults):
    corpus, schema = defaults
    root = two_news_folders(tmp_path / "f")
    report = IngestReport()
    data = documents(root, sources={"a/news.jsonl": {"outlet": "Alpha", "body": "blank_lines"},
                                    "b/news.jsonl": {"outlet": "Beta", "body": "blank_lines"}})
    frame = ingest(data, corpus, schema, report)
    assert frame["paragraph_id"].is_unique
    assert set(frame["doc_id"]) == {"a/news:1", "a/news:2", "b/news:1"}
    assert set(frame["source"]) == {"a/news.jsonl", "b/news.jsonl"}
    # the short lines of both files, each named by its path under data.path, as the paragraphs are
    dropped = pd.DataFrame(report.dropped)
    assert sorted(set(dropped["source"])) == ["a/news.jsonl", "b/news.jsonl"]


def test_ids_keep_the_stem_where_it_is_unique(tmp_path, defaults):
    corpus, schema = defaults
    root = tmp_path / "f"
    write_jsonl(root / "kremlin" / "kremlin.jsonl", [{"text": "The envoy of Velmora met the mayor at noon today."}])
    write_jsonl(root / "house" / "house.jsonl", [{"text": "The mayor of Velmora thanked the envoy for the visit."}])
    frame = ingest(documents(root), corpus, schema)
    assert sorted(frame["paragraph_id"]) == ["house:1:0", "kremlin:1:0"]


def test_id_keys_fall_back_to_the_path_then_to_the_suffix(tmp_path):
    files = [tmp_path / "news.csv", tmp_path / "news.jsonl", tmp_path / "a" / "news.csv", tmp_path / "other.csv"]
    keys = id_keys(files, tmp_path)
    assert keys == {files[0]: "news.csv", files[1]: "news.jsonl", files[2]: "a/news", files[3]: "other"}


def test_pages_with_one_stem_and_two_suffixes_get_distinct_ids(tmp_path, defaults):
    corpus, schema = defaults
    folder = tmp_path / "pages"
    folder.mkdir()
    text = ("Velmora Harbour Bulletin\n\nThe council of Velmora voted on Tuesday to repair the northern pier before "
            "the winter storms arrive.\n")
    (folder / "pier.txt").write_text(text, encoding="utf-8")
    (folder / "pier.md").write_text(text.replace("Tuesday", "Friday"), encoding="utf-8")
    (folder / "ferry.txt").write_text(text.replace("pier", "ferry"), encoding="utf-8")
    frame = ingest(DataConfig(path=str(folder), format="pages"), corpus, schema)
    assert frame["paragraph_id"].is_unique
    assert {d.split(":")[0] for d in frame["doc_id"]} == {"pier.md", "pier.txt", "ferry"}


def test_split_files_of_one_name_in_two_folders_get_distinct_ids(tmp_path, defaults):
    corpus, schema = defaults
    for split in ("train", "test"):
        path = tmp_path / split / "data.csv"
        path.parent.mkdir()
        path.write_text("text\nThe council of Velmora voted to repair the pier.\n", encoding="utf-8")
    data = DataConfig(path=str(tmp_path), format="csv", split_files={"train": "train/data.csv", "test": "test/data.csv"})
    frame = ingest(data, corpus, schema)
    assert sorted(frame["paragraph_id"]) == ["test/data:1:0", "train/data:1:0"]
    assert sorted(frame["source"]) == ["test/data.csv", "train/data.csv"]


# ---------------------------------------------------------------- B12 invisible names


@pytest.mark.parametrize("name", ["\u200b", "\u00ad", "\ufeff", " \u200b\t", "\u2060\u200e"])
def test_an_invisible_outlet_or_joiner_is_refused(name):
    with pytest.raises(ValidationError, match="visible"):
        SourceLayout(outlet=name)
    with pytest.raises(ValidationError, match="visible"):
        SourceLayout(body="joined", joiner=name)
    with pytest.raises(ValidationError, match="visible pattern"):
        SpeakerRules(official=[name])


def test_a_saved_layout_with_defaults_is_accepted():
    saved = SourceLayout().model_dump()
    assert SourceLayout.model_validate(saved) == SourceLayout()
    assert SourceLayout(outlet=" Velmora Post ").outlet == "Velmora Post"


def test_an_invisible_outlet_cell_is_no_outlet(tmp_path, defaults):
    corpus, schema = defaults
    path = write_jsonl(tmp_path / "t.jsonl", [{"text": "The mayor of Velmora opened the bridge.", "outlet": "\u200b"}])
    frame = ingest(DataConfig(path=str(path)), corpus, schema)
    assert frame["outlet"].isna().all()


def test_an_invisible_outlet_in_a_config_file_is_one_line_naming_it(tmp_path, capsys):
    root = two_news_folders(tmp_path / "f")
    config = tmp_path / "c.yaml"
    config.write_text(f"name: x\ndata:\n  path: {root}\n  format: jsonl\n  rows_are: documents\n  sources:\n"
                      '    a/news.jsonl: {outlet: "\\u200b"}\n    b/news.jsonl: {}\n', encoding="utf-8")
    assert corpus_main([str(root), "--config", str(config), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "c.yaml:7: data.sources.a/news.jsonl.outlet" in err
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- B13 settings a path does not read


@pytest.mark.parametrize("extra, field", [
    ({"sources": {"one.jsonl": {"outlet": "Alpha"}}}, "data.sources"),
    ({"same_story": ["title"]}, "data.same_story"),
    ({"speakers": {"official": ["MS\\. HALE"]}}, "data.speakers"),
])
def test_folder_settings_on_one_file_are_refused(tmp_path, defaults, extra, field):
    corpus, schema = defaults
    path = write_jsonl(tmp_path / "one.jsonl", [{"text": BODY, "title": "Pier"}])
    with pytest.raises(StanceError, match=f"^{field}: read only|^{field}: joins") as caught:
        ingest(DataConfig.model_validate({"path": str(path), "rows_are": "documents", **extra}), corpus, schema)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_sources_on_a_folder_of_pages_are_refused(tmp_path, defaults):
    corpus, schema = defaults
    (tmp_path / "p.txt").write_text("The council of Velmora voted to repair the pier.\n", encoding="utf-8")
    data = DataConfig.model_validate({"path": str(tmp_path), "format": "pages", "rows_are": "documents",
                                      "sources": {"p.txt": {"outlet": "Alpha"}}})
    with pytest.raises(StanceError, match="data.sources: read only for a folder of tables"):
        ingest(data, corpus, schema)


def test_speakers_without_document_sources_are_refused(tmp_path, defaults):
    corpus, schema = defaults
    root = two_news_folders(tmp_path / "f")
    with pytest.raises(StanceError, match="data.speakers: read only with data.sources"):
        ingest(DataConfig(path=str(root), format="jsonl", speakers={"official": ["X"]}), corpus, schema)


def test_a_folder_of_one_table_format_is_read_as_tables_with_format_auto(tmp_path, defaults):
    corpus, schema = defaults
    root = two_news_folders(tmp_path / "f")
    report = IngestReport()
    frame = ingest(DataConfig(path=str(root), rows_are="documents"), corpus, schema, report)
    assert set(frame["source"]) == {"a/news.jsonl", "b/news.jsonl"} and not report.skipped


def test_a_folder_of_two_table_formats_asks_for_data_format(tmp_path, defaults):
    corpus, schema = defaults
    root = two_news_folders(tmp_path / "f")
    (root / "c.csv").write_text("text\nThe mayor of Velmora opened the bridge.\n", encoding="utf-8")
    with pytest.raises(StanceError, match=r"holds csv and jsonl tables and no page files; set data.format"):
        ingest(DataConfig(path=str(root)), corpus, schema)


def test_tables_beside_pages_are_skipped_with_a_pointer_to_data_format(tmp_path, defaults):
    corpus, schema = defaults
    (tmp_path / "p.txt").write_text("The council of Velmora voted to repair the pier before winter.\n",
                                    encoding="utf-8")
    (tmp_path / "t.csv").write_text("text\nThe mayor of Velmora opened the bridge.\n", encoding="utf-8")
    report = IngestReport()
    ingest(DataConfig(path=str(tmp_path)), corpus, schema, report)
    assert [w for f, w in report.skipped if f.endswith("t.csv")][0].endswith("set data.format: csv")


# ---------------------------------------------------------------- B14 encodings per file


def mixed_encodings(root: Path) -> Path:
    root.mkdir()
    (root / "a.csv").write_text("id,text\np1,Der Bürgermeister von Velmora lobte die neue Brücke.\n", encoding="utf-8")
    (root / "b.csv").write_bytes("id,text\np2,维尔莫拉市长说新桥很好。\n".encode("gbk"))
    return root


def test_a_utf8_file_read_with_another_data_encoding_is_refused(tmp_path, defaults):
    corpus, schema = defaults
    root = mixed_encodings(tmp_path / "f")
    data = DataConfig(path=str(root), format="csv", encoding="gbk", columns={"paragraph_id": "id"})
    with pytest.raises(StanceError, match=r"a.csv: is UTF-8 text .* data.encoding reads it as gbk") as caught:
        ingest(data, corpus, schema)
    assert "\n" not in str(caught.value)
    # one file, too
    with pytest.raises(StanceError, match=r"a.csv: is UTF-8 text"):
        ingest(data.model_copy(update={"path": str(root / "a.csv")}), corpus, schema)


@pytest.mark.parametrize("default, sources", [
    ("gbk", {"a.csv": {"encoding": "utf-8"}, "b.csv": {}}),
    ("utf-8", {"a.csv": {}, "b.csv": {"encoding": "gbk"}}),
])
def test_each_file_of_a_folder_may_have_its_own_encoding(tmp_path, defaults, default, sources):
    corpus, schema = defaults
    root = mixed_encodings(tmp_path / "f")
    data = DataConfig.model_validate({"path": str(root), "format": "csv", "encoding": default,
                                      "columns": {"paragraph_id": "id"}, "sources": sources})
    texts = ingest(data, corpus, schema).set_index("paragraph_id")["text"]
    assert texts["p1"] == "Der Bürgermeister von Velmora lobte die neue Brücke."
    assert texts["p2"] == "维尔莫拉市长说新桥很好。"


def test_an_unknown_per_file_encoding_is_refused():
    with pytest.raises(ValidationError, match="unknown text encoding 'gbkk'"):
        SourceLayout(encoding="gbkk")


def test_a_paragraph_table_folder_entry_may_not_set_a_body(tmp_path, defaults):
    corpus, schema = defaults
    root = mixed_encodings(tmp_path / "f")
    data = DataConfig.model_validate({"path": str(root), "format": "csv", "columns": {"paragraph_id": "id"},
                                      "sources": {"a.csv": {"body": "one_line"}, "b.csv": {"encoding": "gbk"}}})
    with pytest.raises(StanceError, match=r"data.sources.a.csv.body: describes document bodies"):
        ingest(data, corpus, schema)
