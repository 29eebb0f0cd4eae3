"""A synthetic corpus at any size, recombined from the sentences of our own example corpus.

    python benchmarks/synthetic.py 100000 --out build/bench/100k        # paragraphs.parquet + labelled.jsonl

Generated when a benchmark runs, never committed. Each paragraph joins two or three sentences
of the example corpus (fictional outlets, our own writing) drawn from one framing class, so a
model still has something to learn; ids, outlets and dates are made up and deterministic.

Syndication is modelled, not accidental: a share of documents (`--wire`, default 0.1) reprints
an earlier document word for word under another outlet, as wire copy does. Every other
sentence has a quarter of its words swapped for random words of the example corpus, so two
unrelated paragraphs that happen to draw the same sentence are not near-duplicates (with
verbatim sentences from a pool of ~1,500, a million paragraphs would be one big near-duplicate
web, which no news archive is).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from stance.corpus.ingest import example_corpus_path
from stance.corpus.segment import Span, sentence_spans


def sentences_by_class() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in example_corpus_path().read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        text = row["text"]
        out.setdefault(row["framing"], []).extend(text[s.start:s.end] for s in sentence_spans(text, Span(0, len(text))))
    return out


def rewrite(sentence: str, vocabulary: np.ndarray, rng: np.random.Generator, share: float) -> str:
    words = sentence.split()
    swap = rng.random(len(words)) < share
    return " ".join(str(vocabulary[rng.integers(len(vocabulary))]) if s else w for w, s in zip(words, swap))


def generate(n: int, seed: int = 0, wire: float = 0.1, swap: float = 0.25) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pools = sentences_by_class()
    vocabulary = np.array(sorted({w for pool in pools.values() for s in pool for w in s.split()}))
    classes = sorted(pools)
    labels = rng.choice(classes, n, p=[0.4, 0.2, 0.2, 0.2])
    outlets = [f"Outlet {k}" for k in range(40)]
    texts: list[str] = []
    for k, label in enumerate(labels):
        doc = k // 5
        if doc > 10 and rng.random() < wire and k % 5 == 0:
            source = int(rng.integers(0, doc)) * 5  # a wire story reprinted: the whole earlier document
            copies = min(5, n - k)
            texts.extend(texts[source:source + copies])
            labels[k:k + copies] = labels[source:source + copies]
            continue
        if len(texts) > k:  # filled by a reprint
            continue
        pool = pools[label]
        picks = rng.integers(0, len(pool), rng.integers(2, 4))
        texts.append(" ".join(rewrite(pool[i], vocabulary, rng, swap) for i in picks))
    docs = np.arange(n) // 5
    return pd.DataFrame({
        "paragraph_id": [f"p{i}" for i in range(n)], "doc_id": [f"d{d}" for d in docs],
        "outlet": [outlets[d % 40] for d in docs],
        "date": (pd.Timestamp("2024-01-01") + pd.to_timedelta(docs % 700, unit="D")).strftime("%Y-%m-%d"),
        "cluster_id": [f"c{d}" for d in docs], "text": texts, "framing": labels,
    })


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("n", type=int)
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--wire", type=float, default=0.1, help="share of documents reprinted from earlier ones")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    frame = generate(args.n, args.seed, args.wire)
    frame.drop(columns=["framing"]).to_parquet(out / "paragraphs.parquet", index=False, row_group_size=50_000)
    frame.drop(columns=["cluster_id"]).to_json(out / "labelled.jsonl", orient="records", lines=True)
    print(f"wrote {len(frame)} paragraphs to {out}")


if __name__ == "__main__":
    main()
