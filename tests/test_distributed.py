"""Ray Data batch prediction (the `distributed` extra), in Ray's local mode on this machine."""

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from stance.config import load_config
from stance.errors import StanceError
from stance.predict import predict_corpus, read_predictions
from stance.train import train
from tests.conftest import write_run_config
from tests.test_predict_report import QUIET, unseen_corpus

pytest.importorskip("ray.data", reason="the distributed extra is not installed")


def shard(corpus, folder, rows_per_group):
    """The corpus split into two Parquet files of several row groups each, as a big ingest would be."""
    table = pq.read_table(corpus)
    half = table.num_rows // 2
    folder.mkdir()
    for k, part in enumerate([table.slice(0, half), table.slice(half)]):
        pq.write_table(part, folder / f"shard-{k}.parquet", row_group_size=rows_per_group)
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("task", ["framing", "stance"])
def test_ray_gives_byte_identical_labels_to_the_local_path(tmp_path, labelled_table, task):
    config = write_run_config(tmp_path / "c.yaml", labelled_table, "d", tmp_path / "runs", f"task: {task}\n")
    run = train(load_config(config), say=QUIET)
    corpus, n = unseen_corpus(tmp_path, n_docs=120)
    shards = shard(corpus, tmp_path / "shards", rows_per_group=50)
    predict_corpus(run, corpus, tmp_path / "local", batch_size=64, progress=False, say=QUIET)
    manifest = predict_corpus(run, shards, tmp_path / "ray", batch_size=40, progress=False, say=QUIET,
                              engine="ray", workers=2)
    local, distributed = read_predictions(tmp_path / "local"), read_predictions(tmp_path / "ray")
    assert manifest["engine"] == "ray" and manifest["paragraphs"] == n and manifest["rows"] == len(local)
    # Same rows in the same order, same labels, probabilities equal to the last bit.
    pd.testing.assert_frame_equal(local.reset_index(drop=True), distributed.reset_index(drop=True), check_exact=True)
    assert distributed["paragraph_id"].is_unique == (task != "stance")
    assert not (tmp_path / "ray.partial").exists()
    with pytest.raises(StanceError, match="exists"):  # a finished job is never overwritten
        predict_corpus(run, shards, tmp_path / "ray", progress=False, say=QUIET, engine="ray")


def test_ray_engine_refuses_what_it_cannot_read_before_starting_ray(tmp_path, labelled_table):
    config = write_run_config(tmp_path / "c.yaml", labelled_table, "d", tmp_path / "runs")
    run = train(load_config(config), say=QUIET)
    with pytest.raises(StanceError, match="Parquet"):
        predict_corpus(run, labelled_table, tmp_path / "out", progress=False, say=QUIET, engine="ray")
    with pytest.raises(StanceError, match="--resume"):
        predict_corpus(run, labelled_table, tmp_path / "out", resume=True, progress=False, say=QUIET, engine="ray")
    assert not (tmp_path / "out").exists()


def test_row_group_pieces_cover_every_row_once(tmp_path):
    from stance.distributed import read_row_group, row_group_pieces

    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"paragraph_id": [f"p{i}" for i in range(23)], "text": ["x"] * 23}), path,
                   row_group_size=5)
    pieces = row_group_pieces([str(path)])
    assert len(pieces) == 5
    ids = [pid for p in pieces for pid in read_row_group({"file": [p["file"]], "row_group": [p["row_group"]]})["paragraph_id"]]
    assert ids == [f"p{i}" for i in range(23)]
