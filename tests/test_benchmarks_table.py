"""benchmarks/newsmtsc_table.py refuses what it cannot score (one line, exit 2, before any table
line) and still scores the stored NewsMTSC runs; the stored runs are copied, never changed."""

import importlib.util
import json
import shutil
import subprocess
import sys

import pandas as pd
import pytest
import yaml

from stance.files import sha256
from tests.conftest import REPO

RUNS = REPO / "benchmarks" / "runs" / "newsmtsc"
TFIDF, MPNET = RUNS / "newsmtsc-d0bcef0e", RUNS / "newsmtsc-transformer-4f23cec5"
SPEC = importlib.util.spec_from_file_location("newsmtsc_table", REPO / "benchmarks" / "newsmtsc_table.py")
table = sys.modules.setdefault("newsmtsc_table", importlib.util.module_from_spec(SPEC))
SPEC.loader.exec_module(table)  # registered first: its dataclass looks its module up there


def copy(run, where):
    where.parent.mkdir(parents=True, exist_ok=True)
    return shutil.copytree(run, where)


def edit(run, name, change):
    """Change one file of a copied run and record its new SHA-256 in run.json, as a run that
    really was made that way would have it."""
    path = run / name
    if name.endswith(".parquet"):
        change(pd.read_parquet(path)).to_parquet(path)
    else:
        path.write_text(yaml.safe_dump(change(yaml.safe_load(path.read_text()))))
    record = json.loads((run / "run.json").read_text())
    record["files"][name] = sha256(path)
    (run / "run.json").write_text(json.dumps(record))


def refused(capsys, argv, message):
    assert table.main([str(a) for a in argv]) == 2
    out, err = capsys.readouterr()
    assert out == ""  # nothing printed before the error
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: "), err
    assert message in err, err


def test_runs_that_are_missing_unfinished_altered_or_not_newsmtsc_are_refused(tmp_path, capsys):
    refused(capsys, [TFIDF, tmp_path / "nosuch"], "nosuch: run folder not found")
    (tmp_path / "empty").mkdir()
    refused(capsys, [TFIDF, tmp_path / "empty"], "not a run folder")
    partial = copy(TFIDF, tmp_path / "newsmtsc-d0bcef0e.partial")
    record = json.loads((partial / "run.json").read_text())
    (partial / "run.json").write_text(json.dumps({**record, "status": "running"}))
    refused(capsys, [TFIDF, partial], "the run is not complete")
    swapped = copy(TFIDF, tmp_path / "swapped" / TFIDF.name)
    shutil.copy(MPNET / "predictions.parquet", swapped / "predictions.parquet")
    refused(capsys, [swapped], "predictions.parquet: SHA-256 does not match")
    framing = copy(TFIDF, tmp_path / "framing" / TFIDF.name)
    edit(framing, "config.yaml", lambda c: {**c, "task": "framing"})
    refused(capsys, [framing], "not a NewsMTSC run: its task is 'framing'")
    folds = copy(TFIDF, tmp_path / "folds" / TFIDF.name)
    edit(folds, "config.yaml", lambda c: {**c, "data": {**c["data"], "split_files": None},
                                          "split": {**c["split"], "method": "group_kfold"}})
    refused(capsys, [folds], "its val split is not rw-dev.jsonl (data.split_files.val: none; split.method 'group_kfold')")
    no_val = copy(TFIDF, tmp_path / "noval" / TFIDF.name)
    edit(no_val, "predictions.parquet", lambda p: p[p["split"] != "val"])
    refused(capsys, [no_val], "no rw-dev (val) predictions")
    refused(capsys, [TFIDF, RUNS / ".." / "newsmtsc" / TFIDF.name], "the same run is given twice")
    assert sha256(TFIDF / "predictions.parquet") == json.loads((TFIDF / "run.json").read_text())["files"][
        "predictions.parquet"]


def test_pairs_and_n_boot_are_checked_before_anything_is_printed(tmp_path, capsys):
    refused(capsys, [TFIDF, MPNET, "--n-boot", "99"], "--n-boot: use at least 100")
    refused(capsys, [TFIDF, MPNET, "--n-boot", "0"], "--n-boot: use at least 100")
    refused(capsys, [TFIDF, MPNET, "--pair", TFIDF.name], "give two runs separated by a comma")
    refused(capsys, [TFIDF, MPNET, "--pair", f"{TFIDF.name},{MPNET.name},{TFIDF.name}"], "give two runs")
    refused(capsys, [TFIDF, MPNET, "--pair", f"{TFIDF.name},nosuch"], "nosuch is not among the runs given")
    refused(capsys, [TFIDF, MPNET, "--pair", f"{TFIDF.name},{TFIDF}"], "a run compared with itself")
    # Two runs with one folder name are told apart by their paths, in the table and in --pair.
    other = copy(TFIDF, tmp_path / "again" / TFIDF.name)
    refused(capsys, [TFIDF, other, "--pair", f"{TFIDF.name},{other}"], f"2 runs are named {TFIDF.name}")
    assert table.main([str(TFIDF), str(other), str(MPNET), "--pair", f"{other},{MPNET}", "--n-boot", "100"]) == 0
    out = capsys.readouterr().out
    assert f"| {TFIDF} | TF-IDF" in out and f"| {other} | TF-IDF" in out and f"| {MPNET.name} | " in out
    pair_rows = [line for line in out.splitlines() if line.startswith(f"| {other} | {MPNET.name} |")]
    assert [row.split(" | ")[2] for row in pair_rows] == ["rw-dev", "mt-dev"]
    assert all(" | 442 | " in row or " | 343 | " in row for row in pair_rows)


def test_the_script_exits_2_with_one_line_from_the_command_line(tmp_path):
    result = subprocess.run([sys.executable, "benchmarks/newsmtsc_table.py", str(TFIDF), str(tmp_path / "x")],
                            cwd=REPO, capture_output=True, text=True, timeout=120,
                            env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.strip() == f"error: {tmp_path / 'x'}: run folder not found"
