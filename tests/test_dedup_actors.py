import pytest

from stance.config import DedupConfig, LabelSchema, corpus_defaults
from stance.corpus.actors import Gazetteer
from stance.corpus.dedup import cluster

WIRE_A = ("The defence ministry said on Thursday that military ties between the two countries were operating "
          "at a high level and would be expanded through joint exercises and training programmes next year.")
WIRE_B = ("A spokesman added that cooperation would also cover logistics, medical support and search and rescue "
          "operations in remote northern regions, according to a statement posted online.")
OTHER = ("Farmers in the southern valley reported an early harvest of apricots this season, with prices at "
         "local markets falling by a third compared with last summer.")


def test_merged_wire_paragraphs_are_near_duplicates_and_tie_their_documents():
    # Outlet 1 prints the two wire paragraphs separately, outlet 2 merges them into one.
    ids = ["o1:0:0", "o1:0:1", "o2:0:0", "o3:0:0"]
    docs = ["o1:0", "o1:0", "o2:0", "o3:0"]
    texts = [WIRE_A, WIRE_B, WIRE_A + " " + WIRE_B, OTHER]
    result = cluster(ids, docs, texts, DedupConfig())
    assert result.cluster_id[0] == result.cluster_id[1] == result.cluster_id[2]
    assert result.cluster_id[3] != result.cluster_id[0]
    assert result.dup_group[0] == result.dup_group[2]
    assert result.dup_group[3] not in result.dup_group[:3]


def test_cluster_ids_do_not_depend_on_row_order():
    ids = ["a:0:0", "b:0:0", "c:0:0"]
    docs = ["a:0", "b:0", "c:0"]
    texts = [WIRE_A, WIRE_A.replace("Thursday", "Friday"), OTHER]
    forward = cluster(ids, docs, texts, DedupConfig())
    backward = cluster(ids[::-1], docs[::-1], texts[::-1], DedupConfig())
    assert forward.cluster_id == backward.cluster_id[::-1]


def test_gazetteer_is_case_sensitive_whole_word_and_longest_first():
    gazetteer = Gazetteer({"US": ["U.S.", "US", "United States", "America"], "West": ["EU", "European Union"]},
                          ignore=["Latin America"])
    text = "Let us see: the U.S. and the European Union, but not Latin America, nor EUR or USB. America agreed."
    found = [(m.actor, text[m.start:m.end]) for m in gazetteer.find(text)]
    assert found == [("US", "U.S."), ("West", "European Union"), ("US", "America")]


def test_default_actor_aliases_cover_the_common_names():
    _, schema = corpus_defaults()
    gazetteer = Gazetteer.from_schema(schema)
    text = "Putin, Zelenskyy, Xi Jinping, the White House and NATO met; the Kremlin and Kyiv disagreed."
    assert gazetteer.actors_in(text) == ["Russia", "Ukraine", "China", "US", "West"]
    assert isinstance(schema, LabelSchema)


def test_band_sort_candidates_are_the_ones_minhash_lsh_gives():
    from datasketch import MinHash, MinHashLSH

    from stance.config import DedupConfig
    from stance.corpus.dedup import NearDuplicateIndex, shingles

    rng = __import__("random").Random(3)
    words = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike".split()
    base = [" ".join(rng.choice(words) for _ in range(30)) for _ in range(20)]
    # Variants with a few words changed: some stay near-duplicates, some drift away.
    texts = base + [" ".join(w if rng.random() > p else rng.choice(words) for w in t.split())
                    for t in base for p in (0.05, 0.3)]
    cfg = DedupConfig()
    index = NearDuplicateIndex(cfg)
    for start in range(0, len(texts), 7):  # in batches, as a sharded ingest feeds it
        chunk = texts[start:start + 7]
        index.add([str(start + k) for k in range(len(chunk))], ["d"] * len(chunk), chunk)
    lsh = MinHashLSH(threshold=cfg.candidate_jaccard, num_perm=cfg.num_perm)
    hashes = MinHash.bulk([[s.encode() for s in shingles(t, cfg.shingle_words)] for t in texts],
                          num_perm=cfg.num_perm, seed=1)
    for i, mh in enumerate(hashes):
        lsh.insert(i, mh)
    expected = {(min(i, j), max(i, j)) for i, mh in enumerate(hashes) for j in lsh.query(mh) if i != j}
    assert len(expected) > 10
    assert set(map(tuple, index.candidates().tolist())) == expected


