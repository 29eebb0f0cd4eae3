"""Run directories: never overwritten, written in a staging folder and renamed when complete.

    experiments/<name>-<confighash8>/        a finished run
    experiments/<name>-<confighash8>-2/      the same config run again (both kept)
    experiments/<name>-<confighash8>.partial/ a run in progress, or one that was interrupted

A run is complete when it holds run.json with "status": "complete"; the rename from
.partial is the last step, so a finished-looking folder is always a finished run.

While a process writes a staging folder it holds `.lock` in it: an exclusive flock, which the
kernel releases when the process ends however it ends, and a record of the process id, host
and start time for the message. A second process is told the run is in progress, and neither
--resume nor --fresh touches the folder. A lock file left by a process that has ended on this
machine is taken over; one recorded by another machine is respected. See docs/guarantees.md.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from stance.errors import StanceError

RECORDED_PACKAGES = ("stance", "numpy", "pandas", "pyarrow", "scikit-learn", "scipy", "datasets",
                     "transformers", "torch", "pydantic", "datasketch", "skops", "safetensors", "matplotlib")


def run_id_for(name: str, config_hash: str) -> str:
    """The folder name of a config's first run: `<name>-<first 8 hex digits of the config hash>`."""
    return f"{name}-{config_hash[:8]}"


ALLOW_OUTSIDE = "STANCE_ALLOW_OUTSIDE"


def checked_output_dir(path: str, field: str = "output_dir") -> Path:
    """An output folder from a config, refused if it leads outside the folder stance runs in.

    A config is data, and may come from someone else: it must not be able to write runs to
    arbitrary places (`../../somewhere`, `/etc`). Set STANCE_ALLOW_OUTSIDE=1 to allow it.
    """
    if os.environ.get(ALLOW_OUTSIDE) == "1":
        return Path(path)
    project = Path.cwd().resolve()
    resolved = (project / path).resolve()
    if not resolved.is_relative_to(project):
        raise StanceError(f"{field}: {path} is outside the project folder {project}; runs are written inside the "
                          f"folder you run stance from (set {ALLOW_OUTSIDE}=1 to allow another place)")
    return Path(path)


def unit_name(repeat: int, fold: int, seed: int) -> str:
    """One fitted model of a run: a (repeat, fold) of the split and a model seed."""
    return f"r{repeat}-f{fold}-s{seed}"


LOCK_FILE = ".lock"
# Open descriptors of the locks this process holds, by lock path: the kernel releases a flock
# when its process ends (even by SIGKILL), so a crashed writer never leaves a live lock behind.
_HELD: dict[str, int] = {}


