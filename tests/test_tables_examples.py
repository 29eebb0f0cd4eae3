import json

import pytest

from stance.annotate.examples import build_examples
from stance.config import ColumnMap, DataConfig
from stance.corpus.ingest import ingest
from stance.errors import StanceError


def test_csv_with_mapped_columns_and_documents_split_into_paragraphs(tmp_path, defaults):
    corpus, schema = defaults
    path = tmp_path / "news.csv"
    path.write_text('id,body,source,published\n7,"First paragraph about Moscow.\n\nSecond one about Beijing.",'
                    'Daily A,2024-05-01\n', encoding="utf-8")
    data = DataConfig(path=str(path), rows_are="documents",
                      columns=ColumnMap(text="body", doc_id="id", outlet="source", date="published"))
    frame = ingest(data, corpus, schema)
    assert list(frame["paragraph_id"]) == ["7:0", "7:1"]
    assert list(frame["outlet"]) == ["Daily A", "Daily A"]
    assert [a for a in frame["actors"]] == [["Russia"], ["China"]]


def test_missing_text_column_names_file_and_columns(tmp_path, defaults):
    corpus, schema = defaults
    path = tmp_path / "t.csv"
    path.write_text("body\nhello\n", encoding="utf-8")
    with pytest.raises(StanceError, match=r"t.csv: no text column 'text' .*columns are \['body'\]"):
        ingest(DataConfig(path=str(path)), corpus, schema)


def test_bad_jsonl_line_is_named(tmp_path, defaults):
    corpus, schema = defaults
    path = tmp_path / "t.jsonl"
    path.write_text('{"text": "fine"}\n{"text": broken}\n', encoding="utf-8")
    with pytest.raises(StanceError, match=r"t.jsonl:2: invalid JSON"):
        ingest(DataConfig(path=str(path)), corpus, schema)


def test_duplicate_paragraph_ids_are_an_error(tmp_path, defaults):
    corpus, schema = defaults
    path = tmp_path / "t.jsonl"
    path.write_text('{"paragraph_id": "p1", "text": "one"}\n{"paragraph_id": "p1", "text": "two"}\n')
    with pytest.raises(StanceError, match="duplicate paragraph id .*used .*row"):
        ingest(DataConfig(path=str(path)), corpus, schema)


def test_missing_data_path(tmp_path, defaults):
    corpus, schema = defaults
    with pytest.raises(StanceError, match="data path not found"):
        ingest(DataConfig(path=str(tmp_path / "none.jsonl")), corpus, schema)


def _table(tmp_path, defaults, rows):
    corpus, schema = defaults
    path = tmp_path / "l.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return ingest(DataConfig(path=str(path)), corpus, schema), schema


def test_label_outside_the_schema_names_file_line_and_classes(tmp_path, defaults):
    frame, schema = _table(tmp_path, defaults, [{"text": "Moscow said so.", "framing": "neutral"},
                                                {"text": "Kyiv said so.", "framing": "pro-Kyiv"}])
    with pytest.raises(StanceError, match=r"l.jsonl line 2 .*'pro-Kyiv' is not in schema.framing_classes"):
        build_examples(frame, "framing", schema, "framing")


def test_unknown_actor_in_stance_labels(tmp_path, defaults):
    frame, schema = _table(tmp_path, defaults, [{"text": "Tehran said so.", "stance": {"Iran": "neutral"}}])
    with pytest.raises(StanceError, match=r"stance actor 'Iran' is not in schema.actors"):
        build_examples(frame, "stance", schema, "stance")


def test_stance_examples_are_one_per_labelled_actor_with_spans(tmp_path, defaults):
    frame, schema = _table(tmp_path, defaults, [
        {"text": "Moscow and Kyiv met; Moscow left.", "stance": {"Russia": "unfavourable", "Ukraine": "neutral"}},
        {"text": "No labels here."}])
    examples = build_examples(frame, "stance", schema, "stance")
    assert list(examples["example_id"]) == ["l:1:0|Russia", "l:1:0|Ukraine"]
    assert examples.iloc[0]["target_spans"] == [[0, 6], [21, 27]]


def test_no_labelled_rows_is_a_clear_error(tmp_path, defaults):
    frame, schema = _table(tmp_path, defaults, [{"text": "Nothing.", "framing": None}])
    with pytest.raises(StanceError, match="no paragraph has a framing label"):
        build_examples(frame, "framing", schema, "framing")


def test_parquet_table_and_datasets_round_trip(tmp_path, defaults):
    import pandas as pd

    from stance.corpus.ingest import to_dataset

    corpus, schema = defaults
    path = tmp_path / "t.parquet"
    pd.DataFrame({"text": ["Kyiv and Moscow spoke.", "Beijing replied."], "outlet": ["A", "B"],
                  "framing": ["neutral", "neutral"]}).to_parquet(path)
    frame = ingest(DataConfig(path=str(path)), corpus, schema)
    dataset = to_dataset(frame)
    assert dataset.num_rows == 2 and "actor_spans" in dataset.column_names
    back = dataset.to_pandas()
    assert list(back["paragraph_id"]) == ["t:1:0", "t:2:0"]
    assert list(back["framing"]) == ["neutral", "neutral"]
    assert list(back["actors"].map(list)) == [["Russia", "Ukraine"], ["China"]]
