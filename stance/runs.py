"""Run directories: never overwritten, written in a staging folder and renamed when complete.

    experiments/<name>-<confighash8>/        a finished run
    experiments/<name>-<confighash8>-2/      the same config run again (both kept)
    experiments/<name>-<confighash8>.partial/ a run in progress, or one that was interrupted

A run is complete when it holds run.json with "status": "complete"; the rename from
.partial is the last step, so a finished-looking folder is always a finished run.
"""

from __future__ import annotations

import hashlib
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
                     "transformers", "torch", "pydantic", "datasketch", "joblib", "matplotlib")


def run_id_for(name: str, config_hash: str) -> str:
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


def begin_run(output_dir: Path, run_id: str, resume: bool, fresh: bool) -> Path:
    """Create (or reclaim, with resume/fresh) the staging folder for a run."""
    output_dir.mkdir(parents=True, exist_ok=True)
    staging = output_dir / f"{run_id}.partial"
    if staging.exists():
        if fresh:
            shutil.rmtree(staging)
        elif not resume:
            raise StanceError(f"{staging}: an interrupted run of this config is there; "
                              "pass --resume to finish it or --fresh to discard it and start again")
    elif resume:
        raise StanceError(f"{staging}: nothing to resume (no interrupted run of this config)")
    staging.mkdir(exist_ok=True)
    return staging


def finish_run(staging: Path, output_dir: Path, run_id: str) -> Path:
    """Rename the staging folder to the first free run folder name and return it."""
    for n in range(1, 10_000):
        final = output_dir / (run_id if n == 1 else f"{run_id}-{n}")
        try:
            # os.rename onto a missing path is atomic; onto an existing folder it fails, never merges.
            if final.exists():
                continue
            os.rename(staging, final)
            return final
        except OSError:
            if final.exists():
                continue
            raise
    raise StanceError(f"{output_dir}: too many runs named {run_id}")


def previous_runs(output_dir: Path, run_id: str) -> list[Path]:
    if not output_dir.exists():
        return []
    return sorted(p for p in output_dir.iterdir()
                  if p.is_dir() and (p.name == run_id or p.name.startswith(run_id + "-"))
                  and (p / "run.json").exists())


def is_run_dir(path: Path) -> bool:
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
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
