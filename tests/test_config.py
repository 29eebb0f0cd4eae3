import pytest

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
