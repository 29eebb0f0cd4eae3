"""The few-shot kinds (embeddings, setfit) through the real code paths, with a tiny random encoder."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stance.config import load_config
from stance.errors import StanceError
from stance.models import load_model
from stance.models.embeddings import build_inputs, mark_mentions
from stance.train import predict_frame, train
from tests.conftest import WordTokenizer, write_run_config
from tests.test_train import examples_of

QUIET = lambda *a, **k: None  # noqa: E731


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("STANCE_CACHE", str(tmp_path / "cache"))
    from stance.models import embeddings

    monkeypatch.setattr(embeddings, "_CACHES", {})


def _config(tmp_path, table, encoder, kind, more="", max_steps=12):
    body = {"embeddings": "tune: {C: [0.1, 1.0, 10.0]}",
            "setfit": f"num_iterations: 2, max_steps: {max_steps}, batch_size: 8, body_learning_rate: 0.001, "
                      "tune: {C: [0.3, 3.0]}"}[kind]
    return write_run_config(tmp_path / f"{kind}.yaml", table, f"tiny-{kind}", tmp_path / "runs",
                            f"model: {{kind: {kind}, model: {encoder}, max_length: 48, {body}{more}}}\n")


def _reload_predicts_identically(run):
    record = json.loads((run / "run.json").read_text())
    model_dir = run / record["primary_model"]
    assert not list(model_dir.rglob("*.pkl")) and not list(model_dir.rglob("*.joblib"))  # never pickle
    predictions = pd.read_parquet(run / "predictions.parquet")
    again = predict_frame(load_model(model_dir), examples_of(run, predictions))
    expected = predictions.drop(columns=["repeat", "fold", "seed"]).reset_index(drop=True)
    assert (again["pred"] == expected["pred"]).all()
    prob = [c for c in expected.columns if c.startswith("prob_")]  # schema order; the model's may differ
    assert sorted(prob) == sorted(c for c in again.columns if c.startswith("prob_"))
    np.testing.assert_allclose(again[prob].to_numpy(), expected[prob].to_numpy(),
                               atol=1e-6)
    return record, model_dir


def test_embeddings_kind_trains_saves_reloads_and_predicts_identically(tmp_path, labelled_table, tiny_encoder):
    cfg = load_config(_config(tmp_path, labelled_table, tiny_encoder, "embeddings"))
    lines = []
    run = train(cfg, say=lines.append)
    assert sum("tune {'C'" in line for line in lines) == 3
    record, model_dir = _reload_predicts_identically(run)
    assert (model_dir / "head.npz").is_file()
    fit = record["fits"]["r0-f0-s13"]
    assert fit["dimension"] == 32 and fit["encode_seconds"] >= 0
    # The vectors went to the cache: a second run of the same data encodes nothing new.
    shards = list((tmp_path / "cache" / "embeddings").rglob("*.npz"))
    assert shards
    again = train(cfg, say=QUIET)
    fit2 = json.loads((again / "run.json").read_text())["fits"]["r0-f0-s13"]
    assert fit2["cache_hits"] == fit["train_examples"]
    assert sorted((tmp_path / "cache" / "embeddings").rglob("*.npz")) == sorted(shards)
    m1, m2 = (json.loads((r / "metrics.json").read_text())["test"]["macro_f1"] for r in (run, again))
    assert m1 == m2
    # The words that decide framing are separable even in random vectors of a tiny encoder.
    assert m1 > 0.5


def test_cached_vectors_equal_fresh_ones(tmp_path, labelled_table, tiny_encoder):
    from stance.config import EmbeddingsModel
    from stance.models.embeddings import EmbeddingsClassifier

    frame = pd.read_json(labelled_table, lines=True).head(20)
    X = pd.DataFrame({"text": frame["text"], "target": None, "target_spans": [[]] * len(frame)})
    cached = EmbeddingsClassifier(EmbeddingsModel(model=str(tiny_encoder), max_length=48), "framing", 0)
    fresh = EmbeddingsClassifier(EmbeddingsModel(model=str(tiny_encoder), max_length=48, cache=False), "framing", 0)
    cached.fit(X, frame["framing"])
    fresh.fit(X, frame["framing"])
    np.testing.assert_allclose(cached.vectors(X), fresh.vectors(X), atol=1e-6)
    assert cached.cache_hits_ == len(X)


def test_an_embeddings_model_refuses_another_encoder(tmp_path, labelled_table, tiny_encoder):
    import shutil

    encoder = shutil.copytree(tiny_encoder, tmp_path / "encoder")
    run = train(load_config(_config(tmp_path, labelled_table, encoder, "embeddings")), say=QUIET)
    model_dir = run / "fits" / "r0-f0-s13" / "model"
    (encoder / "vocab.txt").write_text((encoder / "vocab.txt").read_text() + "extra\n", encoding="utf-8")
    with pytest.raises(StanceError, match="not the one this model was trained on"):
        load_model(model_dir)


def test_setfit_kind_trains_saves_reloads_and_predicts_identically(tmp_path, labelled_table, tiny_encoder,
                                                                  monkeypatch):
    import evaluate

    def no_hub(*args, **kwargs):
        raise AssertionError("setfit's default metric would be fetched from the Hugging Face Hub")

    monkeypatch.setattr(evaluate, "load", no_hub)
    lines = []
    run = train(load_config(_config(tmp_path, labelled_table, tiny_encoder, "setfit")), say=lines.append)
    assert any("contrastive loss" in line for line in lines)
    record, model_dir = _reload_predicts_identically(run)
    assert (model_dir / "encoder" / "model.safetensors").is_file() and (model_dir / "head.npz").is_file()
    fit = record["fits"]["r0-f0-s13"]
    assert fit["contrastive_steps"] == 12 and fit["pairs"] == 96 and fit["device"] == "cpu"
    assert [row["C"] for row in fit["head_tuning"]] == [0.3, 3.0]
    # The score our metric gave the library's evaluation is the run's own validation score.
    metrics = json.loads((run / "metrics.json").read_text())
    assert fit["val_macro_f1"] == pytest.approx(metrics["val"]["macro_f1"], abs=1e-9)
    assert metrics["test"]["macro_f1"] > 0.25
    # Contrastive fine-tuning changed the encoder: the saved one is not the starting one.
    from safetensors.numpy import load_file

    before = load_file(str(tiny_encoder / "model.safetensors"))
    after = load_file(str(model_dir / "encoder" / "model.safetensors"))
    name = next(k for k in after if k.endswith("word_embeddings.weight"))
    assert not np.allclose(before[next(k for k in before if k.endswith("word_embeddings.weight"))], after[name])


def test_setfit_is_reproducible_with_the_seed(tmp_path, labelled_table, tiny_encoder):
    cfg = load_config(_config(tmp_path, labelled_table, tiny_encoder, "setfit", max_steps=6))
    runs = [train(cfg, say=QUIET) for _ in range(2)]
    a, b = (pd.read_parquet(r / "predictions.parquet") for r in runs)
    np.testing.assert_allclose(a.filter(like="prob_").to_numpy(), b.filter(like="prob_").to_numpy(), atol=1e-6)


@pytest.mark.parametrize("kind", ["embeddings", "setfit"])
def test_stance_pairs_share_one_model(tmp_path, labelled_table, tiny_encoder, kind):
    cfg = load_config(_config(tmp_path, labelled_table, tiny_encoder, kind, ", target_input: both"), ["task=stance"])
    run = train(cfg, say=QUIET)
    metrics = json.loads((run / "metrics.json").read_text())
    assert "Russia" in metrics["test"]["per_target"]
    _reload_predicts_identically(run)


def test_target_inputs_name_and_mark_the_actor():
    text = "Officials in Kyiv said Russia and the EU met; Russia denied it."
    spans = [[text.index("Russia"), text.index("Russia") + 6], [text.rindex("Russia"), text.rindex("Russia") + 6]]
    marked, moved = mark_mentions(text, spans)
    assert marked == "Officials in Kyiv said << Russia >> and the EU met; << Russia >> denied it."
    assert all(marked[a:b] == "Russia" for a, b in moved)
    X = pd.DataFrame({"text": [text], "target": ["Russia"], "target_spans": [spans]})
    tok = WordTokenizer()
    assert build_inputs(X, "stance", tok, 64, "first_segment") == [f"Russia [SEP] {text}"]
    assert build_inputs(X, "stance", tok, 64, "marked") == [marked]
    assert build_inputs(X, "stance", tok, 64, "both") == [f"Russia [SEP] {marked}"]
    assert build_inputs(X, "framing", tok, 64, "both") == [text]


def test_a_long_paragraph_keeps_a_window_around_the_target():
    text = " ".join(f"w{i}" for i in range(200)) + " China " + " ".join(f"v{i}" for i in range(200))
    start = text.index("China")
    X = pd.DataFrame({"text": [text], "target": ["China"], "target_spans": [[[start, start + 5]]]})
    (out,) = build_inputs(X, "stance", WordTokenizer(), 40, "both")
    assert out.startswith("China [SEP] ") and "<< China >>" in out
    assert len(out.split()) <= 40


def test_few_shot_configs_are_checked(tmp_path, labelled_table, tiny_encoder):
    path = write_run_config(tmp_path / "bad.yaml", labelled_table, "bad", tmp_path / "runs",
                            "model:\n  kind: setfit\n  num_iteration: 3\n")
    with pytest.raises(StanceError, match=r"bad\.yaml:6: model\.num_iteration: unknown key"):
        load_config(path)
    path = write_run_config(tmp_path / "bad2.yaml", labelled_table, "bad", tmp_path / "runs",
                            "model:\n  kind: embeddings\n  tune: {max_length: [64]}\n")
    with pytest.raises(StanceError, match=r"model\.tune: .*cannot tune 'max_length'"):
        load_config(path)
    with pytest.raises(StanceError, match="neither a known model alias"):
        train(load_config(_config(tmp_path, labelled_table, tiny_encoder, "setfit"),
                          ["model.model=no-such-encoder"]), say=QUIET)
    assert not (tmp_path / "runs").exists()


@pytest.mark.slow
def test_minilm_embeddings_separate_obvious_stances(tmp_path):
    """The real MiniLM (from its PyPI package) through the embeddings kind, offline."""
    from stance.config import EmbeddingsModel
    from stance.models.embeddings import EmbeddingsClassifier

    good = ["The talks were a great success and both sides praised the deal.",
            "Leaders welcomed the agreement as a historic step forward.",
            "The new bridge delighted residents, who celebrated its opening."]
    bad = ["The talks collapsed in bitter recriminations and threats.",
           "Critics condemned the agreement as a disastrous betrayal.",
           "Residents were furious about the broken bridge and the delays."]
    X = pd.DataFrame({"text": good + bad, "target": None, "target_spans": [[]] * 6})
    model = EmbeddingsClassifier(EmbeddingsModel(), "sentiment", 0).fit(X, ["positive"] * 3 + ["negative"] * 3)
    test = pd.DataFrame({"text": ["Everyone cheered the wonderful result.", "The awful failure angered everyone."],
                         "target": None, "target_spans": [[], []]})
    assert list(model.predict(test)) == ["positive", "negative"]


def test_shipped_few_shot_configs_validate():
    from stance.config import load_experiment
    from tests.conftest import REPO

    for name in ("embeddings", "setfit"):
        assert load_config(REPO / "configs" / f"{name}.yaml").model.kind == name
    for name in ("newsmtsc-fewshot", "fewshot-compare", "seeds-fewshot"):
        kinds = {m.kind for m in load_experiment(REPO / "configs" / f"{name}.yaml").models.values()}
        assert {"tfidf", "embeddings", "setfit", "transformer"} <= kinds


def test_moving_the_offsets_changes_the_few_label_input():
    """The few-label kinds mark the mention at its offsets (plain-text << >>, their default), so
    two mentions of one name are two inputs; with the actor's name alone they are one."""
    text = "Officials said Russia would talk, but Russia denied it."
    first, second = text.index("Russia"), text.rindex("Russia")
    X = pd.DataFrame({"text": [text, text], "target": ["Russia", "Russia"],
                      "target_spans": [[[first, first + 6]], [[second, second + 6]]]})
    a, b = build_inputs(X, "stance", WordTokenizer(), 64)  # the default: both
    assert a != b and "<< Russia >> would" in a and "<< Russia >> denied" in b
    plain = build_inputs(X, "stance", WordTokenizer(), 64, "first_segment")
    assert plain[0] == plain[1]
