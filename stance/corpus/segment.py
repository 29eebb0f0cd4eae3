"""Text primitives: lines with offsets, whitespace normalisation, sentence-aware chunking.

Every paragraph keeps `start`/`end` character offsets into its source text (a page file or a
table cell, decoded as UTF-8 with newlines untranslated). Segmentation runs on the normalised
text (`stance.corpus.normalize`: entities decoded, invisible characters removed, mojibake
repaired), whose offsets are mapped back to the source, so the invariant the rest of the
package relies on is

    paragraph.text == normalize_ws(normalize_text(source[start:end]))   # == clean(source[start:end])

Everything here is linear in the length of the text (a 50 MB one-line page is a real input).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

_NEWLINE = re.compile(r"\r\n|\r|\n")
# Final punctuation, optionally followed by closing quotes or brackets.
_TERMINATED = re.compile(r"[.!?…;:][\"'”’)\]»]*$")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]»]*(?=\s+[\"'“‘(\[«]?[A-Z0-9])")
# Abbreviations that (almost) never end a sentence: titles, months, "e.g." ...
_NEVER_FINAL = {
    "mr", "mrs", "ms", "dr", "st", "gen", "col", "lt", "sgt", "capt", "rep", "sen", "gov", "pres",
    "no", "vs", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    "e.g", "i.e", "prof", "adm", "maj", "mt", "ft", "approx", "gov.-gen", "lt.-gen", "maj.-gen",
}
# Abbreviations that end sentences often enough ("... talks with the U.S.") that only the next
# word can tell: inside a line they do not cut a sentence, across a line break only a
# lower-case or numeric continuation joins them.
_AMBIGUOUS = {"jr", "sr", "etc", "inc", "ltd", "corp", "co", "u.s", "u.k", "u.n", "e.u", "u.s.a"}
_ABBREVIATIONS = _NEVER_FINAL | _AMBIGUOUS
# Longest word looked back at from a sentence end: enough for any abbreviation above with its
# opening quotes; a longer word is no abbreviation. Bounding it keeps segmentation linear.
_LOOKBACK = 24


@dataclass(frozen=True)
class Span:
    start: int
    end: int


def iter_lines(text: str) -> Iterator[Span]:
    """Spans of each line's content, newline excluded; handles \\n, \\r\\n and lone \\r."""
    pos = 0
    for match in _NEWLINE.finditer(text):
        yield Span(pos, match.start())
        pos = match.end()
    if pos < len(text):
        yield Span(pos, len(text))


def strip_span(text: str, span: Span) -> Span:
    """Shrink a span to exclude surrounding whitespace (empty spans collapse to start)."""
    start, end = span.start, span.end
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Span(start, end)


def normalize_ws(text: str) -> str:
    """Collapse every run of Unicode whitespace (newlines, NBSP, tabs) into one space."""
    return " ".join(text.split())


def is_terminated(line: str) -> bool:
    """Does the line end a sentence? Final punctuation, but not an abbreviation that never ends
    one ("Gov.", "Feb.", "J."); an ambiguous one ("U.S.") counts as an end here and is judged by
    the next line (`ends_with_abbreviation`)."""
    line = line.rstrip()
    return bool(_TERMINATED.search(line)) and ends_with_abbreviation(line) != "never"


def ends_with_abbreviation(line: str) -> str | None:
    """"never" if the line ends with an abbreviation or initial that never ends a sentence,
    "ambiguous" if with one that may ("U.S."), None otherwise."""
    line = line.rstrip()
    if not line.endswith("."):
        return None
    word = _word_before(line, len(line) - 1)
    if word in _NEVER_FINAL or (len(word) == 1 and word.isalpha()):
        return "never"
    return "ambiguous" if word in _AMBIGUOUS else None


def _word_before(text: str, end: int, start: int = 0) -> str:
    """The word ending at `end` (exclusive; the final period not included), lower-cased, opening
    quotes stripped; looks back at most _LOOKBACK characters."""
    low = max(start, end - _LOOKBACK)
    i = end
    while i > low and not text[i - 1].isspace():
        i -= 1
    if i == low and low > start and not text[low - 1].isspace():
        return ""  # a longer word: not an abbreviation
    return text[i:end].lower().lstrip("\"'“‘(")


def word_count(text: str) -> int:
    return len(text.split())


def sentence_spans(text: str, span: Span) -> list[Span]:
    """Split `text[span]` into sentence spans (offsets into `text`), abbreviation-aware."""
    cuts = [span.start]
    # Matched in place (pos/endpos) and the word before each end looked up in a bounded window:
    # no copy of the prefix per sentence, so a 50 MB one-line page is linear.
    for match in _SENTENCE_END.finditer(text, span.start, span.end):
        last_word = _word_before(text, match.start(), span.start)
        # "U.S. President" and "Gen. Smith" do not end a sentence, nor do initials ("J. Smith").
        if last_word in _ABBREVIATIONS or (len(last_word) == 1 and last_word.isalpha()):
            continue
        cuts.append(match.end())
    cuts.append(span.end)
    spans = []
    for a, b in zip(cuts, cuts[1:]):
        piece = strip_span(text, Span(a, b))
        if piece.end > piece.start:
            spans.append(piece)
    return spans


def chunk_span(text: str, span: Span, above_chars: int, target_chars: int) -> list[Span]:
    """Cut an over-long paragraph into about `target_chars` pieces on sentence boundaries.

    A single sentence longer than `above_chars` is cut at whitespace, so no chunk is unbounded.
    """
    if span.end - span.start <= above_chars:
        return [span]
    pieces: list[Span] = []
    for sentence in sentence_spans(text, span):
        pieces.extend(_hard_split(text, sentence, above_chars))
    return pack_spans(pieces, target_chars)


def pack_spans(pieces: list[Span], target_chars: int) -> list[Span]:
    """Consecutive pieces joined greedily into spans of at most `target_chars` (a piece longer
    than that stays one span of its own)."""
    chunks: list[Span] = []
    current: Span | None = None
    for piece in pieces:
        if current is None:
            current = piece
        elif piece.end - current.start <= target_chars:
            current = Span(current.start, piece.end)
        else:
            chunks.append(current)
            current = piece
    if current is not None:
        chunks.append(current)
    return chunks


def _last_space(text: str, low: int, high: int) -> int:
    """Index of the last whitespace character in text[low:high] (any kind: tab, NBSP, CR), or -1."""
    for i in range(high - 1, low - 1, -1):
        if text[i].isspace():
            return i
    return -1


def _hard_split(text: str, span: Span, limit: int) -> list[Span]:
    out = []
    start = span.start
    while span.end - start > limit:
        cut = _last_space(text, start + 1, start + limit)
        if cut <= start:
            cut = start + limit
        out.append(strip_span(text, Span(start, cut)))
        start = strip_span(text, Span(cut, span.end)).start
    if span.end > start:
        out.append(Span(start, span.end))
    return [s for s in out if s.end > s.start]
