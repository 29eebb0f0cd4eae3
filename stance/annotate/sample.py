"""A seeded, stratified random sample of paragraphs to annotate, with inclusion probabilities.

Design (stratified simple random sampling without replacement; Lohr, *Sampling: Design and
Analysis*, ch. 3): the strata are the outlets; within outlet h, n_h paragraphs are drawn
uniformly from the N_h eligible ones, so each has inclusion probability pi = n_h / N_h and
design weight 1 / pi. A share estimated from the sample is then unbiased for the eligible
population of its stratum, and so are weighted and prediction-powered (PPI) estimates that use
the sample as their labelled set.

Eligible paragraphs: dated within [date_from, date_to]; mentioning at least one schema actor;
not spoken by an excluded speaker role (reporters' questions carry the reporter's framing, not
the publisher's); not a copy of an item published twice (`repeat_of`, from `data.same_story`);
and one per near-duplicate group (`dup_group`; the first in corpus order), so a repeated
paragraph is not given a larger chance of selection.

The draw is numpy's PCG64 generator seeded with `seed`, choosing positions in the eligible
paragraphs sorted by paragraph id: the same corpus and seed give the same sample on any machine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from stance.errors import StanceError

SAMPLE_COLUMNS = ["paragraph_id", "doc_id", "outlet", "date", "source", "source_row", "start", "end", "text_sha1",
                  "actors", "speaker_role", "stratum_size", "stratum_sample", "inclusion_probability",
                  "design_weight"]


@dataclass(frozen=True)
class SampleDesign:
    per_stratum: int
    seed: int
    date_from: str | None = None
    date_to: str | None = None
    exclude_roles: tuple[str, ...] = ("reporter",)
    strata: str = "outlet"


def eligible(paragraphs: pd.DataFrame, design: SampleDesign) -> pd.DataFrame:
    """The sampling frame: the rows of `paragraphs` that may be drawn (module docstring)."""
    keep = paragraphs["actors"].map(len) > 0
    dates = paragraphs["date"].astype("string")
    if design.date_from:
        keep &= dates.fillna("") >= design.date_from
    if design.date_to:
        keep &= dates.fillna("9999") <= design.date_to
    if "speaker_role" in paragraphs and design.exclude_roles:
        keep &= ~paragraphs["speaker_role"].isin(design.exclude_roles)
    if "repeat_of" in paragraphs:
        keep &= paragraphs["repeat_of"].isna()
    keep &= ~paragraphs["dup_group"].duplicated(keep="first")
    keep &= paragraphs[design.strata].notna()
    return paragraphs[keep]


def draw_sample(paragraphs: pd.DataFrame, design: SampleDesign) -> pd.DataFrame:
    """`design.per_stratum` paragraphs per stratum, without replacement, with their inclusion
    probability n_h / N_h and design weight N_h / n_h. Columns: SAMPLE_COLUMNS (no text).

    Raises StanceError when a stratum has fewer eligible paragraphs than asked for."""
    frame = eligible(paragraphs, design)
    if frame.empty:
        raise StanceError("no paragraph is eligible for the sample (check the dates and that the corpus mentions "
                          "schema actors)")
    rng = np.random.Generator(np.random.PCG64(design.seed))
    parts = []
    for stratum in sorted(frame[design.strata].unique()):
        pool = frame[frame[design.strata] == stratum].sort_values("paragraph_id")
        if len(pool) < design.per_stratum:
            raise StanceError(f"stratum {stratum!r}: {len(pool)} eligible paragraphs, fewer than the "
                              f"{design.per_stratum} asked for")
        chosen = np.sort(rng.choice(len(pool), size=design.per_stratum, replace=False))
        part = pool.iloc[chosen].copy()
        part["stratum_size"] = len(pool)
        part["stratum_sample"] = design.per_stratum
        part["inclusion_probability"] = design.per_stratum / len(pool)
        part["design_weight"] = len(pool) / design.per_stratum
        parts.append(part)
    sample = pd.concat(parts, ignore_index=True)
    sample["actors"] = sample["actors"].map(lambda a: "|".join(a))
    if "speaker_role" not in sample:
        sample["speaker_role"] = None
    if "source_row" not in sample:
        sample["source_row"] = None
    return sample[SAMPLE_COLUMNS]