def _process_start(pid: int) -> str | None:
    """The kernel's start time of process `pid` (Linux), to tell a reused process id apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _pid_alive(holder: dict[str, Any]) -> bool:
    """For file systems without flock: is the recorded process still the one running?"""
    try:
        pid = int(holder["pid"])
        os.kill(pid, 0)
    except (KeyError, TypeError, ValueError):
        return True  # garbled: never delete what might be live
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    start = holder.get("process_start")
    return start is None or _process_start(pid) in (None, start)


def _read_holder(path: Path) -> dict[str, Any]:
    try:
        holder = json.loads(path.read_text(encoding="utf-8"))
        return holder if isinstance(holder, dict) else {}
    except (OSError, ValueError):
        return {}


def _in_progress(folder: Path, holder: dict[str, Any], what: str) -> StanceError:
    other_host = holder.get("host") not in (None, platform.node())
    advice = (f"if that process is gone, delete {folder / LOCK_FILE} (a lock from another machine cannot be "
              "checked from here)" if other_host else "wait for it to finish, or stop that process first")
    return StanceError(f"{folder}: {what} in progress (pid {holder.get('pid', '?')} on {holder.get('host', '?')}, "
                       f"since {holder.get('started', '?')}); {advice}")


def _try_flock(path: Path) -> int | None:
    """An open descriptor holding an exclusive flock on `path` (created if missing), or None
    when another process holds it. Raises OSError where the file system has no flock."""
    import fcntl

    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        except OSError:
            os.close(fd)
            raise
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)  # the holder released (and removed) it between our open and flock: retry


def lock_holder(folder: Path, what: str = "run") -> dict[str, Any] | None:
    """The lock record of a live writer of `folder`, or None (no lock, or a stale one)."""
    path = folder / LOCK_FILE
    if str(path) in _HELD:
        return _read_holder(path) or {"pid": os.getpid(), "host": platform.node()}
    if not path.exists():
        return None
    holder = _read_holder(path)
    try:
        fd = _try_flock(path)
    except OSError:
        return holder if _pid_alive(holder) else None
    if fd is None:
        return holder
    os.close(fd)
    if holder.get("host") not in (None, platform.node()):
        return holder  # another machine's lock: its flock may not reach us, its pid cannot be checked
    return None


def check_unlocked(folder: Path, what: str = "run") -> None:
    holder = lock_holder(folder, what)
    if holder is not None:
        raise _in_progress(folder, holder, what)


def acquire_lock(folder: Path, what: str = "run") -> Path:
    """Lock `folder` for this process (`folder/.lock`: pid, host, start time), or refuse with
    "in progress" when a live process holds it. A lock left by a process that has ended on
    this machine is taken over."""
    from stance.files import DISK_ERRORS, write_error

    path = folder / LOCK_FILE
    record = {"pid": os.getpid(), "host": platform.node(), "started": now(),
              "process_start": _process_start(os.getpid())}
    check_unlocked(folder, what)
    try:
        fd = _try_flock(path)
    except OSError as exc:
        if exc.errno in DISK_ERRORS:
            raise write_error(path, exc) from None
        # No flock here (some network file systems): the recorded pid decides, and O_EXCL
        # makes one of two racing processes the winner.
        path.unlink(missing_ok=True)  # check_unlocked found it stale
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            raise _in_progress(folder, _read_holder(path), what) from None
    if fd is None:
        raise _in_progress(folder, _read_holder(path), what)
    os.ftruncate(fd, 0)
    os.write(fd, json.dumps(record).encode("utf-8"))
    _HELD[str(path)] = fd
    return path


def release_lock(folder: Path, moved_to: Path | None = None) -> None:
    """Remove this process's lock on `folder` (now at `moved_to`, if it was renamed)."""
    fd = _HELD.pop(str(folder / LOCK_FILE), None)
    if fd is None:
        return
    ((moved_to or folder) / LOCK_FILE).unlink(missing_ok=True)
    os.close(fd)


def begin_run(output_dir: Path, run_id: str, resume: bool, fresh: bool) -> Path:
    """Create (or reclaim, with resume/fresh) the staging folder for a run, and lock it.

    A staging folder whose writer is alive is never reused or deleted, whatever the flags.
    """
    from stance.files import make_dirs

    make_dirs(output_dir)
    staging = output_dir / f"{run_id}.partial"
    if staging.exists():
        check_unlocked(staging)
        if fresh:
            # Take the lock before deleting, so a process starting now cannot claim it meanwhile.
            acquire_lock(staging)
            for child in staging.iterdir():
                if child.name != LOCK_FILE:
                    shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
            return staging
        if not resume:
            raise StanceError(f"{staging}: an interrupted run of this config is there; "
                              "pass --resume to finish it or --fresh to discard it and start again")
    elif resume:
        raise StanceError(f"{staging}: nothing to resume (no interrupted run of this config)")
    make_dirs(staging)
    acquire_lock(staging)
    return staging


