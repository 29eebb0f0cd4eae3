"""`stance.evaluate RUN FILE`: score a trained run on labelled data it was not trained on (issue 22)."""

import json
import random
from pathlib import Path

import pandas as pd
import pytest
from sklearn.metrics import f1_score

from stance.evaluate import main as evaluate_main
from stance.train import main as train_main
from tests.conftest import REPO, write_labelled_table, write_run_config

VALUES = {"AGAINST": "unfavourable", "NONE": "neutral", "FAVOR": "favourable"}
CUES = {"AGAINST": "condemn the brutal aggression of", "NONE": "a weather report mentions",
        "FAVOR": "we proudly stand with the brave people of"}
FILLER = "ferry harbour winter budget council river market railway school bridge festival".split()


def write_tweets(path: Path, n: int, seed: int) -> Path:
    """A wide table like public tweet stance data: Tweet, Target 1, Stance 1, Target 2, Stance 2."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        s1, s2 = rng.choice(list(CUES)), rng.choice(list(CUES))
        words = " ".join(rng.sample(FILLER, 4))
        text = f"{words}: {CUES[s1]} Russia, and {CUES[s2]} Ukraine #{i}"
        rows.append({"Tweet": text, "Target 1": "Russia", "Stance 1": s1, "Target 2": "Ukraine", "Stance 2": s2})
    pd.DataFrame(rows).to_csv(path, index=False, sep=";")  # an Excel-style semicolon sheet
    return path


def write_long(path: Path, n: int, seed: int) -> Path:
    """The same kind of text as a long table: one row per (paragraph, target span), offsets given."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        s1, s2 = rng.choice(list(CUES)), rng.choice(list(CUES))
        text = f"{' '.join(rng.sample(FILLER, 4))}: {CUES[s1]} Russia, and {CUES[s2]} Ukraine"
        for target, label in (("Russia", s1), ("Ukraine", s2)):
            start = text.index(target)
            rows.append({"article": f"art{i // 2}", "pid": f"p{i}", "body": text, "mention": target,
                         "start": start, "end": start + len(target) - 1, "role": label})  # inclusive ends
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


STANCE_RUN = """name: tweets
task: stance
output_dir: {runs}
data:
  path: {table}
  columns: {{text: Tweet}}
  targets: [{{target: Target 1, label: Stance 1}}, {{target: Target 2, label: Stance 2}}]
  labels: {{values: {{AGAINST: unfavourable, NONE: neutral, FAVOR: favourable}}}}
"""


@pytest.fixture(scope="module")
def stance_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("stance_run")
    table = write_tweets(tmp / "tweets.csv", 90, seed=1)
    config = tmp / "c.yaml"
    config.write_text(STANCE_RUN.format(runs=tmp / "runs", table=table), encoding="utf-8")
    assert train_main([str(config), "--quiet"]) == 0
    return next((tmp / "runs").iterdir())


LONG = ["--set", "data.targets=null", "--set", "data.columns.text=body", "--set", "data.columns.paragraph_id=pid",
        "--set", "data.columns.doc_id=article", "--set", "data.columns.target=mention",
        "--set", "data.columns.target_start=start", "--set", "data.columns.target_end=end",
        "--set", "data.labels.stance=role", "--set", "data.offsets.end=inclusive"]


