"""The umbrella `stance` command: dispatch to each step, and a help that loads nothing heavy."""

import subprocess
import sys

import pytest

from stance import cli
from tests.conftest import REPO


def test_help_lists_every_command_without_importing_heavy_packages():
    code = ("import sys; from stance.cli import main; rc = main(['--help']); "
            "heavy = [m for m in ('torch', 'transformers', 'pandas', 'sklearn', 'quapy') if m in sys.modules]; "
            "print('HEAVY', heavy); sys.exit(rc)")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "HEAVY []" in result.stdout
    for name in cli.COMMANDS:
        assert f"  {name}" in result.stdout


def test_unknown_command_is_a_one_line_error(capsys):
    assert cli.main(["trian"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "unknown command 'trian'" in err


@pytest.mark.parametrize("name", sorted(cli.COMMANDS))
def test_each_command_module_has_a_main(name):
    import importlib

    module = importlib.import_module(cli.COMMANDS[name][0])
    assert callable(getattr(module, "main", None)), f"{cli.COMMANDS[name][0]} has no main(argv)"


def test_python_dash_m_stance_runs_a_step(tmp_path):
    result = subprocess.run([sys.executable, "-m", "stance", "train", "--help"], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "--set" in result.stdout


def test_a_reader_that_leaves_early_is_no_error(tmp_path):
    """`stance ... | head -1`: the command finishes its work and exits 0, without a traceback."""
    import subprocess
    import sys

    script = (f"{sys.executable} -m stance.annotate export builtin:example --out {tmp_path / 'x'} | head -c 1")
    result = subprocess.run(["bash", "-o", "pipefail", "-c", script], capture_output=True, text=True)
    assert "Traceback" not in result.stderr and "BrokenPipeError" not in result.stderr, result.stderr
    assert (tmp_path / "x" / "labels.csv").is_file()
