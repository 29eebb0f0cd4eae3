"""Syndicated copy: near-duplicate paragraphs and the stories they tie together.

Candidates come from MinHash LSH (datasketch) on word shingles. Each candidate pair is then
verified on the exact shingle sets by containment (|A & B| / min(|A|, |B|)), because one outlet
often merges two wire paragraphs into one, which halves the Jaccard similarity but leaves
containment high.

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


def shingles(text: str, k: int) -> set[str]:
    words = _WORD.findall(text.lower())
    if len(words) < k:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i:i + k]) for i in range(len(words) - k + 1)}


class _UnionFind:
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


def near_duplicates(texts: Sequence[str], cfg: DedupConfig) -> list[tuple[int, int, float]]:
    sets = [shingles(t, cfg.shingle_words) for t in texts]
    lsh = MinHashLSH(threshold=cfg.candidate_jaccard, num_perm=cfg.num_perm)
    usable = [i for i, s in enumerate(sets) if len(s) >= cfg.min_shingles]
    if not usable:
        return []
    # Seeded, so the same corpus always gives the same candidates.
    hashes = MinHash.bulk([[s.encode("utf-8") for s in sets[i]] for i in usable],
                          num_perm=cfg.num_perm, seed=1)
    for i, mh in zip(usable, hashes):
        lsh.insert(i, mh, check_duplication=False)
    pairs = []
    for i, mh in zip(usable, hashes):
        for j in lsh.query(mh):
            if j <= i:
                continue
            overlap = len(sets[i] & sets[j]) / min(len(sets[i]), len(sets[j]))
            if overlap >= cfg.min_containment:
                pairs.append((i, j, round(overlap, 4)))
    return sorted(pairs)


def cluster(paragraph_ids: Sequence[str], doc_ids: Sequence[str], texts: Sequence[str],
            cfg: DedupConfig) -> DedupResult:
    n = len(texts)
    pairs = near_duplicates(texts, cfg)

    paragraphs = _UnionFind(n)
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
    stories = _UnionFind(len(docs))
    for (a, b), hits in matched.items():
        if len(hits) >= max(1, int(np.ceil(cfg.story_min_shared * doc_size[a]))):
            stories.union(a, b)
    cluster_id = [_stable_id("s", docs[stories.find(doc_index[d])]) for d in doc_ids]
    return DedupResult(dup_group, cluster_id, pairs)
