"""Target-dependent tables (NewsMTSC and the like) through the generic loader."""

import json

import pandas as pd
import pytest

from stance.config import load_config
from stance.corpus.ingest import ingest
from stance.errors import StanceError
from stance.predict import predict_corpus, read_predictions
from stance.train import train
from tests.conftest import REPO

NEWSMTSC = REPO.parent / "shared" / "data" / "newsmtsc"
QUIET = lambda *a, **k: None  # noqa: E731

WORDS = {-1: "slammed condemned failed scandal", 0: "met said visited announced", 1: "praised welcomed won success"}


def write_newsmtsc_like(folder, n=60, offset=0):
    """Sentences in NewsMTSC's shape (mention, polarity, from, to, sentence, id), written here."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, count in (("train.jsonl", n), ("rw-dev.jsonl", n // 3), ("mt-dev.jsonl", n // 3)):
        with (folder / name).open("w", encoding="utf-8") as handle:
            for i in range(count):
                polarity = [-1, 0, 1][i % 3]
                target = ["Senator Smith", "the mayor", "Governor Lee"][(i // 3) % 3]
                sentence = f"  On day {i},  reporters  {WORDS[polarity].split()[i % 4]} {target} in the capital."
                start = sentence.index(target)
                handle.write(json.dumps({"mention": target, "polarity": polarity, "from": start,
                                         "to": start + len(target), "sentence": sentence,
                                         "id": f"{name[:2]}_{offset + i}"}) + "\n")
    return folder


def config_for(tmp_path, data_path):
    text = (REPO / "configs" / "newsmtsc.yaml").read_text(encoding="utf-8")
    path = tmp_path / "n.yaml"
    path.write_text(text, encoding="utf-8")
    return load_config(path, [f"data.path={data_path}", f"output_dir={tmp_path / 'runs'}", "model.tune={}"])


def test_targets_and_offsets_survive_whitespace_normalisation(tmp_path):
    folder = write_newsmtsc_like(tmp_path / "nm")
    cfg = config_for(tmp_path, folder)
    paragraphs = ingest(cfg.data, cfg.corpus, cfg.label_schema)
    assert set(paragraphs["given_split"]) == {"train", "val", "test"}
    assert paragraphs["paragraph_id"].str.match(r"^(tr|rw|mt)_\d+$").all()
    for row in paragraphs.itertuples():
        assert row.text[row.target_start:row.target_end] == row.target  # offsets moved with the text


def test_free_form_targets_train_evaluate_on_the_files_split(tmp_path):
    folder = write_newsmtsc_like(tmp_path / "nm")
    run = train(config_for(tmp_path, folder), say=QUIET)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["val"]["n"] == 20 and metrics["test"]["n"] == 20
    assert "ci" in metrics["val"] and "ci" in metrics["test"]
    assert set(metrics["test"]["per_target"]) == {"Senator Smith", "the mayor", "Governor Lee"}
    assert metrics["test"]["macro_f1"] > 0.5  # the polarity words are learnable
    split = pd.read_csv(run / "split.csv")
    assert dict(split["split"].value_counts()) == {"train": 60, "val": 20, "test": 20}
    # A new file of the same shape: predictions keyed by its own ids.
    unseen = write_newsmtsc_like(tmp_path / "unseen", n=30, offset=1000) / "train.jsonl"
    predict_corpus(run, unseen, tmp_path / "pred", progress=False, say=QUIET)
    out = read_predictions(tmp_path / "pred")
    assert list(out["paragraph_id"]) == [f"tr_{1000 + i}" for i in range(30)]
    assert list(out["target"][:3]) == ["Senator Smith", "Senator Smith", "Senator Smith"]


def test_bad_offsets_and_missing_files_are_named(tmp_path):
    folder = write_newsmtsc_like(tmp_path / "nm")
    lines = (folder / "train.jsonl").read_text().splitlines()
    row = json.loads(lines[4])
    row["from"] += 3
    lines[4] = json.dumps(row)
    (folder / "train.jsonl").write_text("\n".join(lines) + "\n")
    cfg = config_for(tmp_path, folder)
    with pytest.raises(StanceError, match=r"train.jsonl: line 5: target offsets \d+-\d+ do not point at the mention"):
        ingest(cfg.data, cfg.corpus, cfg.label_schema)
    with pytest.raises(StanceError, match="data path not found"):
        ingest(config_for(tmp_path, tmp_path / "absent").data, cfg.corpus, cfg.label_schema)


@pytest.mark.slow
def test_tfidf_config_on_the_real_newsmtsc_files(tmp_path):
    if not NEWSMTSC.is_dir():
        pytest.skip("../shared/data/newsmtsc is not present beside the checkout")
    cfg = load_config(REPO / "configs" / "newsmtsc.yaml", [f"output_dir={tmp_path}", "model.tune={}", "model.C=1.0"])
    run = train(cfg, say=QUIET)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["val"]["n"] == 343 and metrics["test"]["n"] == 442
    # Well above the majority floor, well below perfect: a real, hard benchmark.
    assert 0.5 < metrics["val"]["macro_f1"] < 0.9 and 0.5 < metrics["test"]["macro_f1"] < 0.9
