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


# Adversarial findings, section A: checks that must run before anything is written, values of
# the wrong type, settings the chosen layout ignores, and wording.
def fake_encoder(tmp_path, config='{"model_type": "bert"}', weights=True, tokenizer=True):
    """A folder that passes the cheap checks of a Hugging Face model (or fails the one left out)."""
    folder = tmp_path / "encoder"
    write(folder / "config.json", config)
    if weights:
        write(folder / "model.safetensors", "")
    if tokenizer:
        write(folder / "vocab.txt", "[PAD]\n[UNK]\n")
    return folder


def case_non_finite_encoder_grid(tmp_path):
    return [str(config_for(tmp_path, labelled(tmp_path), "model: {kind: embeddings}\n")), "--set", "model.tune.C=[.nan]"], \
        "model.tune: tune.C[0] = nan: Input should be a finite number"


def case_boolean_in_encoder_grid(tmp_path):
    return [str(config_for(tmp_path, labelled(tmp_path), "model: {kind: setfit, tune: {C: [true, 2]}}\n"))], \
        "c.yaml:4: model.tune: tune.C[0] = True: Input should be a valid number, not a boolean"


def case_boolean_as_a_number(tmp_path):
    return [str(config_for(tmp_path, labelled(tmp_path))), "--set", "model.C=true"], \
        "--set model.C: model.C: Input should be a valid number, not a boolean (true)"


def case_boolean_in_a_number_list(tmp_path):
    return [str(config_for(tmp_path, labelled(tmp_path))), "--set", "model.word_ngrams=[true,2]"], \
        "model.word_ngrams.0: Input should be a valid integer, not a boolean (true)"


def case_boolean_seeds(tmp_path):
    return [str(config_for(tmp_path, labelled(tmp_path), "seeds: [true, false]\n"))], \
        "c.yaml:4: seeds.0: Input should be a valid integer, not a boolean (true)"


def case_numeric_string_in_grid(tmp_path):
    return [str(config_for(tmp_path, labelled(tmp_path), "model: {tune: {C: ['1.5']}}\n"))], \
        "model.tune: tune.C[0] = '1.5': Input should be a valid number"


def case_ngrams_the_features_ignore(tmp_path):
    return [str(config_for(tmp_path, labelled(tmp_path), "model: {features: char, word_ngrams: [3, 4]}\n"))], \
        "c.yaml:4: model: word_ngrams is not read with features: char"


def case_grid_the_features_ignore(tmp_path):
    return [str(config_for(tmp_path, labelled(tmp_path), "model: {features: word, tune: {char_ngrams: [[2, 4], [3, 5]]}}\n"))], \
        "model.tune: tune.char_ngrams is not read with features: word (every grid point would be the same model)"


def case_context_window_off_stance(tmp_path):
    return [str(config_for(tmp_path, labelled(tmp_path), "task: sentiment\nmodel: {context_window: 3}\n"))], \
        "model: context_window is read only by the stance task (task is sentiment)"


def case_empty_encoder_path(tmp_path):
    return [str(config_for(tmp_path, labelled(tmp_path), "model: {kind: embeddings, model: ''}\n"))], \
        "c.yaml:4: model.model: a path cannot be empty"


def case_nul_in_encoder_path(tmp_path):
    return [str(config_for(tmp_path, labelled(tmp_path), 'model: {kind: setfit, model: "enc\\0oder"}\n'))], \
        "model.model: a path cannot contain a NUL"


