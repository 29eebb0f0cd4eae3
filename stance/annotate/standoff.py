"""Stand-off labels: labels that point into source files instead of copying their text.

A stand-off file has one row per paragraph:
    paragraph_id, source, start, end, text_sha1, framing, sentiment, stance
`source` is the file name, `start`/`end` the character offsets of the paragraph in it, and
`text_sha1` the hash of the paragraph text as ingested. Joining checks the hash, so labels
are never silently attached to text that changed (a new scrape, or new ingest rules).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

from stance.corpus.tables import read_string_csv
from stance.errors import StanceError

STANDOFF_COLUMNS = ["paragraph_id", "source", "start", "end", "text_sha1", "framing", "sentiment", "stance"]
LABEL_FIELDS = ["framing", "sentiment", "stance"]
# Packaged stand-off label sets for ../shared/seeds (see stance/data/seeds/README.md).
# builtin:official-gold: the gold set for ../shared/data/official-statements (stance/data/official/README.md).
BUILTIN_ANNOTATIONS = {"builtin:seeds-gold": ("seeds", "gold.csv"), "builtin:seeds-pass-a": ("seeds", "pass-a-standoff.csv"),
                       "builtin:official-gold": ("official", "gold.csv")}


def resolve_annotations_path(path: str) -> Path:
    if path in BUILTIN_ANNOTATIONS:
        folder, name = BUILTIN_ANNOTATIONS[path]
        packaged = Path(str(resources.files("stance") / "data" / folder / name))
        if not packaged.is_file():
            raise StanceError(f"data.annotations: {path} does not exist yet ({packaged.name} is made by adjudicating "
                              f"two annotation passes; see stance/data/{folder}/README.md)")
        return packaged
    return Path(path)


def standoff_table(paragraphs: pd.DataFrame, wide: pd.DataFrame) -> pd.DataFrame:
    """Stand-off rows for the labelled paragraphs (wide: paragraph_id, framing, sentiment, stance)."""
    anchors = paragraphs[["paragraph_id", "source", "start", "end", "text_sha1"]].copy()
    anchors["source"] = anchors["source"].map(lambda s: Path(str(s)).name)
    out = anchors.merge(wide, on="paragraph_id", how="inner", validate="one_to_one")
    return out[STANDOFF_COLUMNS].sort_values("paragraph_id").reset_index(drop=True)


def read_standoff(path: Path) -> pd.DataFrame:
    frame = read_string_csv(path, "stand-off label file not found (data.annotations)")
    missing = [c for c in ("paragraph_id", "text_sha1") if c not in frame]
    if missing:
        raise StanceError(f"{path}: missing column(s) {missing}; expected {STANDOFF_COLUMNS}")
    frame["file_line"] = range(2, len(frame) + 2)
    repeated = frame["paragraph_id"].duplicated(keep="first")
    if repeated.any():
        row = frame[repeated].iloc[0]
        first = int(frame.loc[frame["paragraph_id"] == row["paragraph_id"], "file_line"].iloc[0])
        more = int(repeated.sum()) - 1
        raise StanceError(f"{path} line {row['file_line']}: paragraph {row['paragraph_id']!r} appears twice "
                          f"(first on line {first}); one label row per paragraph"
                          + (f" ({more} more repeated rows)" if more else ""))
    return frame


def attach_standoff(paragraphs: pd.DataFrame, path: Path) -> pd.DataFrame:
    """The paragraphs with the label columns of the stand-off file (unlabelled ones get none)."""
    labels = read_standoff(path)
    by_id = paragraphs.set_index("paragraph_id")
    for row in labels.itertuples(index=False):
        if row.paragraph_id not in by_id.index:
            raise StanceError(f"{path}:{row.file_line}: paragraph {row.paragraph_id!r} is not in the ingested corpus; "
                              "were the pages re-scraped or the corpus rules changed?")
        if by_id.at[row.paragraph_id, "text_sha1"] != row.text_sha1:
            raise StanceError(f"{path}:{row.file_line}: paragraph {row.paragraph_id!r} has different text now "
                              "(text_sha1 differs); its labels would point at the wrong text")
    present = [c for c in LABEL_FIELDS if c in labels]
    out = paragraphs.drop(columns=[c for c in present if c in paragraphs]).merge(
        labels[["paragraph_id", *present]], on="paragraph_id", how="left", validate="one_to_one")
    for column in present:
        out[column] = out[column].where(out[column].notna() & (out[column] != ""), None)
    return out
