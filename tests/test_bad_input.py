"""Every kind of bad input named in the reliability issue: one line on stderr, exit code 2,
no traceback, and nothing written. Each case builds its own broken input."""

import json

import pytest

from stance.train import main as train_main
from tests.conftest import write_labelled_table


def write(path, text, binary=False):
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.write_bytes if binary else path.write_text)(text)
    return path


def config_for(tmp_path, data, extra=""):
    # Relative to the project folder the test runs in: inside it, so only the planted fault fails.
    return write(tmp_path / "c.yaml", f"name: bad\ndata: {{path: {data}}}\noutput_dir: runs\n{extra}")


def labelled(tmp_path, mutate=None):
    path = write_labelled_table(tmp_path / "t.jsonl")
    if mutate:
        rows = [json.loads(line) for line in path.read_text().splitlines()]
        mutate(rows)
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def case_malformed_yaml(tmp_path):
    return [str(write(tmp_path / "c.yaml", "name: bad\nmodel: {C: [1, 2\n"))], "c.yaml:3:1: malformed YAML"


def case_unknown_key(tmp_path):
    return [str(write(tmp_path / "c.yaml", "name: bad\nmodel:\n  clasifier: logreg\n"))], \
        "c.yaml:3: model.clasifier: unknown key"


def case_ill_typed_key(tmp_path):
    return [str(write(tmp_path / "c.yaml", "name: bad\nseed: thirteen\n"))], "c.yaml:2: seed: Input should be a valid integer"


def case_config_not_found(tmp_path):
    return [str(tmp_path / "nope.yaml")], "nope.yaml: config file not found"


def case_missing_data_file(tmp_path):
    return [str(config_for(tmp_path, tmp_path / "missing.jsonl"))], "missing.jsonl: data path not found"


def case_missing_data_folder(tmp_path):
    return [str(config_for(tmp_path, tmp_path / "no-such-folder"))], "no-such-folder: data path not found"


def case_empty_corpus_file(tmp_path):
    return [str(config_for(tmp_path, write(tmp_path / "empty.jsonl", "")))], "empty.jsonl: no paragraphs found: the table has no rows"


def case_empty_corpus_folder(tmp_path):
    (tmp_path / "pages").mkdir()
    return [str(config_for(tmp_path, tmp_path / "pages"))], "pages: no paragraphs found"


def case_no_labelled_rows(tmp_path):
    data = labelled(tmp_path, lambda rows: [r.update(framing=None) for r in rows])
    return [str(config_for(tmp_path, data))], "no paragraph has a framing label"


def case_label_not_in_schema(tmp_path):
    data = labelled(tmp_path, lambda rows: rows[4].update(framing="pro-Mars"))
    return [str(config_for(tmp_path, data))], "t.jsonl line 5 (paragraph doc1:1): framing label 'pro-Mars' is not in schema"


def case_unknown_actor(tmp_path):
    data = labelled(tmp_path, lambda rows: rows[0].update(stance={"Mars": "neutral"}))
    return [str(config_for(tmp_path, data)), "--set", "task=stance"], "stance actor 'Mars' is not in schema.actors"


def case_duplicate_paragraph_ids(tmp_path):
    def same_id(rows):
        for r in rows:
            r["paragraph_id"] = "p-" + r["doc_id"]
    return [str(config_for(tmp_path, labelled(tmp_path, same_id)))], "duplicate paragraph id"


def case_model_not_installed(tmp_path):
    return [str(config_for(tmp_path, labelled(tmp_path), "model: {kind: transformer, model: no-such-encoder}\n"))], \
        "model.model: 'no-such-encoder' is neither a known model alias"


def case_bad_override(tmp_path):
    return [str(config_for(tmp_path, labelled(tmp_path))), "--set", "split.test_size=2"], \
        "--set split.test_size: split.test_size: Input should be less than 1"


def case_output_outside_project(tmp_path):
    cfg = write(tmp_path / "c.yaml", f"name: bad\ndata: {{path: {labelled(tmp_path)}}}\noutput_dir: ../../escaped\n")
    return [str(cfg)], "output_dir: ../../escaped is outside the project folder"


# Issue 17, item 5: refused when the config is loaded, before any folder exists.
def case_duplicate_key(tmp_path):
    return [str(config_for(tmp_path, labelled(tmp_path), "task: stance\nseed: 1\ntask: framing\n"))], \
        "c.yaml:6: task: duplicate key (first at line 4)"


