"""The model registry owns everything kind-specific, its config schema included: train, compare,
the config and the model card ask it, never a kind's name."""

import ast
import subprocess
import sys

import numpy as np
import pytest
from pydantic import TypeAdapter

import stance
from stance.config import TrainConfig, config_from_dict, load_config
from stance.errors import StanceError
from stance.models import MODEL_BUILDERS, ModelConfig, ModelKind, load_model, register_kind, unregister_kind
from tests import toy_kind
from tests.conftest import REPO, write_run_config


def test_the_config_schema_is_the_registered_kinds_sections():
    for name, entry in MODEL_BUILDERS.items():
        section = TypeAdapter(ModelConfig).validate_python({"kind": name})
        assert type(section) is entry.schema
    with pytest.raises(StanceError) as caught:
        config_from_dict({"name": "x", "model": {"kind": "svm"}})
    message = str(caught.value)
    assert message.startswith("<config>: model: ") and "'svm'" in message
    assert all(f"'{name}'" in message for name in MODEL_BUILDERS)  # the error lists the known kinds


def test_loading_a_config_imports_no_model_code():
    code = ("import sys; from stance.config import config_from_dict; "
            "cfg = config_from_dict({'name': 'x', 'model': {'kind': 'transformer', 'epochs': 2}}); "
            "heavy = [m for m in ('torch', 'transformers', 'sklearn', 'pandas', 'stance.models.tfidf', "
            "'stance.models.transformer') if m in sys.modules]; print('HEAVY', heavy, cfg.model.epochs)")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "HEAVY [] 2.0" in result.stdout


def test_no_module_outside_the_registry_branches_on_a_kind_name():
    found = []
    for path in sorted((REPO / "stance").rglob("*.py")):
        if path.parent.name == "models" or path.name == "config.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value in MODEL_BUILDERS:
                found.append(f"{path.relative_to(REPO)}:{node.lineno}: {node.value!r}")
    assert found == []


@pytest.fixture
def prior_kind():
    # The one line a new kind adds (tests/toy_kind.py is the rest of it).
    register_kind(ModelKind(toy_kind.PriorModel, "tests.toy_kind"))
    yield MODEL_BUILDERS["prior"]
    unregister_kind("prior")


def test_a_new_kind_is_one_module_and_one_registry_line(prior_kind, tmp_path, labelled_table):
    # Trained from a config dict end to end: validated, grid-searched, saved, described in the
    # model card, loaded and used, with no edit to the config, train or the registry's code.
    run = stance.train({"name": "toy", "data": {"path": str(labelled_table)}, "output_dir": str(tmp_path / "runs"),
                        "model": {"kind": "prior", "tune": {"smoothing": [0.5, 4.0]}}}, quiet=True)
    assert isinstance(run.config.model, toy_kind.PriorModel)
    grid = run.record["fits"]["r0-f0-s13"]["choices"]["grid"]  # one model per grid point, the best kept
    assert [point["params"] for point in grid["points"]] == [{"smoothing": 0.5}, {"smoothing": 4.0}]
    assert "class prior (add-" in (run.path / "README.md").read_text(encoding="utf-8")
    model = load_model(run.path / run.record["primary_model"])
    assert isinstance(model, toy_kind.Prior) and (run.path / run.record["primary_model"] / "prior.json").is_file()
    labels = run.predict(["Officials met to discuss the schedule.", "A second paragraph about trade."])
    assert len(labels) == 2 and set(labels["pred"]) <= set(run.classes_)
    probs = run.predict_proba(["One more paragraph."])
    assert probs.shape == (1, len(run.classes_)) and np.allclose(probs.sum(axis=1), 1.0)


def test_a_new_kinds_config_errors_name_the_file_line_and_key(prior_kind, tmp_path, labelled_table):
    config = write_run_config(tmp_path / "c.yaml", labelled_table, "toy", tmp_path / "runs",
                              "model:\n  kind: prior\n  smoothing: -1\n")
    with pytest.raises(StanceError, match=r"c\.yaml:6: model\.smoothing: Input should be greater than or equal to 0"):
        load_config(config)
    config.write_text(config.read_text().replace("smoothing: -1", "smoothness: 1"))
    with pytest.raises(StanceError, match=r"c\.yaml:6: model\.smoothness: unknown key"):
        load_config(config)
    with pytest.raises(StanceError, match=r"model\.tune\.smoothing\.1: Input should be a valid number"):
        config_from_dict({"name": "x", "model": {"kind": "prior", "tune": {"smoothing": [1, "lots"]}}})


def test_removing_a_kind_removes_it_from_the_config(prior_kind):
    assert config_from_dict({"name": "x", "model": {"kind": "prior"}}).model.kind == "prior"
    unregister_kind("prior")
    try:
        with pytest.raises(StanceError, match="'prior'"):
            config_from_dict({"name": "x", "model": {"kind": "prior"}})
        assert "prior" not in TrainConfig.model_json_schema()["$defs"]
    finally:
        register_kind(ModelKind(toy_kind.PriorModel, "tests.toy_kind"))  # the fixture removes it again


def test_a_section_that_does_not_declare_its_kind_is_refused():
    from stance.models import ModelSection

    class Nameless(ModelSection):
        pass

    with pytest.raises(TypeError, match="kind: Literal"):
        register_kind(ModelKind(Nameless, "tests.toy_kind"))
    assert "Nameless" not in repr(MODEL_BUILDERS)


def test_every_grid_point_is_checked_for_a_kind_without_a_check(prior_kind, tmp_path, labelled_table):
    from stance.models import check_model_config

    assert getattr(__import__("tests.toy_kind").toy_kind, "check", None) is None
    # Refused when the config is loaded, like the built-in kinds' grids: no run folder is begun.
    for grid, message in (([-1.0], r"tune\.smoothing\[0\] = -1\.0: Input should be greater than or equal to 0"),
                          ([True], r"model\.tune\.smoothing\.0: Input should be a valid number, not a boolean"),
                          ([float("inf")], r"Input should be a finite number")):
        with pytest.raises(StanceError, match=message):
            stance.train({"name": "toy", "data": {"path": str(labelled_table)}, "output_dir": str(tmp_path / "runs"),
                          "model": {"kind": "prior", "tune": {"smoothing": grid}}}, quiet=True)
    assert not (tmp_path / "runs").exists()
    # And by the pre-run check, for a section that skipped validation, under the field it is given.
    section = toy_kind.PriorModel.model_construct(kind="prior", smoothing=1.0, tune={"smoothing": [0.5, -2.0]})
    with pytest.raises(StanceError, match=r"^models\.toy\.tune\.smoothing\[1\] = -2\.0: Input should be greater"):
        check_model_config(section, "models.toy")