def test_stance_run_scored_on_a_long_table_of_another_shape(stance_run, tmp_path, capsys):
    gold = write_long(tmp_path / "roles.jsonl", 30, seed=2)
    out = tmp_path / "E"
    assert evaluate_main([str(stance_run), str(gold), "--out", str(out), *LONG]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    predictions = pd.read_parquet(out / "predictions.parquet")
    assert metrics["examples"] == len(predictions) == 60 and predictions["paragraph_id"].nunique() == 30
    classes = ["favourable", "unfavourable", "neutral"]
    present = [c for c in classes if c in set(predictions["label"]) | set(predictions["pred"])]
    assert metrics["macro_f1"] == pytest.approx(f1_score(predictions["label"], predictions["pred"], labels=present,
                                                         average="macro"))
    ci = metrics["ci"]["macro_f1"]
    assert ci["low"] <= metrics["macro_f1"] <= ci["high"]
    # Two paragraphs per article, grouped into one story cluster each: 15 units resampled, not 60.
    assert metrics["ci_resampled"] == {"unit": "story cluster", "groups": 15, "documents": 15}
    assert set(metrics["per_target"]) == {"Russia", "Ukraine"}
    assert sum(sum(row) for row in metrics["confusion"]["matrix"]) == 60
    assert 0 <= metrics["calibration"]["ece"] <= 1 and len(metrics["calibration"]["bins"]) == 10
    assert metrics["macro_f1"] > 0.6  # the cues are learnable: a sanity floor, not a target
    assert "macro-F1" in capsys.readouterr().out


def test_labels_outside_the_run_classes_are_refused_and_nothing_written(stance_run, tmp_path, capsys):
    gold = write_long(tmp_path / "roles.jsonl", 6, seed=3)
    text = gold.read_text().replace('"role": "NONE"', '"role": "MIXED"')
    gold.write_text(text)
    out = tmp_path / "E"
    assert evaluate_main([str(stance_run), str(gold), "--out", str(out), *LONG]) == 2
    err = capsys.readouterr().err
    assert "'MIXED' is not in schema.stance_classes" in err and len(err.strip().splitlines()) == 1
    assert not out.exists() and not (tmp_path / "E.partial").exists()


def test_only_data_settings_can_change_and_out_is_never_overwritten(stance_run, tmp_path, capsys):
    gold = write_tweets(tmp_path / "more.csv", 12, seed=4)
    assert evaluate_main([str(stance_run), str(gold), "--out", str(tmp_path / "E"), "--set", "task=framing"]) == 2
    assert "only data.* settings" in capsys.readouterr().err
    assert evaluate_main([str(stance_run), str(gold), "--out", str(tmp_path / "E")]) == 0
    assert evaluate_main([str(stance_run), str(gold), "--out", str(tmp_path / "E")]) == 2
    assert "exists" in capsys.readouterr().err


def test_targets_in_whole_documents(stance_run, tmp_path):
    rows, docs = [], {}
    rng = random.Random(5)
    for d in range(8):
        labels = [rng.choice(list(CUES)) for _ in range(2)]
        doc = (f"Harbour news for week {d}.\n"
               f"Officials said: {CUES[labels[0]]} Russia today.\n"
               f"Later a columnist wrote: {CUES[labels[1]]} Ukraine as well.")
        for target, label, nth in (("Russia", labels[0], 0), ("Ukraine", labels[1], 0)):
            start = doc.index(target)
            rows.append({"doc_id": f"d{d}", "Tweet": doc, "mention": target, "start": start,
                         "end": start + len(target), "role": label})
    gold = tmp_path / "docs.jsonl"
    gold.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "E"
    settings = ["--set", "data.targets=null", "--set", "data.columns.target=mention", "--set",
                "data.columns.target_start=start", "--set", "data.columns.target_end=end",
                "--set", "data.labels.stance=role"]
    assert evaluate_main([str(stance_run), str(gold), "--out", str(out), "--rows-are", "documents", *settings]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    predictions = pd.read_parquet(out / "predictions.parquet")
    assert metrics["examples"] == 16 and metrics["paragraphs"] == 24  # 3 lines per document
    assert set(predictions["paragraph_id"].str.rsplit(":", n=1).str[1]) == {"1", "2"}
    assert metrics["ci_resampled"]["documents"] == 8


def test_framing_run_on_another_labelled_file(tmp_path):
    table = write_labelled_table(tmp_path / "a.jsonl", n_docs=30)
    other = write_labelled_table(tmp_path / "b.jsonl", n_docs=8)
    config = write_run_config(tmp_path / "c.yaml", table, "fr", tmp_path / "runs")
    assert train_main([str(config), "--quiet"]) == 0
    run = next((tmp_path / "runs").iterdir())
    assert evaluate_main([str(run), str(other), "--out", str(tmp_path / "E")]) == 0
    metrics = json.loads((tmp_path / "E" / "metrics.json").read_text())
    assert metrics["task"] == "framing" and metrics["n"] == 24 and "per_target" not in metrics
    assert metrics["majority_baseline"]["label"] in metrics["confusion"]["labels"]
    assert set(metrics["per_class"]) <= set(metrics["confusion"]["labels"])


def readme_command(prefix: str) -> list[str]:
    """The README's worked-example command that starts with `prefix`, as argv (without it)."""
    import shlex

    text = (REPO / "README.md").read_text(encoding="utf-8").replace("\\\n", " ")
    line = next(line for line in text.splitlines() if line.startswith(prefix))
    return shlex.split(line)[len(shlex.split(prefix)):]


def test_readme_worked_example(tmp_path, monkeypatch):
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_files", REPO / "docs" / "examples" / "make_files.py")
    make_files = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_files)
    # The committed files are what the script writes (so the README's figures can be re-made).
    monkeypatch.setattr(make_files, "HERE", tmp_path)
    make_files.main()
    for name in ("tweets.csv", "roles.jsonl"):
        assert (tmp_path / name).read_bytes() == (REPO / "docs" / "examples" / name).read_bytes()
    monkeypatch.chdir(REPO)
    runs = tmp_path / "runs"
    assert train_main(["configs/tweets-example.yaml", "--quiet", "--set", f"output_dir={runs}"]) == 0
    run = next(runs.iterdir())
    args = readme_command("python -m stance.evaluate")
    assert args[0].startswith("experiments/tweets-example-") and args[1] == "docs/examples/roles.jsonl"
    settings = args[2:]
    at = settings.index("--out")
    del settings[at:at + 2]  # the README writes to build/; the test to its own folder
    out = tmp_path / "E"
    assert evaluate_main([str(run), args[1], "--out", str(out), *settings]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    shown = (REPO / "README.md").read_text(encoding="utf-8")
    ci = metrics["ci"]["macro_f1"]
    assert (f"macro-F1 {metrics['macro_f1']:.3f} 95% CI [{ci['low']:.3f}, {ci['high']:.3f}]  accuracy "
            f"{metrics['accuracy']:.3f}") in shown
    assert f"{metrics['examples']} examples in {metrics['paragraphs']} paragraphs" in shown
    fit = json.loads((run / "fits" / "r0-f0-s13" / "fit.json").read_text())
    assert fit["choices"]["grid"]["selected"] == {"C": 0.3} and len(fit["choices"]["grid"]["ties"]) == 2


def test_pages_with_standoff_gold_labels(tmp_path, aggregator_page, defaults):
    from stance.annotate.standoff import standoff_table
    from stance.config import DataConfig
    from stance.corpus.ingest import ingest

    table = write_labelled_table(tmp_path / "a.jsonl", n_docs=30)
    config = write_run_config(tmp_path / "c.yaml", table, "fr", tmp_path / "runs")
    assert train_main([str(config), "--quiet"]) == 0
    run = next((tmp_path / "runs").iterdir())
    corpus, schema = defaults
    paragraphs = ingest(DataConfig(path=str(aggregator_page)), corpus, schema)
    labels = (["neutral", "pro-West", "neutral", "pro-Russia"] * 10)[:len(paragraphs)]
    wide = pd.DataFrame({"paragraph_id": paragraphs["paragraph_id"], "framing": labels, "sentiment": "",
                         "stance": "{}"})
    gold = tmp_path / "gold.csv"
    standoff_table(paragraphs, wide).to_csv(gold, index=False)
    out = tmp_path / "E"
    # The run was trained on a table: the pages need the package's page defaults, not its columns.
    assert evaluate_main([str(run), str(aggregator_page), "--out", str(out), "--annotations", str(gold),
                          "--set", "data.format=pages"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["examples"] == len(paragraphs) and metrics["annotations"]["file"] == str(gold)
    assert metrics["per_class"]["neutral"]["support"] == labels.count("neutral")
