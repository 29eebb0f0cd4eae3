"""Syndicated copy: near-duplicate paragraphs and the stories they tie together.

Candidates come from MinHash LSH (datasketch) on word shingles. Each candidate pair is then
verified on the exact shingle sets by containment (|A & B| / min(|A|, |B|)), because one outlet
often merges two wire paragraphs into one, which halves the Jaccard similarity but leaves
containment high.

Copies too short for MinHash (fewer than `min_shingles` shingles: a one-sentence wire flash)
are caught by an exact key instead: the paragraph's words after normalisation (case,
punctuation, a leading dateline), for paragraphs of at least `exact_min_words` words.

Two documents belong to the same story when enough of the smaller one's paragraphs have a
near-duplicate in the other. Splits group by this story cluster, so a wire story carried by
several outlets never straddles train and test.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from datasketch import MinHash, MinHashLSH

from stance.config import DedupConfig

_WORD = re.compile(r"\w+")


# A wire dateline at the start of a paragraph ("ISTANBUL (Wire) - ", "KYIV, March 3 (Reuters) -"):
# outlets add or drop it, so it is not part of the copy.
_DATELINE = re.compile(r"^[A-Z][A-Z .,'’-]{1,40}(?:,[^()\n]{1,30})?(?:\([^()]{1,30}\))?\s*[-–—]+\s+")


def exact_key(text: str, min_words: int, words: list[str] | None = None) -> int:
    """64-bit key of a paragraph's words, lower-cased, without punctuation or a leading wire
    dateline; 0 when it has fewer than `min_words` words (short lines are too generic to tie
    two stories together). `words`: the text's lower-cased words, if already found."""
    dateline = _DATELINE.match(text)
    if dateline or words is None:
        words = _WORD.findall(text[dateline.end() if dateline else 0:].lower())
    if len(words) < min_words:
        return 0
    return int.from_bytes(hashlib.blake2b(" ".join(words).encode("utf-8"), digest_size=8).digest(), "little") or 1


def shingles(text: str, k: int, words: list[str] | None = None) -> set[str]:
    words = _WORD.findall(text.lower()) if words is None else words
    if len(words) < k:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i:i + k]) for i in range(len(words) - k + 1)}


class UnionFind:
    """Disjoint sets over 0..n-1; the smallest index of a set is its root."""

    def __init__(self, n: int):
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


@dataclass
class DedupResult:
    dup_group: list[str]  # per paragraph
    cluster_id: list[str]  # per paragraph: the story cluster of its document
    pairs: list[tuple[int, int, float]]  # verified near-duplicate paragraph pairs (i, j, containment)


def _stable_id(prefix: str, key: str) -> str:
    return prefix + hashlib.sha1(key.encode("utf-8")).hexdigest()[:10]


def shingle_hashes(found: set[str]) -> np.ndarray:
    """Word shingles as sorted 64-bit hashes: eight bytes each instead of a string, so a million
    paragraphs' shingles stay in memory for the containment check."""
    hashed = {int.from_bytes(hashlib.blake2b(s.encode("utf-8"), digest_size=8).digest(), "little") for s in found}
    return np.fromiter(sorted(hashed), dtype=np.uint64, count=len(hashed))


