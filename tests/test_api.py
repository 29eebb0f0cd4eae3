"""The in-memory Python API: stance.train / stance.load_run / Run.predict give the numbers the
commands write, and a config stands for its newest complete run everywhere a run is expected."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import stance
from stance.errors import StanceError
from stance.compare import main as compare_main
from stance.evaluate import main as evaluate_main
from stance.predict import main as predict_main, read_predictions
from tests.conftest import REPO, write_run_config

QUIET = {"quiet": True}
# Invented paragraphs: odd spacing and typographic quotes go through the same normalisation.
TEXTS = [
    "Moscow defends its legitimate security interests, said a source in Russia.",
    "NATO allies show  unity and strengthen deterrence across the alliance.",
    "Officials met to discuss the schedule — “and the agenda” — of the meeting in Kyiv.",
    "Kyiv defenders resist the invasion and protect Ukrainian towns near Russia.",
    "The harbour council approved a new budget for the river railway.",
]


@pytest.fixture
def framing_run(tmp_path, labelled_table):
    config = write_run_config(tmp_path / "f.yaml", labelled_table, "api", tmp_path / "runs")
    return stance.train(config, **QUIET), config


def cli_predictions(tmp_path, run_or_config, texts, name="p"):
    table = tmp_path / f"{name}.csv"
    pd.DataFrame({"text": texts}).to_csv(table, index=False)
    assert predict_main([str(run_or_config), str(table), "--out", str(tmp_path / name), "--quiet"]) == 0
    return read_predictions(tmp_path / name)


def test_predict_gives_the_numbers_the_predict_command_writes(tmp_path, framing_run):
    run, config = framing_run
    assert isinstance(run, stance.Run) and run.task == "framing"
    api = run.predict(TEXTS)
    cli = cli_predictions(tmp_path, config, TEXTS)  # a config: its newest complete run
    prob = [f"prob_{c}" for c in run.classes_]
    assert list(api["row"]) == list(range(len(TEXTS)))
    assert list(api["pred"]) == list(cli["pred"])
    assert np.array_equal(api[prob].to_numpy(), cli[prob].to_numpy())
    proba = run.predict_proba(TEXTS)
    assert proba.shape == (len(TEXTS), len(run.classes_)) == (5, 4)
    assert np.allclose(proba.sum(axis=1), 1)
    assert list(run.classes_[proba.argmax(axis=1)]) == list(api["pred"])
    # The learnt words decide: the pro-Russia and pro-West sentences get their class.
    assert api["pred"][0] == "pro-Russia" and api["pred"][1] == "pro-West"
    # A DataFrame with its own text column and ids gives the same numbers.
    frame = pd.DataFrame({"body": TEXTS, "paragraph_id": [f"x{i}" for i in range(5)]})
    by_frame = run.predict(frame, text_column="body")
    assert list(by_frame["paragraph_id"]) == [f"x{i}" for i in range(5)]
    assert np.array_equal(by_frame[prob].to_numpy(), api[prob].to_numpy())


def test_stance_predict_pairs_match_the_command_and_actors_choose_pairs(tmp_path, labelled_table):
    config = write_run_config(tmp_path / "s.yaml", labelled_table, "apist", tmp_path / "runs", "task: stance\n")
    run = stance.train({"name": "apist", "task": "stance", "data": {"path": str(labelled_table)},
                        "output_dir": str(tmp_path / "runs")}, **QUIET)
    assert stance.load_run(config).path == run.path  # the dict and the file are one config
    api = run.predict(TEXTS)
    cli = cli_predictions(tmp_path, run.path, TEXTS)
    assert list(zip(api["row"], api["target"])) == [(0, "Russia"), (1, "West"), (2, "Ukraine"), (3, "Russia"),
                                                     (3, "Ukraine")]
    assert list(zip(api["target"], api["pred"])) == list(zip(cli["target"], cli["pred"]))
    prob = [f"prob_{c}" for c in run.classes_]
    assert np.array_equal(api[prob].to_numpy(), cli[prob].to_numpy())
    chosen = run.predict(TEXTS[:2], actors=["Russia", ["West", "Russia"]])
    assert list(zip(chosen["row"], chosen["target"])) == [(0, "Russia"), (1, "West"), (1, "Russia")]
    assert np.array_equal(chosen[prob].to_numpy()[:2], api[prob].to_numpy()[:2])
    with pytest.raises(StanceError, match=r"actors\[1\]: 'Atlantis' is not in the run's schema.actors"):
        run.predict(TEXTS[:2], actors=[None, "Atlantis"])


def test_a_config_means_its_newest_complete_run(tmp_path, framing_run):
    first, config = framing_run
    second = stance.train(config, **QUIET)
    assert second.path.name == first.path.name + "-2"
    assert stance.load_run(config).path == second.path
    out = tmp_path / "eval"
    assert evaluate_main([str(config), str(tmp_path / "labelled.jsonl"), "--out", str(out)]) == 0
    assert pd.read_json(out / "metrics.json", typ="series")["run"] == str(second.path)
    assert stance.load_run(first.path).metrics["test"]["macro_f1"] == first.metrics["test"]["macro_f1"]
    assert compare_main([str(config), str(first.path), "--out", str(tmp_path / "cmp"), "--n-boot", "100",
                         "--quiet"]) == 0
    assert set(pd.read_csv(tmp_path / "cmp" / "runs.csv")["run"]) == {first.path.name, second.path.name}


def test_bad_input_is_a_one_line_error(tmp_path, framing_run):
    run, _ = framing_run
    with pytest.raises(StanceError, match="a list of strings"):
        run.predict("one string")
    with pytest.raises(StanceError, match=r"texts\[1\]: empty"):
        run.predict(["fine text here", "   "])
    with pytest.raises(StanceError, match="no 'text' column"):
        run.predict(pd.DataFrame({"body": ["x"]}))
    with pytest.raises(StanceError, match="only a stance run"):
        run.predict(["Russia said so"], actors=["Russia"])
    with pytest.raises(StanceError, match="no complete run of this config"):
        stance.load_run(write_run_config(tmp_path / "other.yaml", tmp_path / "labelled.jsonl", "never",
                                         tmp_path / "runs"))
    with pytest.raises(StanceError, match="model.classifier"):
        stance.train({"name": "bad", "model": {"classifier": "forest"}}, **QUIET)


def test_import_stance_is_light_and_stance_train_is_module_and_function():
    code = ("import sys, stance; heavy = [m for m in ('torch', 'pandas', 'sklearn') if m in sys.modules]; "
            "import stance.train; print(heavy, callable(stance.train), callable(stance.train.main))")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[] True True"


def test_the_run_readme_is_a_hugging_face_model_card(framing_run):
    from huggingface_hub import ModelCard

    run, _ = framing_run
    card = ModelCard.load(run.path / "README.md")  # a local file: nothing is fetched
    meta = card.data.to_dict()
    assert meta["pipeline_tag"] == "text-classification" and meta["library_name"] == "stance"
    info = meta["stance"]
    assert info["task"] == "framing" and info["labels"] == list(run.classes_)
    assert info["data"]["fingerprint"] == run.record["data"]["fingerprint"]
    test = run.metrics["test"]
    (f1,) = [m for m in info["metrics"] if m["split"] == "test" and m["metric"] == "macro-F1"]
    assert (f1["value"], f1["low"], f1["high"], f1["n"]) == (
        test["macro_f1"], test["ci"]["macro_f1"]["low"], test["ci"]["macro_f1"]["high"], test["n"])
    results = {(r.dataset_split, r.metric_type): r.metric_value for r in card.data.eval_results}
    assert results[("test", "f1")] == test["macro_f1"] and results[("test", "accuracy")] == test["accuracy"]
    assert "stance report" in info["intended_use"] and f"{test['macro_f1']:.3f}" in info["limitations"][0]
    assert "## Intended use" in card.text and "## Limitations" in card.text
    assert f"| test | {test['n']} | {test['macro_f1']:.3f} |" in card.text


def test_arguments_of_the_wrong_type_are_one_line_errors_naming_the_argument(tmp_path, framing_run):
    run, config = framing_run
    before = sorted(p.name for p in (tmp_path / "runs").iterdir())
    for bad in (None, 123, b"runs", [], ""):
        with pytest.raises(StanceError, match=r"^path_or_config: expected a run folder or a YAML config"):
            stance.load_run(bad)
    for bad in (None, 123, [], ""):
        with pytest.raises(StanceError, match=r"^config: expected a YAML config, a dict or a TrainConfig"):
            stance.train(bad, **QUIET)
    with pytest.raises(StanceError, match=r"^overrides: give a list of 'key=value' strings"):
        stance.train(config, overrides="seed=3", **QUIET)
    with pytest.raises(StanceError, match=r"^overrides\[1\]: expected a 'key=value' string, got 3"):
        stance.train(config, overrides=["seed=3", 3], **QUIET)
    with pytest.raises(StanceError, match=r"^overrides: model.C: .* is not a plain value"):
        stance.train(config, overrides={"model.C": object()}, **QUIET)
    # A dict of overrides is --set: its keys are checked by the config, one line naming the key.
    with pytest.raises(StanceError, match=r"--set model.C: model.C: Input should be greater than 0"):
        stance.train(config, overrides={"model.C": -1}, **QUIET)
    for bad in (None, 123, ""):
        with pytest.raises(StanceError, match=r"^data: expected a data path or a dict of data: settings"):
            stance.ingest(bad)
    with pytest.raises(StanceError, match=r"^data: bogus: unknown key$"):
        stance.ingest({"path": "builtin:example", "bogus": 1}, config=run.config)
    with pytest.raises(StanceError, match=r"^config: expected a TrainConfig"):
        stance.ingest("builtin:example", config={"name": "x"})
    for bad in (None, 123, {"a", "b"}, (t for t in TEXTS)):
        with pytest.raises(StanceError, match=r"^texts: give a list, tuple or Series of strings, or a DataFrame"):
            run.predict(bad)
    with pytest.raises(StanceError, match=r"^texts: a dict is not read as a table here; pass a DataFrame"):
        run.predict({"text": TEXTS[:2]})
    for bad in (None, 5, ""):
        with pytest.raises(StanceError, match=r"^text_column: expected the name of the text column"):
            run.predict_proba(TEXTS, text_column=bad)
    twice = pd.DataFrame([[TEXTS[0], TEXTS[1]]], columns=["text", "text"])
    with pytest.raises(StanceError, match=r"^texts: the DataFrame has columns named more than once \(text\)"):
        run.predict(twice)
    nested = pd.DataFrame([[TEXTS[0], "a"]], columns=pd.MultiIndex.from_tuples([("text", "x"), ("id", "y")]))
    with pytest.raises(StanceError, match=r"^texts: the DataFrame has MultiIndex"):
        run.predict(nested)
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == before  # nothing written, nothing removed
    # The accepted shapes give the same numbers: a tuple, a Series and a numpy array of strings.
    prob = [f"prob_{c}" for c in run.classes_]
    expected = run.predict(TEXTS)[prob].to_numpy()
    for same in (tuple(TEXTS), pd.Series(TEXTS, index=range(10, 15)), np.array(TEXTS)):
        assert np.array_equal(run.predict(same)[prob].to_numpy(), expected)
    assert stance.load_run(run.path).path == run.path


def test_actors_from_a_pandas_column_blanks_are_none_and_repeats_count_once(tmp_path, labelled_table):
    run = stance.train({"name": "apiact", "task": "stance", "data": {"path": str(labelled_table)},
                        "output_dir": str(tmp_path / "runs")}, **QUIET)
    table = tmp_path / "given.csv"
    pd.DataFrame({"text": TEXTS[:3], "actor": ["Russia", "", "Ukraine"]}).to_csv(table, index=False)
    frame = pd.read_csv(table)  # the blank cell reads as NaN
    assert frame["actor"].isna().sum() == 1
    chosen = run.predict(frame, actors=frame["actor"])
    assert list(zip(chosen["row"], chosen["target"])) == [(0, "Russia"), (2, "Ukraine")]
    twice = run.predict(TEXTS[:2], actors=[["Russia", "Russia"], ("West",)])
    assert list(zip(twice["row"], twice["target"])) == [(0, "Russia"), (1, "West")]
    from_generator = run.predict(TEXTS[:2], actors=(a for a in [["Russia", "Russia"], ("West",)]))
    assert from_generator.equals(twice)
    for bad, message in ((5, r"^actors: give one entry per text \(2\).*\(got int\)"),
                         ("Russia", r"^actors: give one entry per text \(2\).*\(got str\)"),
                         ({"Russia": 1, "West": 2}, r"^actors: give one entry per text \(2\).*\(got dict\)"),
                         ([None], r"^actors: give one entry per text \(2\).*got 1 entries"),
                         ([None, 7], r"^actors\[1\]: 7 is not an actor name, a list of names or None"),
                         ([None, ["Russia", None]], r"^actors\[1\]: \['Russia', None\] is not an actor name"),
                         ([None, {"Russia"}], r"^actors\[1\]: \{'Russia'\} is not an actor name")):
        with pytest.raises(StanceError, match=message):
            run.predict(TEXTS[:2], actors=bad)
