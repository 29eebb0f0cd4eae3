"""docs/api-example.py, the notebook-style walk through the Python API, runs as written."""

import os
import subprocess
import sys

import pandas as pd
import pytest

from tests.conftest import REPO


@pytest.mark.slow
def test_the_api_example_runs_ingest_label_train_report(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([sys.executable, str(REPO / "docs" / "api-example.py")], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "401 paragraphs" in result.stdout and "test macro-F1" in result.stdout
    labels = pd.read_csv(tmp_path / "example-labels.csv")
    assert {"paragraph_id", "text", "framing"} <= set(labels.columns)
    (report,) = (tmp_path / "reports").iterdir()
    estimates = pd.read_csv(report / "estimates.csv")
    assert (estimates["method"] == "PACC").any() and (report / "index.html").is_file()
    (run,) = (tmp_path / "experiments").iterdir()
    assert run.name.startswith("api-example-")