def band_keys(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One 64-bit key per LSH band (FNV-1a over the band's `rows` MinHash values, then a
    splitmix finaliser). Equal bands give equal keys; a collision of unequal bands only adds a
    candidate pair, which the containment check then judges like any other."""
    values = signatures[:, :bands * rows].reshape(len(signatures), bands, rows)
    keys = np.full((len(signatures), bands), 0xCBF29CE484222325, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for column in range(rows):
            keys ^= values[:, :, column]
            keys *= np.uint64(0x100000001B3)
        keys ^= keys >> np.uint64(33)
        keys *= np.uint64(0xFF51AFD7ED558CCD)
        keys ^= keys >> np.uint64(33)
    return keys


class NearDuplicateIndex:
    """Near-duplicate paragraph pairs of a corpus fed in batches (a whole table, or shard by shard).

    Per paragraph it keeps only its ids, its shingles as 8-byte hashes and one 8-byte key per LSH
    band (datasketch's choice of bands and rows for the configured threshold), a few hundred
    bytes, where a datasketch MinHashLSH index holds kilobytes of Python objects per entry. After
    the last batch, candidates are the paragraphs that share a band key (found by sorting each
    band), the same candidates MinHashLSH gives, and each is verified by shingle containment.
    The result does not depend on how the corpus was cut into batches.
    """

    def __init__(self, cfg: DedupConfig) -> None:
        self.cfg = cfg
        lsh = MinHashLSH(threshold=cfg.candidate_jaccard, num_perm=cfg.num_perm)
        self.bands, self.rows = lsh.b, lsh.r
        self.shingles: list[np.ndarray] = []
        self.paragraph_ids: list[str] = []
        self.doc_ids: list[str] = []
        self.keys: list[np.ndarray] = []  # per batch: (usable paragraphs, bands)
        self.members: list[np.ndarray] = []  # per batch: their positions in the corpus
        self.exact: list[int] = []  # per paragraph: exact_key (0: too short to count)

    # Texts hashed per slice, so the shingle strings of only this many paragraphs are alive at
    # once (a 50 MB one-line page is ~70,000 chunks).
    SLICE = 2048

    def add(self, paragraph_ids: Sequence[str], doc_ids: Sequence[str], texts: Sequence[str]) -> None:
        self.paragraph_ids.extend(paragraph_ids)
        self.doc_ids.extend(doc_ids)
        for begin in range(0, len(texts), self.SLICE):
            self._add_slice(texts[begin:begin + self.SLICE])

    def _add_slice(self, texts: Sequence[str]) -> None:
        first = len(self.shingles)
        words = [_WORD.findall(t.lower()) for t in texts]
        found = [shingles(t, self.cfg.shingle_words, w) for t, w in zip(texts, words)]  # this slice only
        self.shingles.extend(shingle_hashes(f) for f in found)
        self.exact.extend(exact_key(t, self.cfg.exact_min_words, w) for t, w in zip(texts, words))
        usable = [k for k, f in enumerate(found) if len(f) >= self.cfg.min_shingles]
        if not usable:
            return
        # Seeded, so the same corpus always gives the same candidates.
        minhashes = MinHash.bulk([[s.encode("utf-8") for s in found[k]] for k in usable],
                                 num_perm=self.cfg.num_perm, seed=1)
        signatures = np.vstack([m.hashvalues for m in minhashes]).astype(np.uint64)
        self.keys.append(band_keys(signatures, self.bands, self.rows))
        self.members.append(np.asarray(usable, dtype=np.int64) + first)

    def exact_pairs(self) -> list[tuple[int, int, float]]:
        """Paragraphs with the same words after normalisation (case, punctuation, a leading
        dateline): (first of the group, other, 1.0). This catches copies too short for MinHash
        (a one-sentence wire flash has fewer than min_shingles shingles)."""
        keys = np.asarray(self.exact, dtype=np.uint64)
        valid = np.flatnonzero(keys != 0)
        if len(valid) < 2:
            return []
        order = valid[np.argsort(keys[valid], kind="stable")]
        ordered = keys[order]
        starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
        ends = np.r_[starts[1:], len(ordered)]
        out = []
        for start, end in zip(starts[ends - starts > 1], ends[ends - starts > 1]):
            group = np.sort(order[start:end]).tolist()
            out.extend((group[0], j, 1.0) for j in group[1:])
        return out

    def candidates(self) -> np.ndarray:
        """(i, j) with i < j, every pair that shares at least one band key, once."""
        if not self.keys:
            return np.empty((0, 2), dtype=np.int64)
        keys, members = np.concatenate(self.keys), np.concatenate(self.members)
        found = []
        for band in range(self.bands):
            order = np.argsort(keys[:, band], kind="stable")
            ordered = keys[order, band]
            starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
            ends = np.r_[starts[1:], len(ordered)]
            for start, end in zip(starts[ends - starts > 1], ends[ends - starts > 1]):
                group = np.sort(members[order[start:end]])
                left, right = np.triu_indices(len(group), k=1)
                found.append(group[left] * len(self.shingles) + group[right])
        if not found:
            return np.empty((0, 2), dtype=np.int64)
        codes = np.unique(np.concatenate(found))
        return np.stack([codes // len(self.shingles), codes % len(self.shingles)], axis=1)

    def pairs(self) -> list[tuple[int, int, float]]:
        found: dict[tuple[int, int], float] = {}
        for i, j in self.candidates().tolist():
            a, b = self.shingles[i], self.shingles[j]
            overlap = len(np.intersect1d(a, b, assume_unique=True)) / min(len(a), len(b))
            if overlap >= self.cfg.min_containment:
                found[(i, j)] = round(overlap, 4)
        for i, j, score in self.exact_pairs():
            found.setdefault((i, j), score)
        return [(i, j, score) for (i, j), score in sorted(found.items())]

    def result(self) -> "DedupResult":
        return _groups(self.paragraph_ids, self.doc_ids, self.pairs(), self.cfg)


def near_duplicates(texts: Sequence[str], cfg: DedupConfig) -> list[tuple[int, int, float]]:
    index = NearDuplicateIndex(cfg)
    index.add([str(i) for i in range(len(texts))], [str(i) for i in range(len(texts))], texts)
    return index.pairs()


def cluster(paragraph_ids: Sequence[str], doc_ids: Sequence[str], texts: Sequence[str],
            cfg: DedupConfig) -> DedupResult:
    index = NearDuplicateIndex(cfg)
    index.add(paragraph_ids, doc_ids, texts)
    return index.result()


def _groups(paragraph_ids: Sequence[str], doc_ids: Sequence[str], pairs: list[tuple[int, int, float]],
            cfg: DedupConfig) -> DedupResult:
    n = len(paragraph_ids)
    paragraphs = UnionFind(n)
    for i, j, _ in pairs:
        paragraphs.union(i, j)
    roots: dict[int, str] = {}
    for i in range(n):
        root = paragraphs.find(i)
        roots.setdefault(root, paragraph_ids[root])
    dup_group = [_stable_id("d", roots[paragraphs.find(i)]) for i in range(n)]

    docs = sorted(set(doc_ids))
    doc_index = {d: k for k, d in enumerate(docs)}
    doc_size = np.zeros(len(docs), dtype=int)
    for d in doc_ids:
        doc_size[doc_index[d]] += 1
    # For each ordered document pair, which paragraphs of the first have a copy in the second.
    matched: dict[tuple[int, int], set[int]] = defaultdict(set)
    for i, j, _ in pairs:
        a, b = doc_index[doc_ids[i]], doc_index[doc_ids[j]]
        if a != b:
            matched[(a, b)].add(i)
            matched[(b, a)].add(j)
    stories = UnionFind(len(docs))
    for (a, b), hits in matched.items():
        if len(hits) >= max(1, int(np.ceil(cfg.story_min_shared * doc_size[a]))):
            stories.union(a, b)
    cluster_id = [_stable_id("s", docs[stories.find(doc_index[d])]) for d in doc_ids]
    return DedupResult(dup_group, cluster_id, pairs)
