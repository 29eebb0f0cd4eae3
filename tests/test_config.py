import re

import pytest
from pydantic import ValidationError

from stance.config import load_config
from stance.errors import StanceError


def write(tmp_path, text):
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_unknown_key_names_the_key_and_its_line(tmp_path):
    path = write(tmp_path, "name: x\nmodel:\n  kind: tfidf\n  clasifier: logreg\n")
    with pytest.raises(StanceError) as err:
        load_config(path)
    assert f"{path}:4: model.clasifier: unknown key" in str(err.value)


def test_ill_typed_value_is_an_error(tmp_path):
    path = write(tmp_path, "name: x\nsplit:\n  test_size: lots\n")
    with pytest.raises(StanceError, match=r"c.yaml:3: split.test_size"):
        load_config(path)


def test_unknown_classifier_lists_the_choices(tmp_path):
    path = write(tmp_path, "name: x\nmodel: {classifier: forest}\n")
    with pytest.raises(StanceError, match=r"model.classifier: .*unknown classifier 'forest'.*logreg"):
        load_config(path)


def test_malformed_yaml_gives_line_and_column(tmp_path):
    path = write(tmp_path, "name: x\nmodel: [unclosed\n")
    with pytest.raises(StanceError, match=r"c.yaml:\d+:\d+: malformed YAML"):
        load_config(path)


