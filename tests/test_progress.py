"""Progress bars on the long steps: drawn on a terminal, never with --quiet or into a pipe."""

import io
import sys

import pytest

from stance import progress
from stance.compare import compare, load_run
from stance.config import load_config
from stance.corpus.__main__ import main as corpus_main
from stance.report import main as report_main
from stance.train import main as train_main, train
from tests.conftest import write_run_config

QUIET = lambda *a, **k: None  # noqa: E731


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def loud_again():
    yield
    progress.set_quiet(False)


def on_terminal(monkeypatch) -> Terminal:
    # Inside the test body: pytest's output capture puts its own stderr back after fixtures run.
    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    return screen


def test_no_bar_without_a_terminal_or_with_quiet(monkeypatch):
    on_terminal(monkeypatch)
    assert progress.enabled()
    with progress.quiet():
        assert not progress.enabled()
    assert progress.enabled()
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert not progress.enabled()
    for _ in progress.bar(range(3), desc="hidden"):
        pass
    assert sys.stderr.getvalue() == ""


def test_ingest_train_report_and_compare_show_bars_on_a_terminal(monkeypatch, tmp_path, labelled_table):
    terminal = on_terminal(monkeypatch)
    assert corpus_main([str(labelled_table), "--out", str(tmp_path / "corpus")]) == 0
    assert "ingest labelled.jsonl" in terminal.getvalue()
    config = write_run_config(tmp_path / "c.yaml", labelled_table, "bars", tmp_path / "runs",
                              "split: {method: kfold, folds: 3}\n")
    assert train_main([str(config)]) == 0
    assert "fits" in terminal.getvalue() and "3/3" in terminal.getvalue()
    assert report_main([str(config), "--out", str(tmp_path / "rep"), "--n-boot", "50"]) == 0
    shown = terminal.getvalue()
    assert "predict" in shown and "estimates" in shown and "differences" in shown
    other = train(load_config(config, ["model.C=0.1"]), say=QUIET)
    compare([load_run(p) for p in sorted((tmp_path / "runs").iterdir())] + [load_run(other)], tmp_path / "cmp",
            n_boot=100)
    assert "paired bootstrap" in terminal.getvalue()


def test_quiet_commands_draw_nothing(monkeypatch, tmp_path, labelled_table):
    terminal = on_terminal(monkeypatch)
    assert corpus_main([str(labelled_table), "--out", str(tmp_path / "corpus"), "--quiet"]) == 0
    config = write_run_config(tmp_path / "c.yaml", labelled_table, "nobars", tmp_path / "runs")
    assert train_main([str(config), "--quiet"]) == 0
    assert report_main([str(config), "--out", str(tmp_path / "rep"), "--n-boot", "50", "--quiet"]) == 0
    assert terminal.getvalue() == ""


def test_transformer_steps_show_the_trainers_bar_on_a_terminal_only(monkeypatch, tmp_path, labelled_table,
                                                                    tiny_encoder):
    config = write_run_config(tmp_path / "t.yaml", labelled_table, "tf-bars", tmp_path / "runs",
                              f"model: {{kind: transformer, model: {tiny_encoder}, epochs: 1, batch_size: 16, "
                              "max_length: 32}\n")
    terminal = on_terminal(monkeypatch)
    run = train(load_config(config), say=QUIET)
    import json

    steps = json.loads((run / "run.json").read_text())["fits"]["r0-f0-s13"]["steps"]
    assert f"{steps}/{steps}" in terminal.getvalue()  # the Trainer's step bar reached its end
    terminal.seek(0)
    terminal.truncate(0)
    with progress.quiet():
        train(load_config(config, ["model.epochs=2"]), say=QUIET)
    assert terminal.getvalue() == ""