def finish_run(staging: Path, output_dir: Path, run_id: str) -> Path:
    """Rename the staging folder to the first free run folder name and return it.

    The lock goes with the folder and is removed after the rename: until then no one else
    can claim the staging folder.
    """
    for n in range(1, 10_000):
        final = output_dir / (run_id if n == 1 else f"{run_id}-{n}")
        try:
            # os.rename onto a missing path is atomic; onto an existing folder it fails, never merges.
            if final.exists():
                continue
            os.rename(staging, final)
            release_lock(staging, moved_to=final)
            return final
        except OSError:
            if final.exists():
                continue
            raise
    raise StanceError(f"{output_dir}: too many runs named {run_id}")


def previous_runs(output_dir: Path, run_id: str) -> list[Path]:
    """Folders of earlier runs of one config (`run_id`, `run_id-2`, ...) holding a run.json,
    complete or not, sorted by name (`complete_runs` keeps the complete ones, by number)."""
    if not output_dir.exists():
        return []
    return sorted(p for p in output_dir.iterdir()
                  if p.is_dir() and (p.name == run_id or p.name.startswith(run_id + "-"))
                  and (p / "run.json").exists())


RECORDED_FILES = ("config.yaml", "split.csv", "metrics.json", "predictions.parquet", "README.md")


def run_file(run_dir: Path, name: str, record: dict[str, Any] | None = None) -> Path:
    """`run_dir/name`, checked against the SHA-256 that run.json recorded for it.

    Raises StanceError naming the file when it is missing or differs. Runs written before
    run.json recorded file hashes are not checked (their damaged files still fail when read).
    """
    from stance import files

    path = run_dir / name
    if record is None:
        record = files.read_json(run_dir / "run.json", "the run record")
    expected = (record.get("files") or {}).get(name) if isinstance(record, dict) else None
    if not path.is_file():
        raise StanceError(f"{path}: missing from the run folder")
    if expected is not None and files.sha256(path) != expected:
        raise StanceError(f"{path}: SHA-256 does not match the one recorded in run.json (the file is damaged or "
                          "was altered); restore the run or train it again")
    return path


def read_run_json(run_dir: Path) -> dict[str, Any]:
    """run.json as a dict; missing, truncated or not a JSON object -> StanceError naming it."""
    from stance import files

    record = files.read_json(run_dir / "run.json", "the run record")
    if not isinstance(record, dict):
        raise StanceError(f"{run_dir / 'run.json'}: the run record is damaged (not a JSON object)")
    return record


def is_run_dir(path: Path) -> bool:
    """Whether `path` holds both run.json and config.yaml (complete or not)."""
    return (path / "run.json").is_file() and (path / "config.yaml").is_file()


def git_state(cwd: Path | None = None) -> dict[str, Any]:
    cwd = cwd or Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True,
                                timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
        return {"commit": commit, "dirty": bool(dirty)}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def environment() -> dict[str, Any]:
    versions = {}
    for name in RECORDED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {"python": sys.version.split()[0], "platform": platform.platform(),
            "machine": platform.machine(), "cpu_count": os.cpu_count(), "packages": versions,
            "git": git_state()}


def file_sha256(path: Path) -> str:
    from stance.files import sha256

    return sha256(path)


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# ------------------------------------------------------------------ reading a finished run
# One reader for every command that takes a run (predict, evaluate, compare, report, suggest and
# the Python API): the same checks, the same one-line errors, and a config naming its newest run.