def test_missing_file(tmp_path):
    with pytest.raises(StanceError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")


def test_overrides_are_typed_and_named_in_errors(tmp_path):
    path = write(tmp_path, "name: x\n")
    cfg = load_config(path, ["model.C=0.5", "task=stance", "model.word_ngrams=[1, 3]"])
    assert cfg.model.C == 0.5 and cfg.task == "stance" and cfg.model.word_ngrams == (1, 3)
    with pytest.raises(StanceError, match=r"--set model.bogus: model.bogus: unknown key"):
        load_config(path, ["model.bogus=1"])


def test_hash_changes_with_content_and_is_stable(tmp_path):
    path = write(tmp_path, "name: x\n")
    assert load_config(path).config_hash() == load_config(path).config_hash()
    assert load_config(path).config_hash() != load_config(path, ["seed=1"]).config_hash()
    assert load_config(path).config_hash() == load_config(path, ["output_dir=elsewhere"]).config_hash()


def test_section_fields_replace_defaults_one_level_deep(tmp_path):
    path = write(tmp_path, "name: x\nschema:\n  actors: {Iran: [Tehran, Iranian]}\n")
    cfg = load_config(path)
    assert list(cfg.label_schema.actors) == ["Iran"]  # replaced, not merged
    assert cfg.label_schema.framing_classes == ["neutral", "pro-Russia", "pro-Ukraine", "pro-West"]


# ---------------------------------------------------------------- refused at load time (issue 17, item 5)

import tracemalloc  # noqa: E402

from stance.config import TfidfModel  # noqa: E402


@pytest.mark.parametrize("text, where", [
    ("name: x\ntask: stance\nseed: 1\ntask: framing\n", "c.yaml:4: task: duplicate key (first at line 2)"),
    ("name: x\nmodel:\n  C: 1\n  C: 2\n", "c.yaml:4: model.C: duplicate key (first at line 3)"),
    ("name: x\nschema:\n  actors:\n    Russia: [Moscow]\n    Russia: [Kremlin]\n",
     "c.yaml:5: schema.actors.Russia: duplicate key (first at line 4)"),
    ("name: x\nmodels:\n  a: {kind: tfidf, C: 1, C: 2}\n", "c.yaml:3: models.a.C: duplicate key"),
])
def test_duplicate_keys_at_any_depth_are_refused_with_their_line(tmp_path, text, where):
    with pytest.raises(StanceError, match=re.escape(where)):
        load_config(write(tmp_path, text))


@pytest.mark.parametrize("text, line", [
    ("name: x\nseeds: &s [1, 2]\n", 2),                                           # anchor at a field
    ("name: x\nschema:\n  actors:\n    Russia: &r [Moscow]\n    Iran: *r\n", 4),  # inside schema actors
    ("base: &b {C: 2}\nname: x\nmodel:\n  <<: *b\n", 1),                          # merge key
    ("name: x\ncorpus:\n  stop_markers: [a, b]\n  related_markers: [*x]\n", 4),  # undefined alias, deep
])
def test_aliases_and_anchors_anywhere_are_refused(tmp_path, text, line):
    with pytest.raises(StanceError, match=rf"c.yaml:{line}: .*(anchor|alias)"):
        load_config(write(tmp_path, text))


def test_alias_bomb_under_a_list_field_is_refused_in_bounded_memory(tmp_path):
    lines = ["name: x", "corpus:", "  stop_markers:", "    - &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"    - &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]" for i in range(8)]
    path = write(tmp_path, "\n".join(lines) + "\n")
    tracemalloc.start()
    try:
        with pytest.raises(StanceError, match=r"c.yaml:4: YAML anchor &a is not allowed"):
            load_config(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20  # expanded, the bomb holds 9**9 strings (gigabytes)


@pytest.mark.parametrize("override, message", [
    ("model.word_ngrams=[3,1]", "--set model.word_ngrams: model.word_ngrams: the n-gram range is reversed"),
    ("model.char_ngrams=[0,2]", "--set model.char_ngrams: model.char_ngrams: n-gram lengths must be positive"),
    ('model.tune.C=[-1,"abc"]', "--set model.tune.C: model.tune: tune.C[0] = -1: Input should be greater than 0"),
    ('model.tune.C=[1,"abc"]', "--set model.tune.C: model.tune: tune.C[1] = 'abc': Input should be a valid number"),
    ("model.tune.word_ngrams=[[1,2],[2,1]]", "tune.word_ngrams[1] = [2, 1]: the n-gram range is reversed"),
    ("model.tune.min_df=[0]", "tune.min_df[0] = 0: Input should be greater than or equal to 1"),
    ("model.tune.max_features=[10,-5]", "tune.max_features[1] = -5"),
    ("seed=99999999999999999999", "--set seed: seed: Input should be less than or equal to 4294967295"),
    ("seed=-1", "--set seed: seed: Input should be greater than or equal to 0"),
    ("seeds=[1,4294967296]", "--set seeds: seeds.1: Input should be less than or equal to 4294967295"),
    ("model.C=&x 1", "--set model.C: model.C: YAML anchor &x is not allowed"),
])
def test_values_the_model_would_reject_are_refused_at_load_time(tmp_path, override, message):
    with pytest.raises(StanceError, match=re.escape(message)):
        load_config(write(tmp_path, "name: x\n"), [override])


@pytest.mark.parametrize("field", ["output_dir", "data.path", "data.annotations", "data.split_files.test"])
def test_nul_in_any_path_field_is_refused(tmp_path, field):
    with pytest.raises(StanceError, match=rf"--set {re.escape(field)}: {re.escape(field)}: a path cannot contain a NUL"):
        load_config(write(tmp_path, "name: x\n"), [f"{field}=a\0b"])
    key, _, leaf = field.rpartition(".")
    text = "name: x\n" + (f"{leaf}: \"a\\0b\"\n" if not key else
                          "".join(f"{'  ' * i}{part}:\n" for i, part in enumerate(field.split(".")[:-1]))
                          + f"{'  ' * field.count('.')}{leaf}: \"a\\0b\"\n")
    with pytest.raises(StanceError, match=rf"c.yaml:\d+: {re.escape(field)}: a path cannot contain a NUL"):
        load_config(write(tmp_path, text))


def test_transformer_model_path_with_nul_is_refused(tmp_path):
    with pytest.raises(StanceError, match="model.model: a path cannot contain a NUL"):
        load_config(write(tmp_path, "name: x\nmodel: {kind: transformer, model: \"a\\0b\"}\n"))


def test_a_tune_grid_point_is_validated_like_the_config():
    base = TfidfModel(tune={"C": [0.5, 2.0]})
    assert base.grid_point({"C": 2.0}).C == 2.0
    with pytest.raises(ValidationError):
        base.grid_point({"word_ngrams": (3, 1)})  # model_copy(update=...) would have accepted it


def test_scikit_learn_parameter_checks_run_at_load_time():
    from stance.models.tfidf import check_params

    # model_construct skips pydantic: what is left is scikit-learn's own validation.
    with pytest.raises(ValueError, match="'C' parameter of LogisticRegression"):
        check_params(TfidfModel.model_construct(**{**TfidfModel().model_dump(), "C": -1.0}))


def test_shipped_configs_load_strictly_and_their_saved_form_loads_again():
    # Strict types and the layout checks accept every shipped config, and the saved form (every
    # field spelled out, defaults included) validates again to the same run id.
    from stance.config import ExperimentConfig, TrainConfig, is_experiment_file, load_experiment
    from tests.conftest import REPO

    for path in sorted((REPO / "configs").glob("*.yaml")):
        runs = list(load_experiment(path).runs().values()) if is_experiment_file(path) else [load_config(path)]
        for cfg in runs:
            again = TrainConfig.model_validate(cfg.canonical())
            assert again.config_hash() == cfg.config_hash(), path
    assert ExperimentConfig  # imported for the schema rebuilt with the kinds


@pytest.mark.parametrize("key, where", [
    ("data.sources.one.jsonl.outlet", ["data", "sources", "one.jsonl", "outlet"]),
    ('data.sources."one.jsonl".outlet', ["data", "sources", "one.jsonl", "outlet"]),
    ("data.sources.'a.b.csv'", ["data", "sources", "a.b.csv"]),
    ("schema.actors.U.S.", ["schema", "actors", "U.S."]),
    ("model.tune.C", ["model", "tune", "C"]),
    ("model..C", ["model", "C"]),
])
def test_a_set_key_keeps_the_dots_of_a_mapping_key(key, where):
    from stance.config import resolve_key

    assert resolve_key(key) == where


def test_a_file_name_with_dots_can_be_set_from_the_command_line(tmp_path):
    cfg = load_config(write(tmp_path, "name: x\n"), ["data.sources.one.jsonl.outlet=Z",
                                                     "data.sources.one.jsonl.body=one_line"])
    assert cfg.data.sources["one.jsonl"].outlet == "Z" and cfg.data.sources["one.jsonl"].body == "one_line"
    with pytest.raises(StanceError, match="the quote \" is not closed"):
        load_config(write(tmp_path, "name: x\n"), ['data.sources."one.jsonl.outlet=Z'])


def test_settings_the_layout_ignores_are_refused_but_their_defaults_are_not(tmp_path):
    from stance.config import config_from_dict

    # The saved form of a char-only model spells out the default word_ngrams: accepted.
    assert config_from_dict({"name": "x", "model": {"features": "char", "word_ngrams": [1, 2]}}).model.features == "char"
    with pytest.raises(StanceError, match=r"model: char_ngrams is not read with features: word"):
        config_from_dict({"name": "x", "model": {"features": "word", "char_ngrams": [3, 3]}})
    stance_run = config_from_dict({"name": "x", "task": "stance", "model": {"context_window": 2}})
    assert stance_run.model.context_window == 2
    with pytest.raises(StanceError, match=r"model: context_window is read only by the stance task \(task is framing\)"):
        config_from_dict({"name": "x", "model": {"context_window": 2}})


def test_numbers_are_not_coerced_from_other_types():
    from stance.config import config_from_dict

    for model, message in (({"C": "2"}, r"model\.C: Input should be a valid number"),
                           ({"min_df": 2.0}, r"model\.min_df: Input should be a valid integer"),
                           ({"max_features": True}, r"model\.max_features: Input should be a valid integer, not a boolean"),
                           ({"tune": {"min_df": [1, True]}}, r"tune\.min_df\[1\] = True: Input should be a valid integer, not a boolean"),
                           ({"kind": "embeddings", "tune": {"C": ["0.5"]}}, r"tune\.C\[0\] = '0\.5': Input should be a valid number")):
        with pytest.raises(StanceError, match=message):
            config_from_dict({"name": "x", "model": model})
    # An integer is still a valid float, and a list a valid n-gram range.
    cfg = config_from_dict({"name": "x", "model": {"C": 2, "word_ngrams": [1, 3], "tune": {"C": [1, 2.5]}}})
    assert cfg.model.C == 2.0 and cfg.model.word_ngrams == (1, 3) and cfg.model.tune == {"C": [1, 2.5]}


def test_a_finished_runs_config_with_ignored_settings_still_loads(tmp_path):
    # Runs made before these settings were refused recorded them; the run must stay usable.
    path = write(tmp_path, "name: x\nmodel: {features: char, word_ngrams: [3, 4], context_window: 2, "
                           "tune: {word_ngrams: [[1, 1], [1, 3]]}}\n")
    with pytest.raises(StanceError, match="word_ngrams is not read with features: char"):
        load_config(path)
    cfg = load_config(path, saved_run=True)
    assert cfg.model.word_ngrams == (3, 4) and cfg.model.context_window == 2
