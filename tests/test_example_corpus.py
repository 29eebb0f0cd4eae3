"""The embedded example corpus is what configs/base.yaml trains on; check it is what it claims."""

import json

import pytest

from stance.config import corpus_defaults
from stance.corpus.actors import Gazetteer
from stance.corpus.ingest import example_corpus_path


@pytest.fixture(scope="module")
def rows():
    with example_corpus_path().open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def test_size_outlets_and_class_coverage(rows):
    _, schema = corpus_defaults()
    assert len(rows) >= 400
    assert len({r["outlet"] for r in rows}) >= 6
    assert {r["framing"] for r in rows} == set(schema.framing_classes)
    assert {r["sentiment"] for r in rows} == set(schema.sentiment_classes)
    assert {a for r in rows for a in r["stance"]} == set(schema.actors)
    assert {label for r in rows for label in r["stance"].values()} == set(schema.stance_classes)


def test_stance_is_labelled_for_exactly_the_actors_each_paragraph_names(rows):
    _, schema = corpus_defaults()
    gazetteer = Gazetteer.from_schema(schema)
    mismatched = [r["paragraph_id"] for r in rows if set(gazetteer.actors_in(r["text"])) != set(r["stance"])]
    assert mismatched == []


def test_ids_are_unique_and_outlets_lean_differently(rows):
    assert len({r["paragraph_id"] for r in rows}) == len(rows)
    share = {}
    for outlet in {r["outlet"] for r in rows}:
        mine = [r["framing"] for r in rows if r["outlet"] == outlet]
        share[outlet] = {f: mine.count(f) / len(mine) for f in set(mine)}
    assert share["Volga Herald"].get("pro-Russia", 0) > 0.5
    assert share["The Dnipro Ledger"].get("pro-Ukraine", 0) > 0.5
    assert share["Continental Wire"].get("neutral", 0) == 1.0
