"""Active-learning suggestions, and the packaged seed labels against the real seed pages."""

import json

import pandas as pd
import pytest

from stance.annotate.agreement import adjudicate
from stance.annotate.standoff import attach_standoff, resolve_annotations_path
from stance.config import DataConfig, load_config
from stance.corpus.ingest import ingest
from stance.corpus.normalize import clean
from stance.suggest import suggest
from stance.train import train
from tests.conftest import REPO, write_labelled_table, write_run_config

QUIET = lambda *a, **k: None  # noqa: E731
SEED_LABELS = REPO / "stance" / "data" / "seeds"


def test_suggest_ranks_only_unlabelled_paragraphs_across_outlets(tmp_path):
    table = write_labelled_table(tmp_path / "t.jsonl", n_docs=60)
    rows = [json.loads(line) for line in table.read_text().splitlines()]
    for i, row in enumerate(rows):
        if i % 2:  # half the corpus is not labelled yet
            row["framing"] = None
    table.write_text("".join(json.dumps(r) + "\n" for r in rows))
    config = write_run_config(tmp_path / "c.yaml", table, "s", tmp_path / "runs")
    run = train(load_config(config), say=QUIET)
    ranked = suggest(run, n=12)
    unlabelled = {f"{r['doc_id']}:{k % 3}" for k, r in enumerate(rows) if r["framing"] is None}
    assert len(ranked) == 12 and set(ranked["paragraph_id"]) <= unlabelled
    assert list(ranked["rank"]) == list(range(1, 13))
    assert ranked["outlet"].iloc[:3].nunique() == 3  # round-robin: each outlet gets a turn first
    assert ranked["cluster_id"].is_unique
    assert ((0 <= ranked["uncertainty"]) & (ranked["uncertainty"] <= 1)).all()


def test_packaged_seed_labels_hold_no_text_and_point_at_the_real_pages(seeds_dir, defaults):
    for path in SEED_LABELS.glob("*.csv"):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        assert "text" not in frame.columns, path
        longest = max(frame[c].str.len().max() for c in frame.columns if c not in ("stance", "reason"))
        assert longest <= 64, f"{path}: a cell of {longest} characters looks like copied text"
    corpus, schema = defaults
    paragraphs = ingest(DataConfig(path=str(seeds_dir)), corpus, schema)
    for name in ("builtin:seeds-pass-a", "builtin:seeds-gold"):
        joined = attach_standoff(paragraphs, resolve_annotations_path(name))  # checks every hash
        assert joined["framing"].notna().sum() == len(paragraphs) == 119, name
    # The adjudicator's reasons are our own words: no five-word run of a seed paragraph in them.
    seed_runs = {" ".join(w[i:i + 5]) for w in (t.lower().split() for t in paragraphs["text"])
                 for i in range(len(w) - 4)}
    for reason in pd.read_csv(SEED_LABELS / "adjudication-notes.csv")["reason"]:
        words = reason.lower().split()
        assert not {" ".join(words[i:i + 5]) for i in range(len(words) - 4)} & seed_runs, reason
    anchors = pd.read_csv(SEED_LABELS / "anchors.csv", dtype={"start": int, "end": int})
    for row in anchors.itertuples():
        source = (seeds_dir / row.source).read_text(encoding="utf-8")
        text = paragraphs.set_index("paragraph_id").at[row.paragraph_id, "text"]
        assert clean(source[row.start:row.end]) == text  # stance.corpus.normalize: the offsets contract


@pytest.mark.parametrize("labels_file", ["pass-a.csv", "pass-b.csv"])
def test_each_pass_covers_every_field_the_schema_asks_for(defaults, labels_file):
    _, schema = defaults
    labels = pd.read_csv(SEED_LABELS / labels_file, dtype=str)
    anchors = pd.read_csv(SEED_LABELS / "anchors.csv", dtype=str, keep_default_na=False)
    assert set(labels["paragraph_id"]) == set(anchors["paragraph_id"])
    assert labels["annotator"].nunique() == 1
    for pid, actors in zip(anchors["paragraph_id"], anchors["actors"]):
        fields = set(labels.loc[labels["paragraph_id"] == pid, "field"])
        expected = {"framing", "sentiment"} | {f"stance:{a}" for a in actors.split("|") if a}
        assert fields == expected, pid
    assert set(labels.loc[labels["field"] == "framing", "label"]) <= set(schema.framing_classes)


def test_gold_is_the_adjudication_of_the_two_passes(tmp_path):
    """Re-running the documented adjudication reproduces the committed gold file exactly."""
    passes = [pd.read_csv(SEED_LABELS / f, dtype=str) for f in ("pass-a.csv", "pass-b.csv")]
    adjudicator = pd.read_csv(SEED_LABELS / "adjudicator.csv", dtype=str)
    gold, ties = adjudicate(pd.concat(passes, ignore_index=True), adjudicator)
    assert ties.empty
    committed = pd.read_csv(SEED_LABELS / "gold.csv", dtype=str)
    stance = committed["stance"].map(json.loads)
    for row in gold.itertuples():
        line = committed.loc[committed["paragraph_id"] == row.paragraph_id].index[0]
        if row.field.startswith("stance:"):
            assert stance[line][row.field.split(":", 1)[1]] == row.label
        else:
            assert committed.at[line, row.field] == row.label


@pytest.mark.slow
def test_seeds_config_trains_on_the_seed_pages(seeds_dir, tmp_path):
    cfg = load_config(REPO / "configs" / "seeds.yaml", [f"data.path={seeds_dir}", f"output_dir={tmp_path}",
                                                        "split.repeats=1"])
    run = train(cfg, say=QUIET)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["test"]["n"] == 119  # cross-validated: every paragraph tested once
    assert json.loads((run / "run.json").read_text())["data"]["annotations"]["sha256"]
