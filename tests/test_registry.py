"""The model registry owns everything kind-specific: train, compare and the model card ask it,
never a kind's name."""

import ast
import json
from pathlib import Path

import numpy as np

from stance import models
from stance.config import MODEL_KINDS, load_config
from stance.models import MODEL_BUILDERS, ModelKind, load_model
from stance.train import train
from tests.conftest import REPO, write_run_config


def test_the_registry_and_the_config_name_the_same_kinds():
    assert list(MODEL_BUILDERS) == list(MODEL_KINDS)


def test_no_module_outside_the_registry_and_the_config_branches_on_a_kind_name():
    found = []
    for path in sorted((REPO / "stance").rglob("*.py")):
        if path.parent.name == "models" or path.name == "config.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value in MODEL_BUILDERS:
                found.append(f"{path.relative_to(REPO)}:{node.lineno}: {node.value!r}")
    assert found == []


class MajorityModel:
    """A toy kind: always the most frequent training class (scikit-learn estimator API)."""

    def fit(self, X, y):
        values, counts = np.unique(np.asarray(y, dtype=str), return_counts=True)
        self.classes_ = values
        self.prior_ = counts / counts.sum()
        return self

    def predict_proba(self, X):
        return np.tile(self.prior_, (len(X), 1))

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


def save_majority(model, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "majority.json").write_text(json.dumps({"classes": list(model.classes_), "prior": list(model.prior_)}))


def load_majority(folder: Path) -> MajorityModel:
    saved = json.loads((folder / "majority.json").read_text())
    model = MajorityModel()
    model.classes_, model.prior_ = np.asarray(saved["classes"]), np.asarray(saved["prior"])
    return model


def test_a_kind_is_its_functions_and_one_registry_entry(tmp_path, labelled_table, monkeypatch):
    # The toy kind takes the TF-IDF config section's place: train, save, load and the card use
    # only what the registry entry gives them.
    checked = []
    entry = ModelKind(lambda cfg, task, seed: MajorityModel(), save_majority, load_majority,
                      describe=lambda m: "majority class (toy)", check=checked.append, grid_search=False)
    monkeypatch.setitem(MODEL_BUILDERS, "tfidf", entry)
    config = write_run_config(tmp_path / "c.yaml", labelled_table, "toy", tmp_path / "runs",
                              "model: {tune: {C: [0.5, 2.0]}}\n")
    run = train(load_config(config), say=lambda *a, **k: None)
    record = json.loads((run / "run.json").read_text())
    assert checked and record["fits"]["r0-f0-s13"].get("choices", {}).get("grid") is None  # no grid search
    assert "majority class (toy)" in (run / "README.md").read_text()
    model = load_model(run / record["primary_model"], expected=None)
    assert isinstance(model, MajorityModel)
    assert models.describe_model(load_config(config).model) == "majority class (toy)"