def complete_runs(output_dir: Path, run_id: str) -> list[Path]:
    """Finished runs of one config (`run_id`) in `output_dir`, oldest first (`-2`, `-3` ... after
    the first). A folder whose run.json is unreadable or not complete is left out."""
    done = []
    for path in previous_runs(output_dir, run_id):
        try:
            record = json.loads((path / "run.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(record, dict) and record.get("status") == "complete":
            done.append(path)
    return sorted(done, key=lambda p: _run_number(p.name, run_id))


def _run_number(name: str, run_id: str) -> int:
    """1 for `<run_id>`, n for `<run_id>-n`: by number, not name, so `-10` is newer than `-9`."""
    tail = name[len(run_id) + 1:]
    return 1 if not tail else int(tail) if tail.isdigit() else 0


def newest_complete_run(config_path: Path, overrides: list[str] | None = None) -> Path:
    """The newest complete run of the config at `config_path` (with `--set` overrides: they
    change the config hash, so they name another run). Raises StanceError when there is none."""
    from stance.config import load_config

    cfg = load_config(config_path, overrides)
    run_id = run_id_for(cfg.name, cfg.config_hash())
    done = complete_runs(Path(cfg.output_dir), run_id)
    if not done:
        raise StanceError(f"{config_path}: no complete run of this config in {cfg.output_dir}/ ({run_id}); "
                          f"train it first: stance train {config_path}")
    return done[-1]


def resolve_run(item: str | Path) -> Path:
    """A run folder as given, or for a YAML config its newest complete run.

    Raises StanceError (one line, naming `item`) for anything else. The folder is not checked
    beyond being a run folder: `read_complete_record` does the rest.
    """
    path = Path(item)
    if path.is_dir():
        if not _looks_like_run(path):
            raise StanceError(f"{path}: not a run folder (no run.json and config.yaml)")
        return path
    if path.suffix.lower() in (".yaml", ".yml") and path.is_file():
        return newest_complete_run(path)
    if not path.exists():
        raise StanceError(f"{path}: run folder or config not found")
    raise StanceError(f"{path}: neither a run folder nor a config file")


def _looks_like_run(path: Path) -> bool:
    # One of the two files is enough to call it a run whose other file is missing (and say so).
    return (path / "run.json").exists() or (path / "config.yaml").exists()


def read_complete_record(run_dir: Path) -> dict[str, Any]:
    """run.json of a complete run; a missing, damaged or unfinished one is a one-line error."""
    if not run_dir.is_dir():
        raise StanceError(f"{run_dir}: run folder not found")
    if not _looks_like_run(run_dir):
        raise StanceError(f"{run_dir}: not a run folder (no run.json and config.yaml)")
    record = read_run_json(run_dir)
    if record.get("status") != "complete":
        raise StanceError(f"{run_dir}: the run is not complete (status {record.get('status')!r}); "
                          "finish it with stance train --resume")
    return record


def read_run_config(run_dir: Path, record: dict[str, Any], overrides: list[str] | None = None) -> Any:
    """The run's resolved `TrainConfig` (config.yaml, checked against run.json's hash)."""
    from stance.config import load_config

    return load_config(run_file(run_dir, "config.yaml", record), overrides, saved_run=True)


def read_run_metrics(run_dir: Path, record: dict[str, Any]) -> dict[str, Any]:
    """metrics.json of the run (checked against run.json's hash) as a dict."""
    from stance import files

    metrics = files.read_json(run_file(run_dir, "metrics.json", record), "the run's metrics")
    if not isinstance(metrics, dict):
        raise StanceError(f"{run_dir / 'metrics.json'}: the run's metrics are damaged (not a JSON object)")
    return metrics


def read_run_predictions(run_dir: Path, record: dict[str, Any]) -> Any:
    """predictions.parquet of the run (every fit's validation and test predictions) as a DataFrame."""
    from stance import files

    return files.read_parquet(run_file(run_dir, "predictions.parquet", record), "the run's predictions file")


def model_hashes(record: dict[str, Any], folder: str) -> dict[str, str]:
    """SHA-256 that run.json recorded for the files of one model folder (`fits/<unit>/model`),
    by path relative to that folder, for `stance.models.load_model(..., expected=...)`."""
    prefix = folder.rstrip("/") + "/"
    expected = {name[len(prefix):]: digest for name, digest in (record.get("model_files") or {}).items()
                if name.startswith(prefix)}
    if not expected:
        raise StanceError(f"run.json: no hashes recorded for the model {folder}; train the run again")
    return expected
