"""Text primitives: lines with offsets, whitespace normalisation, sentence-aware chunking.

Every paragraph keeps `start`/`end` character offsets into its source text (a page file or a
table cell, decoded as UTF-8 with newlines untranslated). The invariant the rest of the
package relies on is

    paragraph.text == normalize_ws(source[start:end])
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

_NEWLINE = re.compile(r"\r\n|\r|\n")
# Final punctuation, optionally followed by closing quotes or brackets.
_TERMINATED = re.compile(r"[.!?…;:][\"'”’)\]»]*$")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]»]*(?=\s+[\"'“‘(\[«]?[A-Z0-9])")
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "st", "gen", "col", "lt", "sgt", "capt", "rep", "sen", "gov", "pres",
    "jr", "sr", "no", "vs", "etc", "inc", "ltd", "corp", "co", "jan", "feb", "mar", "apr", "jun",
    "jul", "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.k", "u.n", "e.u", "e.g", "i.e",
    "prof", "adm", "maj", "mt", "ft", "approx",
}


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
    return bool(_TERMINATED.search(line.rstrip()))


def word_count(text: str) -> int:
    return len(text.split())


def sentence_spans(text: str, span: Span) -> list[Span]:
    """Split `text[span]` into sentence spans (offsets into `text`), abbreviation-aware."""
    chunk = text[span.start:span.end]
    cuts = [0]
    for match in _SENTENCE_END.finditer(chunk):
        before = chunk[:match.start()].rsplit(None, 1)
        last_word = before[-1].lower().lstrip("\"'“‘(") if before else ""
        # "U.S. President" and "Gen. Smith" do not end a sentence, nor do initials ("J. Smith").
        if last_word in _ABBREVIATIONS or (len(last_word) == 1 and last_word.isalpha()):
            continue
        cuts.append(match.end())
    cuts.append(len(chunk))
    spans = []
    for a, b in zip(cuts, cuts[1:]):
        piece = strip_span(text, Span(span.start + a, span.start + b))
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