def case_alias_bomb_under_a_list(tmp_path):
    lines = ["corpus:", "  stop_markers:", "    - &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"    - &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]" for i in range(8)]
    return [str(config_for(tmp_path, labelled(tmp_path), "\n".join(lines) + "\n"))], \
        "c.yaml:6: YAML anchor &a is not allowed"


def case_reversed_ngrams_override(tmp_path):
    return [str(config_for(tmp_path, labelled(tmp_path))), "--set", "model.word_ngrams=[3,1]"], \
        "--set model.word_ngrams: model.word_ngrams: the n-gram range is reversed"


def case_tune_value_the_model_rejects(tmp_path):
    return [str(config_for(tmp_path, labelled(tmp_path))), "--set", 'model.tune.C=[-1,"abc"]'], \
        "tune.C[0] = -1: Input should be greater than 0"


def case_seed_out_of_range(tmp_path):
    return [str(config_for(tmp_path, labelled(tmp_path), "seed: 99999999999999999999999999999999999\n"))], \
        "c.yaml:4: seed: Input should be less than or equal to 4294967295"


def case_nul_in_output_dir(tmp_path):
    return [str(write(tmp_path / "c.yaml", f"name: bad\ndata: {{path: {labelled(tmp_path)}}}\noutput_dir: \"r\\0x\"\n"))], \
        "c.yaml:3: output_dir: a path cannot contain a NUL"


def case_infinite_tune_value(tmp_path):
    # It used to train, then record C: [null] in the run's config.yaml, which could not be loaded again.
    return [str(config_for(tmp_path, labelled(tmp_path))), "--set", "model.tune.C=[.inf]"], \
        "tune.C[0] = inf: Input should be a finite number"


def case_nan_in_a_file(tmp_path):
    return [str(config_for(tmp_path, labelled(tmp_path), "split: {test_size: .nan}\n"))], \
        "c.yaml:4: split.test_size: Input should be a finite number"


def case_mapped_column_missing(tmp_path):
    # A named column that is not there must not fall back to a column of the default name.
    return [str(config_for(tmp_path, labelled(tmp_path))), "--set", "data.columns.outlet=nope"], \
        "no outlet column 'nope' (data.columns.outlet)"


CASES = [case_mapped_column_missing, case_infinite_tune_value, case_nan_in_a_file, case_duplicate_key, case_alias_bomb_under_a_list, case_reversed_ngrams_override,
         case_tune_value_the_model_rejects, case_seed_out_of_range, case_nul_in_output_dir, case_malformed_yaml, case_unknown_key, case_ill_typed_key, case_config_not_found, case_missing_data_file,
         case_missing_data_folder, case_empty_corpus_file, case_empty_corpus_folder, case_no_labelled_rows,
         case_label_not_in_schema, case_unknown_actor, case_duplicate_paragraph_ids, case_model_not_installed,
         case_bad_override, case_output_outside_project]


@pytest.mark.parametrize("case", CASES, ids=[c.__name__[5:] for c in CASES])
def test_bad_input_is_one_clear_line_and_writes_nothing(case, tmp_path, capsys, monkeypatch):
    work = tmp_path / "project"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.delenv("STANCE_ALLOW_OUTSIDE", raising=False)
    argv, expected = case(tmp_path)
    assert train_main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert expected in err, err
    assert "Traceback" not in err
    assert not any(work.iterdir())  # no run folder, no partial run, nothing


def test_binary_and_non_utf8_pages_are_skipped_with_a_warning_not_fatal(aggregator_page, tmp_path, capsys):
    from stance.corpus.__main__ import main as corpus_main

    write(aggregator_page / "image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", binary=True)
    write(aggregator_page / "latin1.txt", "Caf\xe9 au lait in Kyiv".encode("latin-1"), binary=True)
    assert corpus_main([str(aggregator_page), "--out", str(tmp_path / "out")]) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["files_skipped"] == 2
    assert {s["file"].rsplit("/", 1)[-1] for s in summary["skipped"]} == {"image.txt", "latin1.txt"}


def test_a_folder_that_is_not_a_run_is_named(tmp_path, capsys):
    from stance.annotate.__main__ import main as annotate_main
    from stance.compare import main as compare_main

    (tmp_path / "notarun").mkdir()
    (tmp_path / "notarun" / "metrics.json").write_text("{}")
    assert annotate_main(["suggest", str(tmp_path / "notarun")]) == 2
    assert "notarun: not a run folder" in capsys.readouterr().err
    assert compare_main([str(tmp_path / "notarun")]) == 2
    assert "notarun: no complete runs in this folder" in capsys.readouterr().err