FLASH = "The northern ferry port reopened on Sunday, officials said."


def test_a_short_wire_flash_carried_by_three_outlets_is_one_story():
    # Too short for MinHash (fewer than min_shingles shingles); each outlet punctuates, capitalises
    # or datelines it its own way.
    texts = [FLASH, "PORTVILLE (Wire) - " + FLASH.upper(), FLASH.replace(",", " --"),
             OTHER, "Officials said talks continue.", "Officials said talks continue."]
    ids = [f"o{k}:0:0" for k in range(len(texts))]
    docs = [f"o{k}:0" for k in range(len(texts))]
    cfg = DedupConfig()
    from stance.corpus.dedup import shingles

    assert all(len(shingles(t, cfg.shingle_words)) < cfg.min_shingles for t in texts[:3])
    result = cluster(ids, docs, texts, cfg)
    assert result.dup_group[0] == result.dup_group[1] == result.dup_group[2]
    assert result.cluster_id[0] == result.cluster_id[1] == result.cluster_id[2] != result.cluster_id[3]
    # A generic line under exact_min_words words is not evidence of a shared story.
    assert result.cluster_id[4] != result.cluster_id[5]


def test_short_copies_are_grouped_the_same_whole_or_in_batches():
    from stance.corpus.dedup import NearDuplicateIndex

    texts = [FLASH, OTHER, FLASH.lower(), WIRE_A, FLASH + " ", WIRE_A]
    whole = cluster([str(k) for k in range(6)], [f"d{k}" for k in range(6)], texts, DedupConfig())
    index = NearDuplicateIndex(DedupConfig())
    for k in range(0, 6, 4):
        index.add([str(j) for j in range(k, min(6, k + 4))], [f"d{j}" for j in range(k, min(6, k + 4))],
                  texts[k:k + 4])
    assert index.result().cluster_id == whole.cluster_id
    assert whole.dup_group[0] == whole.dup_group[2] == whole.dup_group[4]


@pytest.mark.parametrize("text, expected", [
    ("An editorial in the Washington Post urged restraint.", []),
    ("The Kyiv Independent and the Kiev Post ran the same photograph.", []),
    ("A columnist for the Moscow Times disagreed.", []),
    ("Voice of America and Russia Today both carried the briefing.", []),
    ("The South China Morning Post and China Daily reported the figures.", []),
    ("Fuel rose by US$3 a barrel, or U.S.$2.50 a gallon.", []),
    ("The US dollar and the Russian rouble both fell.", []),
    ("Tourists in Xi'an celebrated Chinese New Year.", []),
    ("Bank of America analysts cut their forecast for West Bengal.", []),
    # the real actor beside its false friend is still found
    ("The Washington Post said Washington would send envoys.", ["US"]),
    ("A Moscow Times reporter said Moscow denied it.", ["Russia"]),
    ("Prices rose by US$3 after the US announced tariffs.", ["US"]),
])
def test_outlets_currencies_and_other_false_friends_are_not_actors(text, expected, defaults):
    _, schema = defaults
    assert Gazetteer.from_schema(schema).actors_in(text) == expected


def test_all_caps_headlines_are_matched_only_when_asked(defaults):
    _, schema = defaults
    headline = "UKRAINE SAYS KREMLIN DELAYED TALKS AS WASHINGTON POST REPORTS NEW AID"
    assert Gazetteer.from_schema(schema).actors_in(headline) == []
    caps = Gazetteer.from_schema(schema.model_copy(update={"match_all_caps": True}))
    assert caps.actors_in(headline) == ["Russia", "Ukraine"]  # the outlet stays ignored in capitals
    assert caps.actors_in("Let us see.") == []  # capitals are added, case-insensitivity is not