def case_cuda_without_a_gpu(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    extra = f"model: {{kind: transformer, model: {fake_encoder(tmp_path)}, device: cuda}}\n"
    return [str(config_for(tmp_path, labelled(tmp_path), extra))], "model.device: cuda was asked for but torch sees no GPU"


def case_cuda_without_a_gpu_few_shot(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    extra = f"model: {{kind: embeddings, model: {fake_encoder(tmp_path)}, cache: false}}\n"
    return [str(config_for(tmp_path, labelled(tmp_path), extra)), "--set", "model.device=cuda"], \
        "model.device: cuda was asked for but torch sees no GPU"


def case_half_precision_on_the_cpu(tmp_path):
    extra = f"model: {{kind: transformer, model: {fake_encoder(tmp_path)}, device: cpu, precision: bf16}}\n"
    return [str(config_for(tmp_path, labelled(tmp_path), extra))], "model.precision: bf16 training needs a GPU"


def case_model_config_empty(tmp_path):
    extra = f"model: {{kind: transformer, model: {fake_encoder(tmp_path, config='{}')}}}\n"
    return [str(config_for(tmp_path, labelled(tmp_path), extra))], "config.json has no model_type"


def case_model_config_not_json(tmp_path):
    extra = f"model: {{kind: setfit, model: {fake_encoder(tmp_path, config='not json')}}}\n"
    return [str(config_for(tmp_path, labelled(tmp_path), extra))], "config.json is not a readable JSON model config"


def case_model_without_weights(tmp_path):
    extra = f"model: {{kind: embeddings, model: {fake_encoder(tmp_path, weights=False)}}}\n"
    return [str(config_for(tmp_path, labelled(tmp_path), extra))], "holds no weights (*.safetensors or pytorch_model.bin)"


def case_model_without_tokenizer(tmp_path):
    extra = f"model: {{kind: transformer, model: {fake_encoder(tmp_path, tokenizer=False)}}}\n"
    return [str(config_for(tmp_path, labelled(tmp_path), extra))], "holds no tokenizer files"


def case_another_kinds_keys_without_kind(tmp_path):
    return [str(config_for(tmp_path, labelled(tmp_path), "model:\n  max_length: 64\n  epochs: 2\n"))], \
        "c.yaml:4: model.kind is not set, so it is tfidf, which has no max_length, epochs; did you mean kind: transformer"


def case_experiment_config_to_train(tmp_path):
    cfg = write(tmp_path / "exp.yaml", "name: ex\nmodels:\n  a: {kind: tfidf}\n")
    return [str(cfg)], "exp.yaml: an experiment config (it lists models:), not the config of one run"


CASES = [case_non_finite_encoder_grid, case_boolean_in_encoder_grid, case_boolean_as_a_number,
         case_boolean_in_a_number_list, case_boolean_seeds, case_numeric_string_in_grid, case_ngrams_the_features_ignore,
         case_grid_the_features_ignore, case_context_window_off_stance, case_empty_encoder_path, case_nul_in_encoder_path,
         case_cuda_without_a_gpu, case_cuda_without_a_gpu_few_shot, case_half_precision_on_the_cpu, case_model_config_empty,
         case_model_config_not_json, case_model_without_weights, case_model_without_tokenizer,
         case_another_kinds_keys_without_kind, case_experiment_config_to_train,
         case_mapped_column_missing, case_infinite_tune_value, case_nan_in_a_file, case_duplicate_key, case_alias_bomb_under_a_list, case_reversed_ngrams_override,
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


def test_an_unusable_pretrained_cache_is_named_before_anything_is_written(tmp_path, capsys, monkeypatch):
    work = tmp_path / "project"
    work.mkdir()
    monkeypatch.chdir(work)
    write(tmp_path / "a-file", "")
    monkeypatch.setenv("STANCE_CACHE", str(tmp_path / "a-file" / "cache"))  # a folder under a file
    extra = f"model: {{kind: embeddings, model: {fake_encoder(tmp_path)}, device: cpu}}\n"
    assert train_main([str(config_for(tmp_path, labelled(tmp_path), extra))]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"error: STANCE_CACHE ({tmp_path / 'a-file' / 'cache'}): cannot write"), err
    assert not any(work.iterdir())


def test_an_experiment_config_given_to_predict_says_what_to_pass(tmp_path, capsys):
    from stance.predict import main as predict_main

    exp = write(tmp_path / "exp.yaml", "name: ex\nmodels:\n  a: {kind: tfidf}\n")
    assert predict_main([str(exp), str(labelled(tmp_path)), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "exp.yaml: an experiment config (it lists models:)" in err
    assert "pass one of its runs (experiments/ex-<model>-<hash>)" in err
    assert not (tmp_path / "out").exists()
