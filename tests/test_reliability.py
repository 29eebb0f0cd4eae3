"""Killed runs resume to the same result; the same config gives the same result in two processes.

And the promises of docs/guarantees.md at their edges (issue 17): model files that cannot run
code and are verified before use, resume refused on changed data, predictions tied to their
run, locks, damaged files, full disks.
"""

import json
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from tests.conftest import REPO


def train_command(config, *extra):
    return [sys.executable, "-m", "stance.train", str(config), "--quiet", *extra]


def only_run(folder):
    (run,) = [p for p in folder.iterdir() if p.is_dir() and not p.name.endswith(".partial")]
    return run


@pytest.fixture
def many_fits_config(tmp_path, labelled_table):
    # 5 folds x 4 repeats x 3 seeds = 60 fits: long enough to be killed in the middle.
    path = tmp_path / "k.yaml"
    path.write_text(f"name: killme\ndata: {{path: {labelled_table}}}\n"
                    "split: {method: kfold, folds: 5, repeats: 4, val_size: 0.1}\nseeds: [1, 2, 3]\n"
                    "model: {classifier: sgd_log, features: word}\n", encoding="utf-8")
    return path


@pytest.mark.slow
def test_sigkilled_tfidf_run_resumes_to_the_metrics_of_an_uninterrupted_run(many_fits_config, tmp_path):
    killed_dir, whole_dir = tmp_path / "killed", tmp_path / "whole"
    process = subprocess.Popen(train_command(many_fits_config, "--set", f"output_dir={killed_dir}"), cwd=REPO,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline and process.poll() is None:
        if len(list(killed_dir.glob("*.partial/fits/*/fit.json"))) >= 3:
            break
        time.sleep(0.01)
    assert process.poll() is None, "the run finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    (partial,) = killed_dir.glob("*.partial")
    done_before = len(list(partial.glob("fits/*/fit.json")))
    assert 3 <= done_before < 60 and not (partial / "metrics.json").exists()

    resumed = subprocess.run(train_command(many_fits_config, "--set", f"output_dir={killed_dir}", "--resume"),
                             cwd=REPO, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    whole = subprocess.run(train_command(many_fits_config, "--set", f"output_dir={whole_dir}"), cwd=REPO,
                           capture_output=True, text=True)
    assert whole.returncode == 0, whole.stderr
    a, b = only_run(killed_dir), only_run(whole_dir)
    assert (a / "metrics.json").read_text() == (b / "metrics.json").read_text()
    pa, pb = pd.read_parquet(a / "predictions.parquet"), pd.read_parquet(b / "predictions.parquet")
    pd.testing.assert_frame_equal(pa, pb)
    assert len(pa) == len(pa.drop_duplicates(["repeat", "fold", "seed", "example_id"]))  # nothing twice
    assert json.loads((a / "run.json").read_text())["status"] == "complete"
    print(f"killed after {done_before} of 60 fits; resumed run matches the uninterrupted one")


@pytest.mark.slow
def test_same_config_and_seed_give_identical_tfidf_results_in_two_processes(tmp_path):
    runs = []
    for k in range(2):
        out = tmp_path / f"p{k}"
        result = subprocess.run(train_command(REPO / "configs" / "base.yaml", "--set", f"output_dir={out}",
                                              "--set", "task=stance"), cwd=REPO, capture_output=True, text=True,
                                env={**__import__("os").environ, "PYTHONHASHSEED": str(k + 1)})
        assert result.returncode == 0, result.stderr
        runs.append(only_run(out))
    assert (runs[0] / "metrics.json").read_bytes() == (runs[1] / "metrics.json").read_bytes()
    pd.testing.assert_frame_equal(pd.read_parquet(runs[0] / "predictions.parquet"),
                                  pd.read_parquet(runs[1] / "predictions.parquet"))


TRANSFORMER_TOLERANCE = 1e-5  # class probabilities, CPU, same torch build and thread count


@pytest.mark.slow
def test_same_config_and_seed_give_transformer_results_within_tolerance(tmp_path, labelled_table, tiny_encoder):
    config = tmp_path / "t.yaml"
    config.write_text(f"name: det\ndata: {{path: {labelled_table}}}\n"
                      f"model: {{kind: transformer, model: {tiny_encoder}, epochs: 3, batch_size: 8, "
                      "max_length: 48, learning_rate: 0.003, device: cpu}\n", encoding="utf-8")
    runs = []
    for k in range(2):
        out = tmp_path / f"p{k}"
        result = subprocess.run(train_command(config, "--set", f"output_dir={out}"), cwd=REPO, capture_output=True,
                                text=True)
        assert result.returncode == 0, result.stderr
        runs.append(only_run(out))
    a, b = (pd.read_parquet(r / "predictions.parquet") for r in runs)
    assert (a["pred"] == b["pred"]).all()
    difference = np.abs(a.filter(like="prob_").to_numpy() - b.filter(like="prob_").to_numpy()).max()
    assert difference <= TRANSFORMER_TOLERANCE, difference
    ma, mb = (json.loads((r / "metrics.json").read_text())["test"]["macro_f1"] for r in runs)
    assert ma == mb


# ====================================================================== issue 17

import errno  # noqa: E402
import os  # noqa: E402
import pickle  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

from stance import files  # noqa: E402
from stance.config import load_config  # noqa: E402
from stance.errors import StanceError  # noqa: E402
from stance.models import load_model  # noqa: E402
from stance.predict import check_predictions_provenance, predict_corpus  # noqa: E402
from stance.runs import LOCK_FILE, acquire_lock, begin_run  # noqa: E402
from stance.train import train  # noqa: E402
from tests.conftest import write_labelled_table, write_run_config  # noqa: E402

QUIET = lambda *a, **k: None  # noqa: E731


class Marker:
    """A pickle whose only effect on load is to create a file: proof that loading ran code."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (Path.touch, (Path(self.path),))


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-run")
    table = write_labelled_table(folder / "t.jsonl")
    config = write_run_config(folder / "c.yaml", table, "tiny", folder / "runs")
    return train(load_config(config), say=QUIET)


@pytest.fixture
def run_copy(tiny_run, tmp_path):
    copy = tmp_path / "copied-run"
    shutil.copytree(tiny_run, copy)
    return copy


def model_dir(run):
    return run / json.loads((run / "run.json").read_text())["primary_model"]


def rehash(run):
    """What an attacker who edits the records too would do: make every recorded hash match."""
    folder = model_dir(run)
    meta = json.loads((folder / "model.json").read_text())
    meta["files"] = {name: files.sha256(folder / name) for name in meta["files"]}
    (folder / "model.json").write_text(json.dumps(meta))
    record = json.loads((run / "run.json").read_text())
    record["model_files"] = {k: files.sha256(run / k) for k in record["model_files"]}
    (run / "run.json").write_text(json.dumps(record))


# ---------------------------------------------------------------------- 1. no code runs from a run folder


def test_every_run_file_is_recorded_with_its_hash(tiny_run):
    record = json.loads((tiny_run / "run.json").read_text())
    assert set(record["files"]) == {"config.yaml", "split.csv", "metrics.json", "predictions.parquet", "README.md"}
    assert all(files.sha256(tiny_run / name) == digest for name, digest in record["files"].items())


def test_tfidf_models_are_skops_files_with_hashes_in_run_json(tiny_run):
    folder = model_dir(tiny_run)
    assert (folder / "model.skops").is_file() and not list(folder.glob("*.joblib"))
    record = json.loads((tiny_run / "run.json").read_text())
    relative = folder.relative_to(tiny_run).as_posix()
    assert record["model_files"][f"{relative}/model.skops"] == files.sha256(folder / "model.skops")
    assert record["model_files"][f"{relative}/model.json"] == files.sha256(folder / "model.json")


@pytest.mark.parametrize("rehashed", [False, True], ids=["hashes-kept", "hashes-forged"])
def test_a_pickle_in_place_of_the_model_runs_no_code(run_copy, tmp_path, rehashed):
    marker = tmp_path / "MARKER"
    (model_dir(run_copy) / "model.skops").write_bytes(pickle.dumps(Marker(marker)))
    if rehashed:
        rehash(run_copy)
    expected = "model.skops: SHA-256 does not match" if not rehashed else "model.skops: damaged model file"
    with pytest.raises(StanceError, match=expected):
        load_model_of(run_copy)
    from stance.annotate.__main__ import main as annotate_main
    from stance.predict import main as predict_main
    from stance.report import main as report_main

    table = json.loads((run_copy / "run.json").read_text())["data"]["path"]
    assert predict_main([str(run_copy), table, "--out", str(tmp_path / "p"), "--quiet"]) == 2
    assert report_main([str(run_copy), "--out", str(tmp_path / "r"), "--n-boot", "50"]) == 2
    assert annotate_main(["suggest", str(run_copy), "--n", "5"]) == 2
    assert not marker.exists()


def load_model_of(run):
    from stance.predict import load_run_model

    return load_run_model(run)


def test_a_pickle_dropped_beside_the_model_is_refused_unread(run_copy, tmp_path):
    marker = tmp_path / "MARKER"
    (model_dir(run_copy) / "model.joblib").write_bytes(pickle.dumps(Marker(marker)))
    with pytest.raises(StanceError, match=r"model.joblib: not among the files recorded"):
        load_model_of(run_copy)
    assert not marker.exists()


def test_a_run_saved_as_a_pickle_by_an_older_stance_is_refused_with_advice(run_copy, tmp_path):
    marker = tmp_path / "MARKER"
    folder = model_dir(run_copy)
    (folder / "model.skops").unlink()
    (folder / "model.joblib").write_bytes(pickle.dumps(Marker(marker)))
    meta = json.loads((folder / "model.json").read_text())
    del meta["files"]
    (folder / "model.json").write_text(json.dumps(meta))
    with pytest.raises(StanceError, match=r"older stance without file hashes \(model.joblib: a pickle.*train the run again"):
        load_model(folder)
    record = json.loads((run_copy / "run.json").read_text())
    del record["model_files"]
    (run_copy / "run.json").write_text(json.dumps(record))
    with pytest.raises(StanceError, match=r"run.json: made by an older stance .* train the run again"):
        load_model_of(run_copy)
    assert not marker.exists()


def test_a_skops_file_holding_an_untrusted_type_is_refused_even_with_forged_hashes(run_copy):
    import skops.io as sio
    from sklearn.preprocessing import FunctionTransformer

    # A valid skops file whose object would call an arbitrary function: skops must refuse the type.
    sio.dump(FunctionTransformer(func=os.system), model_dir(run_copy) / "model.skops")
    rehash(run_copy)
    with pytest.raises(StanceError, match=r"model.skops: holds types stance does not trust"):
        load_model_of(run_copy)


def test_transformers_load_only_safetensors_and_never_remote_code(tmp_path):
    source = "\n".join(p.read_text() for p in (REPO / "stance").rglob("*.py"))
    assert "trust_remote_code=True" not in source
    transformer_source = (REPO / "stance/models/transformer.py").read_text()
    assert "use_safetensors=True" in transformer_source and "trust_remote_code=False" in transformer_source
    from stance.models import transformer

    folder = tmp_path / "m"
    folder.mkdir()
    (folder / transformer.META_FILE).write_text(json.dumps({"config": {"kind": "transformer"}, "task": "framing",
                                                             "seed": 1, "classes": ["a", "b"], "base_model": "x"}))
    (folder / "pytorch_model.bin").write_bytes(b"not loaded")
    with pytest.raises(StanceError, match="no .safetensors weights"):
        transformer.load(folder)


# ---------------------------------------------------------------------- 2. --resume refuses changed data


def interrupted_run(tmp_path, monkeypatch, more="", setup=None):
    """A run of three seeds stopped after its first fit, with its data table and config."""
    import stance.train as train_module

    table = write_labelled_table(tmp_path / "t.jsonl")
    if setup:
        edit_rows(table, setup)
    config = write_run_config(tmp_path / "c.yaml", table, "res", tmp_path / "runs", "seeds: [1, 2, 3]\n" + more)
    real, calls = train_module.train_one_unit, []

    def stop_after_one(*args, **kwargs):
        if calls:
            raise KeyboardInterrupt
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(train_module, "train_one_unit", stop_after_one)
    with pytest.raises(KeyboardInterrupt):
        train(load_config(config), say=QUIET)
    monkeypatch.setattr(train_module, "train_one_unit", real)
    (partial,) = (tmp_path / "runs").glob("*.partial")
    assert len(list(partial.glob("fits/*/fit.json"))) == 1 and not (partial / LOCK_FILE).exists()
    return table, config, partial


def edit_rows(table, change):
    rows = [json.loads(line) for line in table.read_text().splitlines()]
    for i, row in enumerate(rows):
        change(i, row)
    table.write_text("".join(json.dumps(r) + "\n" for r in rows))


CHANGES = {
    # outlets relabelled: group_by outlet would split differently
    "outlet": ("split: {group_by: outlet}\n", lambda i, r: r.update(outlet=f"Outlet {(i // 3 + 1) % 12}"),
               "the examples"),
    # dates moved: method time would split differently
    "date": ("split: {method: time, group_by: doc}\n",
             lambda i, r: r.update(date=f"2025-03-{1 + (40 - i // 3) % 28:02d}"), "the examples"),
    "doc_id": ("", lambda i, r: r.update(doc_id=f"d{i // 2}"), "the examples"),
    "label": ("", lambda i, r: r.update(framing="neutral") if i == 7 else None, "the examples"),
    "text": ("", lambda i, r: r.update(text=r["text"] + " Again.") if i == 0 else None, "the examples"),
    # same examples, different file: an unused column added
    "source-only": ("", lambda i, r: r.update(note="x"), "the data files' SHA-256"),
}


@pytest.mark.parametrize("kind", list(CHANGES))
def test_resume_refuses_any_change_in_the_data(tmp_path, monkeypatch, kind):
    more, change, what = CHANGES[kind]
    setup = (lambda i, r: r.update(outlet=f"Outlet {(i // 3) % 12}")) if kind == "outlet" else None
    table, config, partial = interrupted_run(tmp_path, monkeypatch, more, setup)
    before = sorted(p.name for p in partial.rglob("*"))
    edit_rows(table, change)
    with pytest.raises(StanceError, match=rf"the data changed since this run was interrupted \(.*{what}"):
        train(load_config(config), resume=True, say=QUIET)
    assert sorted(p.name for p in partial.rglob("*")) == before  # nothing touched


def test_resume_on_unchanged_data_finishes_the_run(tmp_path, monkeypatch):
    _, config, partial = interrupted_run(tmp_path, monkeypatch, "split: {group_by: outlet}\n",
                                         lambda i, r: r.update(outlet=f"Outlet {(i // 3) % 12}"))
    run = train(load_config(config), resume=True, say=QUIET)
    assert json.loads((run / "run.json").read_text())["status"] == "complete" and not partial.exists()
    assert not (run / LOCK_FILE).exists()


# ---------------------------------------------------------------------- 3. predictions belong to their run


def test_report_refuses_predictions_another_run_made(tmp_path):
    table = write_labelled_table(tmp_path / "t.jsonl")
    run_a = train(load_config(write_run_config(tmp_path / "a.yaml", table, "a", tmp_path / "runs")), say=QUIET)
    run_b = train(load_config(write_run_config(tmp_path / "b.yaml", table, "b", tmp_path / "runs",
                                               "model: {C: 0.5}\n")), say=QUIET)
    predict_corpus(run_a, table, tmp_path / "pred-a", progress=False, say=QUIET)
    assert check_predictions_provenance(run_a, tmp_path / "pred-a")["run_id"] == run_a.name
    with pytest.raises(StanceError, match=rf"pred-a/manifest.json: these predictions were not made by .*{run_b.name} "
                                          r"\(run_id differs"):
        check_predictions_provenance(run_b, tmp_path / "pred-a")
    assert check_predictions_provenance(run_b, tmp_path / "pred-a", external=True)  # declared external
    from stance.report import main as report_main

    assert report_main([str(run_b), "--predictions", str(tmp_path / "pred-a"), "--out", str(tmp_path / "rep"),
                        "--n-boot", "50"]) == 2
    assert not (tmp_path / "rep").exists()
    # The same run id with other model files (the config trained again, differently) is refused too.
    retrained = tmp_path / "a-again"
    shutil.copytree(run_a, retrained)
    record = json.loads((retrained / "run.json").read_text())
    record["model_files"] = {k: "0" * 64 for k in record["model_files"]}
    (retrained / "run.json").write_text(json.dumps(record))
    with pytest.raises(StanceError, match=r"model_files differs"):
        check_predictions_provenance(retrained, tmp_path / "pred-a")


# ---------------------------------------------------------------------- 4. locks


@pytest.fixture
def hold_lock():
    """Another process that takes the lock on a folder the way train and predict do, and keeps it."""
    started = []

    def hold(folder):
        folder.mkdir(parents=True, exist_ok=True)
        process = subprocess.Popen([sys.executable, "-c", "import sys, time; from pathlib import Path; "
                                    "from stance.runs import acquire_lock; acquire_lock(Path(sys.argv[1])); "
                                    "print('locked', flush=True); time.sleep(120)", str(folder)],
                                   cwd=REPO, stdout=subprocess.PIPE, text=True)
        started.append(process)
        assert process.stdout.readline().strip() == "locked"
        return process

    yield hold
    for process in started:
        process.kill()
        process.wait()


def dead_pid():
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def write_lock(folder, pid, **more):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / LOCK_FILE).write_text(json.dumps({"pid": pid, "host": platform.node(), "started": "then", **more}))


@pytest.mark.parametrize("flags", [{}, {"resume": True}, {"fresh": True}], ids=["plain", "resume", "fresh"])
def test_a_live_runs_staging_folder_is_never_reused_or_deleted(tmp_path, hold_lock, flags):
    table = write_labelled_table(tmp_path / "t.jsonl")
    cfg = load_config(write_run_config(tmp_path / "c.yaml", table, "lk", tmp_path / "runs"))
    staging = tmp_path / "runs" / f"lk-{cfg.config_hash()[:8]}.partial"
    holder = hold_lock(staging)
    (staging / "being-written.txt").write_text("live")
    with pytest.raises(StanceError, match=rf"run in progress \(pid {holder.pid} on {platform.node()}"):
        train(cfg, say=QUIET, **flags)
    assert (staging / "being-written.txt").read_text() == "live"
    # Killed, however hard, the holder's lock goes with it: the run can be resumed.
    holder.kill()
    holder.wait()
    if flags.get("resume"):
        (staging / "being-written.txt").unlink()
        assert json.loads((train(cfg, say=QUIET, **flags) / "run.json").read_text())["status"] == "complete"


@pytest.mark.parametrize("lock", ["dead-pid", "reused-pid"])
def test_a_stale_lock_is_taken_over(tmp_path, lock):
    staging = tmp_path / "runs" / "x.partial"
    pid, more = (dead_pid(), {}) if lock == "dead-pid" else (os.getpid(), {"process_start": "-1"})
    write_lock(staging, pid, **more)
    assert begin_run(tmp_path / "runs", "x", resume=True, fresh=False) == staging
    assert json.loads((staging / LOCK_FILE).read_text())["pid"] == os.getpid()


def test_a_lock_held_on_another_host_is_respected(tmp_path):
    staging = tmp_path / "runs" / "x.partial"
    staging.mkdir(parents=True)
    (staging / LOCK_FILE).write_text(json.dumps({"pid": 1, "host": "elsewhere.example", "started": "then"}))
    with pytest.raises(StanceError, match=r"run in progress \(pid 1 on elsewhere.example"):
        begin_run(tmp_path / "runs", "x", resume=False, fresh=True)
    assert staging.is_dir()


def test_predict_resume_refuses_a_prediction_in_progress(tiny_run, tmp_path, hold_lock):
    table = Path(json.loads((tiny_run / "run.json").read_text())["data"]["path"])
    out = tmp_path / "pred"
    predict_corpus(tiny_run, table, out, progress=False, say=QUIET, batch_size=50)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["status"] = "running"
    (out / "manifest.json").write_text(json.dumps(manifest))
    (out / "parts" / "part-000001.parquet").unlink()
    holder = hold_lock(out)
    with pytest.raises(StanceError, match=rf"a prediction in progress \(pid {holder.pid}"):
        predict_corpus(tiny_run, table, out, resume=True, progress=False, say=QUIET, batch_size=50)
    holder.kill()
    holder.wait()
    write_lock(out, dead_pid())
    done = predict_corpus(tiny_run, table, out, resume=True, progress=False, say=QUIET, batch_size=50)
    assert done["status"] == "complete" and not (out / LOCK_FILE).exists()


def test_two_processes_racing_for_one_lock_one_wins(tmp_path):
    folder = tmp_path / "f"
    folder.mkdir()
    acquire_lock(folder)
    child = subprocess.run([sys.executable, "-c", f"from pathlib import Path; from stance.runs import acquire_lock; "
                            f"acquire_lock(Path({str(folder)!r}))"], cwd=REPO, capture_output=True, text=True)
    assert child.returncode != 0 and f"run in progress (pid {os.getpid()}" in child.stderr


@pytest.mark.slow
def test_a_second_writer_with_fresh_is_told_the_run_is_in_progress(many_fits_config, tmp_path):
    out = ["--set", f"output_dir={tmp_path / 'runs'}"]
    first = subprocess.Popen(train_command(many_fits_config, *out), cwd=REPO, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline and not list((tmp_path / "runs").glob("*.partial/fits/*/fit.json")):
        time.sleep(0.01)
    second = subprocess.run(train_command(many_fits_config, *out, "--fresh"), cwd=REPO, capture_output=True, text=True)
    assert second.returncode == 2 and f"run in progress (pid {first.pid}" in second.stderr, second.stderr
    assert "interrupted" not in second.stderr
    assert first.wait(timeout=300) == 0
    assert json.loads((only_run(tmp_path / "runs") / "run.json").read_text())["status"] == "complete"


# ---------------------------------------------------------------------- 6. damaged files


def truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


DAMAGE = {
    "model-truncated": (lambda run: truncate(model_dir(run) / "model.skops"), "model.skops: SHA-256 does not match"),
    "model-missing": (lambda run: (model_dir(run) / "model.skops").unlink(), "model.skops: model file is missing"),
    "model-json-truncated": (lambda run: truncate(model_dir(run) / "model.json"), "model.json: SHA-256 does not match"),
    "run-json-truncated": (lambda run: truncate(run / "run.json"), "run.json: the run record is damaged"),
    "run-json-missing": (lambda run: (run / "run.json").unlink(), "run.json: the run record is missing"),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
@pytest.mark.parametrize("command", ["predict", "suggest"])
def test_a_damaged_run_file_is_one_line_naming_it(run_copy, tmp_path, capsys, damage, command):
    from stance.annotate.__main__ import main as annotate_main
    from stance.predict import main as predict_main

    table = json.loads((run_copy / "run.json").read_text())["data"]["path"]
    spoil, message = DAMAGE[damage]
    spoil(run_copy)
    capsys.readouterr()
    code = (predict_main([str(run_copy), table, "--out", str(tmp_path / "p"), "--quiet"]) if command == "predict"
            else annotate_main(["suggest", str(run_copy), "--n", "5"]))
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and message in err, err


def alter_predictions(path):
    import pandas as pd

    frame = pd.read_parquet(path)
    frame.loc[0, "pred"] = "neutral" if frame.loc[0, "pred"] != "neutral" else "pro-West"
    frame.to_parquet(path, index=False)


@pytest.mark.parametrize("name, spoil, message", [
    ("predictions.parquet", truncate, "predictions.parquet: SHA-256 does not match the one recorded in run.json"),
    ("predictions.parquet", alter_predictions, "predictions.parquet: SHA-256 does not match"),  # valid, but altered
    ("metrics.json", truncate, "metrics.json: SHA-256 does not match"),
    ("run.json", truncate, "run.json: the run record is damaged"),
], ids=["predictions-truncated", "predictions-altered", "metrics-truncated", "run-json-truncated"])
def test_report_and_compare_name_a_damaged_run_file(run_copy, tmp_path, capsys, name, spoil, message):
    from stance.compare import main as compare_main
    from stance.report import main as report_main

    spoil(run_copy / name)
    capsys.readouterr()
    for main, args in ((report_main, ["--out", str(tmp_path / "r"), "--n-boot", "50"]),
                       (compare_main, ["--out", str(tmp_path / "c")])):
        code = main([str(run_copy), str(run_copy), *args] if main is compare_main else [str(run_copy), *args])
        err = capsys.readouterr().err.strip()
        assert code == 2 and len(err.splitlines()) == 1 and message in err, (main.__module__, err)


def test_damaged_predictions_folder_is_one_line_naming_it(tiny_run, tmp_path):
    table = Path(json.loads((tiny_run / "run.json").read_text())["data"]["path"])
    out = tmp_path / "pred"
    predict_corpus(tiny_run, table, out, progress=False, say=QUIET, batch_size=50)
    truncate(out / "parts" / "part-000000.parquet")
    from stance.predict import read_predictions

    with pytest.raises(StanceError, match=r"parts: a prediction part is damaged"):
        read_predictions(out)
    truncate(out / "manifest.json")
    with pytest.raises(StanceError, match=r"manifest.json: the prediction manifest is damaged"):
        check_predictions_provenance(tiny_run, out)


def test_resume_refits_a_finished_fit_whose_model_was_damaged(tmp_path, monkeypatch):
    _, config, partial = interrupted_run(tmp_path, monkeypatch)
    (done,) = partial.glob("fits/*/model/model.skops")
    truncate(done)
    lines = []
    run = train(load_config(config), resume=True, say=lines.append)
    assert any("SHA-256 does not match" in line and "fitting it again" in line for line in lines)
    load_model_of(run)


# ---------------------------------------------------------------------- 7. full disk, read-only folders


def test_a_full_disk_while_saving_the_model_is_one_line_and_leaves_no_partial_file(tmp_path, monkeypatch, capsys):
    """ENOSPC simulated: half the model is written, then the write fails (tests run as root,
    where a read-only chmod does not stop writes, so a real read-only folder cannot be made)."""
    import skops.io as sio

    from stance.train import main as train_main

    real_dump = sio.dump

    def half_then_full(obj, file, **kw):
        real_dump(obj, file, **kw)
        truncate(Path(file))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(sio, "dump", half_then_full)
    table = write_labelled_table(tmp_path / "t.jsonl")
    config = write_run_config(tmp_path / "c.yaml", table, "full", tmp_path / "runs")
    assert train_main([str(config), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "fits/r0-f0-s13/model: cannot write: No space left on device (the disk is full)" in err
    (partial,) = (tmp_path / "runs").glob("*.partial")
    assert not list(partial.rglob("*.skops")) and not list(partial.rglob("*.tmp"))  # nothing half-written
    assert not (partial / LOCK_FILE).exists()


@pytest.mark.parametrize("errno_", [errno.ENOSPC, errno.EROFS])
def test_every_table_write_goes_through_a_temporary_name(tmp_path, monkeypatch, errno_):
    import pandas as pd

    target = tmp_path / "out" / "x.parquet"
    files.write_parquet(target, pd.DataFrame({"a": [1]}))
    before = target.read_bytes()

    def fail(self, path, **kw):
        Path(path).write_bytes(b"half")
        raise OSError(errno_, os.strerror(errno_))

    monkeypatch.setattr(pd.DataFrame, "to_parquet", fail)
    with pytest.raises(StanceError, match=rf"x.parquet: cannot write: {os.strerror(errno_)}"):
        files.write_parquet(target, pd.DataFrame({"a": [2]}))
    assert target.read_bytes() == before and sorted(p.name for p in target.parent.iterdir()) == ["x.parquet"]


def test_an_output_folder_that_cannot_be_created_is_one_line(tmp_path, capsys):
    from stance.train import main as train_main

    table = write_labelled_table(tmp_path / "t.jsonl")
    (tmp_path / "a-file").write_text("x")
    config = write_run_config(tmp_path / "c.yaml", table, "ro", tmp_path / "a-file" / "runs")
    assert train_main([str(config), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "a-file/runs: cannot write" in err, err


@pytest.mark.parametrize("damaged", ["model.safetensors", pytest.param("optimizer.pt", marks=pytest.mark.slow),
                                     pytest.param("trainer_state.json", marks=pytest.mark.slow)])
def test_a_half_written_transformer_checkpoint_falls_back_to_the_previous_one(tmp_path, labelled_table, tiny_encoder,
                                                                              damaged):
    import pandas as pd

    from stance.config import TransformerModel
    from stance.models.transformer import TransformerClassifier, checkpoint_problem

    rows = pd.read_json(labelled_table, lines=True)
    X = rows.assign(target=None, target_spans=None)[["text", "target", "target_spans"]]
    y = rows["framing"].to_numpy()
    train_X, train_y, val_X, val_y = X.iloc[:90], y[:90], X.iloc[90:], y[90:]

    def fit(epochs):
        cfg = TransformerModel(model=str(tiny_encoder), epochs=epochs, batch_size=16, max_length=32,
                               early_stopping_patience=None)
        lines = []
        model = TransformerClassifier(cfg, "framing", 1).fit(train_X, train_y, eval_set=(val_X, val_y),
                                                             work_dir=tmp_path / "ck", progress=lines.append)
        return model, lines

    fit(2)
    first, newest = sorted((tmp_path / "ck").glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
    assert checkpoint_problem(newest) is None
    truncate(newest / damaged)
    assert damaged in checkpoint_problem(newest)
    model, lines = fit(3)
    assert model.fit_info_["resumed_from"] == first.name
    assert any(f"{newest.name}: {damaged} is damaged" in line or f"{newest.name}: {damaged}" in line for line in lines)
    assert model.fit_info_["epochs_run"] == 3


def test_resume_refuses_a_changed_metadata_sidecar(tmp_path):
    """The sidecar fills outlets and dates, which outlet and time splits use: a change is refused."""
    from stance import files
    from stance.train import check_resumable

    data = {"sources": [], "annotations": None, "metadata": {"file": "m.csv", "sha256": "a" * 64},
            "fingerprint": "f", "split_fingerprint": "s"}
    files.write_json(tmp_path / "run.json", {"data": data})
    check_resumable(tmp_path, data)  # unchanged: accepted
    with pytest.raises(StanceError, match="the metadata sidecar"):
        check_resumable(tmp_path, {**data, "metadata": {"file": "m.csv", "sha256": "b" * 64}})


def test_predict_on_unreadable_input_leaves_no_folder_that_blocks_the_retry(tiny_run, tmp_path, capsys):
    """Bad input is found before the first batch: --out is removed, so the fixed input can use it."""
    from stance.predict import main as predict_main

    garbage = tmp_path / "g.parquet"
    garbage.write_bytes(bytes(range(256)) * 10)
    ragged = tmp_path / "ragged.csv"
    ragged.write_text('text,outlet\n"one two",x\n"three",y,z,w\n')
    for corpus, message in ((garbage, "g.parquet: not a readable Parquet file"), (ragged, "ragged.csv: cannot parse")):
        out = tmp_path / "pred"
        assert predict_main([str(tiny_run), str(corpus), "--out", str(out), "--quiet"]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and message in err, err
        assert not out.exists()
    table = json.loads((tiny_run / "run.json").read_text())["data"]["path"]
    assert predict_main([str(tiny_run), table, "--out", str(tmp_path / "pred"), "--quiet"]) == 0
    assert predict_main([str(tiny_run), table, "--out", str(ragged), "--quiet"]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


def test_a_run_record_that_is_not_an_object_is_named_as_damaged(run_copy, tmp_path, capsys):
    from stance.compare import main as compare_main
    from stance.predict import main as predict_main

    (run_copy / "run.json").write_text("[]")
    capsys.readouterr()
    table = tmp_path / "t.csv"
    table.write_text("text\nsome words\n")
    assert compare_main([str(run_copy), str(run_copy), "--out", str(tmp_path / "c")]) == 2
    assert predict_main([str(run_copy), str(table), "--out", str(tmp_path / "p")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2 and all("run.json: the run record is damaged (not a JSON object)" in x for x in lines), lines
