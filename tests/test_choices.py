"""Choices recorded: the grid point kept, ties and how they were broken, the best epoch (issue 22)."""

import json

from stance.config import load_config
from stance.models.transformer import best_epoch_record
from stance.train import grid_choice, train
from tests.conftest import write_run_config

def test_grid_choice_records_ties_and_warns_at_the_edge():
    grid = {"C": [0.1, 1.0, 10.0]}
    points = [{"C": v} for v in grid["C"]]
    edge = grid_choice(grid, points, [0.5, 0.6, 0.7], chosen=2)
    assert edge["selected"] == {"C": 10.0} and edge["ties"] == [] and edge["tie_break"] is None
    assert edge["warnings"] == ["model.tune.C: the largest value 10.0 of [0.1, 1.0, 10.0] won; the best value may "
                                "lie beyond the grid, widen it"]
    inner = grid_choice(grid, points, [0.5, 0.7, 0.6], chosen=1)
    assert inner["warnings"] == []
    tied = grid_choice(grid, points, [0.7, 0.7, 0.6], chosen=0)
    assert tied["ties"] == [{"C": 1.0}] and "first tied grid point" in tied["tie_break"]
    # C=0.1 won only by the tie-break against an inner value: no edge warning, a tie warning.
    assert len(tied["warnings"]) == 1 and tied["warnings"][0].startswith("1 other grid point(s) tied")
    assert grid_choice({"word_ngrams": [[1, 1], [1, 2]]}, [{"word_ngrams": [1, 1]}, {"word_ngrams": [1, 2]}],
                       [0.4, 0.5], chosen=1)["warnings"] == []

def test_best_epoch_record_and_the_last_epoch_warning():
    log = [{"loss": 1.0, "epoch": 1.0}, {"eval_macro_f1": 0.4, "epoch": 1.0}, {"eval_macro_f1": 0.6, "epoch": 2.0},
           {"eval_macro_f1": 0.6, "epoch": 3.0}, {"eval_macro_f1": 0.5, "epoch": 4.0}]
    record = best_epoch_record(log, 6, 0.6)
    assert record["best_epoch"] == 2.0 and record["best_epoch_ties"] == [3.0] and record["stopped_early"]
    assert record["val_macro_f1_by_epoch"] == {"1": 0.4, "2": 0.6, "3": 0.6, "4": 0.5}
    assert record["warnings"] == []
    rising = [{"eval_macro_f1": 0.1 * k, "epoch": float(k)} for k in (1, 2, 3)]
    last = best_epoch_record(rising, 3, 0.3)
    assert last["best_epoch"] == 3.0 and not last["stopped_early"]
    assert last["warnings"] == ["the best epoch (3) is the last one trained: the model may be under-trained; "
                                "raise model.epochs"]
    assert best_epoch_record([{"loss": 1.0, "epoch": 1.0}], 3, None) == {}

def test_a_tied_grid_is_recorded_in_fit_json_and_the_model_card(tmp_path, labelled_table):
    # Every C separates these easy classes perfectly on validation: a three-way tie.
    config = write_run_config(tmp_path / "c.yaml", labelled_table, "ties", tmp_path / "runs",
                              "model: {tune: {C: [1.0, 3.0, 10.0]}}\n")
    lines = []
    run = train(load_config(config), say=lines.append)
    fit = json.loads((run / "fits" / "r0-f0-s13" / "fit.json").read_text())
    grid = fit["choices"]["grid"]
    scores = [p["val_macro_f1"] for p in grid["points"]]
    assert grid["selected_val_macro_f1"] == max(scores)
    assert grid["selected"] == grid["points"][scores.index(max(scores))]["params"]  # the first of the best
    assert scores == [1.0, 1.0, 1.0] and grid["selected"] == {"C": 1.0}
    assert grid["ties"] == [{"C": 3.0}, {"C": 10.0}] and "first tied grid point" in grid["tie_break"]
    card = (run / "README.md").read_text()
    assert "grid point {'C': 1.0}" in card and "2 tied" in card
    assert any("2 other grid point(s) tied on validation macro-F1" in line for line in lines)
    assert json.loads((run / "run.json").read_text())["fits"]["r0-f0-s13"]["choices"] == fit["choices"]
