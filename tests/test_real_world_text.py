"""Messy scraped text (issue 16, kinds 1, 4 and 5), on the cases in tests/fixtures/cases (copied
from ../shared/cases/input, written for this project) and on text invented here."""

import shutil

import pytest

from stance.config import DataConfig
from stance.corpus.ingest import IngestReport, ingest, read_page_text
from stance.corpus.normalize import clean, normalize
from tests.conftest import REPO

CASES = REPO / "tests" / "fixtures" / "cases"


def ingest_case(name, tmp_path, defaults, schema=None):
    corpus, default_schema = defaults
    folder = tmp_path / name
    shutil.copytree(CASES / name, folder)
    report = IngestReport()
    frame = ingest(DataConfig(path=str(folder)), corpus, schema or default_schema, report)
    sources = {f.name: read_page_text(f) for f in folder.iterdir()}
    for row in frame.itertuples():  # offsets point into the source file, before normalisation
        assert clean(sources[row.source][row.start:row.end]) == row.text
    return frame, report


def test_p01_entities_are_decoded_and_offsets_still_point_into_the_source(tmp_path, defaults):
    frame, _ = ingest_case("p01_entities", tmp_path, defaults)
    texts = list(frame["text"])
    assert "talks with Moscow & Ankara had stalled" in texts[0]
    assert texts[1] == ("The Kremlin’s spokesman told reporters that Russia's position was \"unchanged\" and that "
                        "the U.S. proposal was not acceptable.")
    assert "the EU’s new package" in texts[2]
    assert not frame["text"].str.contains(r"&#?\w+;").any()
    assert frame.loc[1, "actors"] == ["Russia", "US"]
    source = read_page_text(CASES / "p01_entities" / "page.txt")
    # the raw file still holds the entities where the offsets point
    assert "&#8217;" in source[frame.loc[1, "start"]:frame.loc[1, "end"]]


def test_p02_bom_soft_hyphen_and_zero_width_space_are_neutralised(tmp_path, defaults):
    frame, _ = ingest_case("p02_bom_zw", tmp_path, defaults)
    texts = list(frame["text"])
    assert texts[0].startswith("Russia and Ukraine") and frame.loc[0, "start"] == 1  # after the BOM
    assert "Ukrainian officials" in texts[1] and frame.loc[1, "actors"] == ["Ukraine"]
    assert "for the Kremlin said" in texts[2] and frame.loc[2, "actors"] == ["Russia"]
    assert not any(c in "".join(texts) for c in "\ufeff\u00ad\u200b")


def test_p03_outlets_and_currencies_are_not_actors_and_capitals_can_be_matched(tmp_path, defaults):
    frame, _ = ingest_case("p03_allcaps_outlets", tmp_path, defaults)
    assert [list(a) for a in frame["actors"]] == [[], [], [], []]
    _, schema = defaults
    caps, _ = ingest_case("p03_allcaps_outlets", tmp_path / "caps", defaults,
                          schema.model_copy(update={"match_all_caps": True}))
    assert list(caps.loc[0, "actors"]) == ["Russia", "Ukraine"]
    assert [list(a) for a in caps["actors"][1:]] == [[], [], []]


def test_p15_copies_of_every_length_share_groups_and_one_story(tmp_path, defaults):
    frame, _ = ingest_case("p15_dedup", tmp_path, defaults)
    assert frame["cluster_id"].nunique() == 1
    short = frame[frame["text"].str.startswith("Delegations from Russia")]
    long = frame[frame["text"].str.contains("lakeside hotel")]
    assert len(short) == 2 and short["dup_group"].nunique() == 1  # too short for MinHash
    assert len(long) == 2 and long["dup_group"].nunique() == 1
    assert frame["dup_group"].nunique() == 4


@pytest.mark.parametrize("raw, expected", [
    ("The Kremlin&#8217;s envoy", "The Kremlin’s envoy"),
    ("Tom &amp; Jerry &quot;met&quot;", 'Tom & Jerry "met"'),
    ("the U.S.&nbsp;plan", "the U.S. plan"),
    ("Ukrain\u00adian forces", "Ukrainian forces"),
    ("\ufeffKyiv said", "Kyiv said"),
    ("for the\u200bKremlin", "for the Kremlin"),
    ("a long\u200bword", "a longword"),
    ("the\u200e Kremlin\u2060 said", "the Kremlin said"),
    ("Kremlinâ€™s â€œoffer", "Kremlin’s “offer"),
    ("a caf\u00c3\u00a9 in Kyiv", "a café in Kyiv"),
    ("line&#10;break", "line break"),
    ("x\x00y", "xy"),
    ("Lots of “curly” quotes — kept", "Lots of “curly” quotes — kept"),
])
def test_normalisation_undoes_what_scrapers_leave(raw, expected):
    assert clean(raw) == expected
    norm = normalize(raw)
    assert norm.source_span(0, len(norm.text))[1] <= len(raw)
