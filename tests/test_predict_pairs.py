"""stance.predict labels exactly the (paragraph, target) pairs the data name, as evaluation
scores them; counts what it leaves out; flags targets the model never saw labelled; reads new
files with --set data.* like stance.train and stance.evaluate (issue 21 item 4)."""

import json
import random

import pandas as pd
import pytest

from stance.config import load_config
from stance.errors import StanceError
from stance.evaluate import evaluate_file
from stance.predict import main as predict_main
from stance.predict import predict_corpus, read_predictions
from stance.train import train
from tests.conftest import write_run_config

QUIET = lambda *a, **k: None  # noqa: E731
WORDS = {"favourable": "praised the generous help from", "unfavourable": "condemned the brutal shelling by",
         "neutral": "listed the meeting schedule of"}
FILLER = "harbour winter budget council river market railway school bridge festival".split()


def _rows(n, seed, actors=("Russia", "Ukraine")):
    rng, classes = random.Random(seed), list(WORDS)
    for d in range(n):
        r, u = classes[d % 3], classes[(d // 3) % 3]
        text = (f"{' '.join(rng.sample(FILLER, 5)).capitalize()}: officials {WORDS[r]} {actors[0]}, "
                f"while others {WORDS[u]} {actors[1]}.")
        yield d, text, {actors[0]: r, actors[1]: u}


@pytest.fixture(scope="module")
def stance_run(tmp_path_factory):
    """A TF-IDF stance run trained on labels for Russia and Ukraine only."""
    folder = tmp_path_factory.mktemp("pairs")
    table = folder / "train.jsonl"
    table.write_text("".join(json.dumps({"doc_id": f"d{d}", "text": text, "stance": labels}) + "\n"
                             for d, text, labels in _rows(60, 1)), encoding="utf-8")
    config = write_run_config(folder / "s.yaml", table, "pairs", folder / "runs", "task: stance\n")
    return train(load_config(config), say=QUIET)


def test_predict_labels_the_pairs_evaluation_scores(stance_run, tmp_path):
    # A labelled file whose stance column names one of the two mentioned actors per paragraph.
    rows = [{"doc_id": f"n{d}", "text": text, "stance": {"Russia": labels["Russia"]} if d % 2 else
             {"Ukraine": labels["Ukraine"]}} for d, text, labels in _rows(12, 7)]
    labelled = tmp_path / "new.jsonl"
    labelled.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    evaluated = evaluate_file(stance_run, labelled, tmp_path / "eval", say=QUIET)
    scored = pd.read_parquet(tmp_path / "eval" / "predictions.parquet")
    manifest = predict_corpus(stance_run, labelled, tmp_path / "pred", progress=False, say=QUIET)
    predicted = read_predictions(tmp_path / "pred")
    assert manifest["pairs"] == "named by the data" and manifest["rows"] == evaluated["examples"] == 12
    key = ["paragraph_id", "target"]
    both = scored.merge(predicted, on=key, suffixes=("_eval", "_pred"), validate="one_to_one")
    assert len(both) == 12 and set(predicted["target"]) == {"Russia", "Ukraine"}
    assert (both["pred_eval"] == both["pred_pred"]).all()
    for c in WORDS:
        assert (both[f"prob_{c}_eval"] - both[f"prob_{c}_pred"]).abs().max() < 1e-12
    assert predicted["target_seen"].all()


def test_what_is_left_out_is_counted_and_unseen_actors_are_flagged(stance_run, tmp_path):
    text = "Officials praised the generous help from China and condemned the brutal shelling by Russia."
    rows = [{"doc_id": "a", "text": text, "stance": {"China": None, "Russia": None}},   # labels may be blank
            {"doc_id": "b", "text": text, "stance": {"Atlantis": None}},             # not a schema actor
            {"doc_id": "c", "text": "The harbour council met on Monday to plan the festival.", "stance": None}]
    path = tmp_path / "names.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    lines = []
    manifest = predict_corpus(stance_run, path, tmp_path / "out", progress=False, say=lines.append)
    predicted = read_predictions(tmp_path / "out").set_index("target")
    assert sorted(predicted.index) == ["China", "Russia"]
    assert bool(predicted.loc["Russia", "target_seen"]) and not bool(predicted.loc["China", "target_seen"])
    assert manifest["skipped"] == {"pair whose actor is not in schema.actors": 1,
                                   "paragraph for which the stance column names no actor": 1}
    assert manifest["unseen_targets"] == {"China": 1}
    printed = "\n".join(lines)
    assert "skipped 1: pair whose actor is not in schema.actors" in printed
    assert "WARNING: 1 of 2 predictions are for targets the model was never trained on labels for" in printed

    # --pairs mentions (what stance.report uses): every schema actor mentioned, whatever the column names.
    manifest = predict_corpus(stance_run, path, tmp_path / "mentions", progress=False, say=QUIET, pairs="mentions")
    assert manifest["pairs"] == "schema actors mentioned"
    assert sorted(read_predictions(tmp_path / "mentions")["target"]) == ["China", "China", "Russia", "Russia"]

    # A corpus without a stance column: every schema actor each paragraph mentions.
    plain = tmp_path / "plain.jsonl"
    plain.write_text("".join(json.dumps({"doc_id": r["doc_id"], "text": r["text"]}) + "\n" for r in rows),
                     encoding="utf-8")
    manifest = predict_corpus(stance_run, plain, tmp_path / "plain-out", progress=False, say=QUIET)
    assert manifest["pairs"] == "schema actors mentioned"
    assert sorted(read_predictions(tmp_path / "plain-out")["target"]) == ["China", "China", "Russia", "Russia"]
    assert manifest["skipped"] == {"paragraph that mentions no schema actor": 1}


def test_predict_reads_other_columns_with_set(stance_run, tmp_path, capsys):
    path = tmp_path / "body.csv"
    pd.DataFrame({"id": ["x1", "x2"], "body": ["Officials praised the generous help from Russia.",
                                               "Others condemned the brutal shelling by Ukraine."]}).to_csv(path,
                                                                                                     index=False)
    with pytest.raises(StanceError, match=r"body\.csv: no text column 'text' \(set data\.columns\.text\)"):
        predict_corpus(stance_run, path, tmp_path / "refused", progress=False, say=QUIET)
    assert predict_main([str(stance_run), str(path), "--out", str(tmp_path / "ok"), "--quiet",
                         "--set", "data.columns.text=body", "--set", "data.columns.paragraph_id=id"]) == 0
    predicted = read_predictions(tmp_path / "ok")
    assert list(predicted["paragraph_id"]) == ["x1", "x2"]
    assert list(predicted["target"]) == ["Russia", "Ukraine"]
    manifest = json.loads((tmp_path / "ok" / "manifest.json").read_text())
    assert manifest["data_overrides"] == ["data.columns.text=body", "data.columns.paragraph_id=id"]
    assert predict_main([str(stance_run), str(path), "--out", str(tmp_path / "no"), "--set", "model.C=3"]) == 2
    assert "only data.* settings" in capsys.readouterr().err
