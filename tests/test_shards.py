"""Sharded ingest of a table larger than memory, and prediction over the shards."""

import json

import pandas as pd
import pytest

from stance.config import DataConfig, corpus_defaults
from stance.corpus.__main__ import main as corpus_main
from stance.corpus.ingest import IngestReport, ingest, ingest_to_shards
from stance.errors import StanceError
from tests.conftest import write_labelled_table, write_run_config


def syndicated_table(path):
    """Documents whose paragraphs reappear in other documents, so clusters span shards."""
    rows = []
    wire = [("The ministers met in Vienna for a third round of talks on grain exports and shipping lanes",
             "Officials from Moscow and Kyiv said the next meeting would take place after the holidays"),
            ("The NATO summit in Riga agreed a new air defence plan after two days of closed discussions",
             "Diplomats from Beijing watched the summit closely and issued a short statement on Friday")]
    for d in range(30):
        for p in range(4):
            # Every third document reprints one of two wire stories in its first two paragraphs.
            text = wire[d % 2][p] if d % 3 == 0 and p < 2 else \
                f"Local paragraph {d}-{p} about harbour {d * 7 + p} budgets and the river festival in town {p}"
            rows.append({"doc_id": f"doc{d}", "outlet": f"Outlet {d % 4}", "text": text,
                         "date": None if d < 10 else f"2025-02-{1 + d % 27:02d}"})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.mark.parametrize("shard_rows", [1, 7, 50, 1000])
def test_shards_hold_exactly_what_one_ingest_gives(tmp_path, shard_rows):
    corpus, schema = corpus_defaults()
    data = DataConfig(path=str(syndicated_table(tmp_path / "t.jsonl")))
    whole = ingest(data, corpus, schema)
    assert whole["cluster_id"].nunique() < whole["doc_id"].nunique()  # the wire story links documents
    shards = ingest_to_shards(data, corpus, schema, tmp_path / "shards", shard_rows, IngestReport())
    assert len(shards) == -(-len(whole) // shard_rows)
    joined = pd.concat([pd.read_parquet(s) for s in shards], ignore_index=True)
    whole.to_parquet(tmp_path / "whole.parquet", index=False)  # lists come back from Parquet as arrays
    whole = pd.read_parquet(tmp_path / "whole.parquet")
    assert list(joined.columns) == list(whole.columns)
    for column in whole.columns:
        assert joined[column].astype(str).tolist() == whole[column].astype(str).tolist(), column
    assert pd.read_parquet(tmp_path / "shards")["paragraph_id"].tolist() == whole["paragraph_id"].tolist()


def test_sharded_ingest_refuses_duplicate_ids_across_shards_and_keeps_nothing(tmp_path):
    table = tmp_path / "t.jsonl"
    table.write_text("".join(json.dumps({"paragraph_id": f"p{i % 5}", "text": f"paragraph number {i} here"}) + "\n"
                             for i in range(10)), encoding="utf-8")
    corpus, schema = corpus_defaults()
    with pytest.raises(StanceError, match="duplicate paragraph id .*used .*row"):
        ingest_to_shards(DataConfig(path=str(table)), corpus, schema, tmp_path / "out", 5, IngestReport())
    assert not (tmp_path / "out").exists()


def test_corpus_command_writes_shards_and_a_summary(tmp_path, capsys):
    table = write_labelled_table(tmp_path / "t.jsonl", n_docs=12)
    assert corpus_main([str(table), "--out", str(tmp_path / "out"), "--shard-rows", "10"]) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["paragraphs"] == 36 and summary["shards"] == 4
    assert len(list((tmp_path / "out" / "paragraphs").glob("part-*.parquet"))) == 4
    assert corpus_main([str(table), "--shard-rows", "10"]) == 2  # needs --out
    assert "--shard-rows needs --out" in capsys.readouterr().err


def test_predict_over_shards_matches_predict_over_one_table(tmp_path, labelled_table):
    from stance.config import load_config
    from stance.predict import predict_corpus, read_predictions
    from stance.train import train

    config = write_run_config(tmp_path / "c.yaml", labelled_table, "s", tmp_path / "runs")
    run = train(load_config(config), say=lambda *a, **k: None)
    corpus, schema = corpus_defaults()
    data = DataConfig(path=str(syndicated_table(tmp_path / "t.jsonl")))
    ingest(data, corpus, schema).to_parquet(tmp_path / "whole.parquet", index=False)
    ingest_to_shards(data, corpus, schema, tmp_path / "shards", 25, IngestReport())
    quiet = {"progress": False, "say": lambda *a, **k: None}
    predict_corpus(run, tmp_path / "whole.parquet", tmp_path / "p1", batch_size=30, **quiet)
    manifest = predict_corpus(run, tmp_path / "shards", tmp_path / "p2", batch_size=30, **quiet)
    assert manifest["batches"] == 5  # 25-row shards, batches do not cross them
    pd.testing.assert_frame_equal(read_predictions(tmp_path / "p1"), read_predictions(tmp_path / "p2"),
                                  check_exact=True)
