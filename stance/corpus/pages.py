"""Raw scraped pages -> documents made of paragraph spans.

A page is read as segments: its lines, with inline boilerplate (ad markers, photo captions)
cut out and author-blurb tails dropped, so a line may yield several segments. Rules from the
corpus config then decide what each segment is: boilerplate (dropped), a stop marker (the rest
of the article is site furniture), the start of a "Related Articles" part, a related-article
header (outlet, time, "- Outlet"), a metadata line (outlet/date/wire), a title or heading, or
body text. Body segments are joined into paragraphs; a line that continues an unterminated
sentence (a link broken out of its sentence by the scraper) is joined to it.

Nothing is silently lost: every dropped piece is reported with its reason and rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from stance.config import CorpusConfig
from stance.corpus.segment import Span, ends_with_abbreviation, is_terminated, iter_lines, strip_span, word_count

_MARKDOWN_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*$")
_CONTINUATION_START = re.compile(r"^[a-z,.;:!?)\]\"'”’»…-]")
# After a line that ends with an ambiguous abbreviation ("... with the U.S."), only a word that
# cannot start a sentence continues it.
_LOWER_START = re.compile(r"^[a-z0-9]")
TITLE_MAX_WORDS = 30


@dataclass
class PageDocument:
    kind: str  # "lead" or "related"
    title: str | None = None
    outlet: str | None = None
    date: str | None = None
    wire: str | None = None
    paragraphs: list[Span] = field(default_factory=list)


@dataclass(frozen=True)
class DroppedLine:
    line: int  # 1-based line of the page
    start: int
    end: int
    reason: str  # boilerplate | inline-boilerplate | stop | title | heading | duplicate-title | metadata | header | fragment
    rule: str | None = None


@dataclass
class ParsedPage:
    documents: list[PageDocument]
    dropped: list[DroppedLine]


@dataclass(frozen=True)
class Segment:
    line: int  # 1-based
    span: Span
    text: str
    hard_break: bool = False  # follows an inline cut: never joined to what came before


class PageRules:
    """The corpus config's patterns, compiled once."""

    def __init__(self, cfg: CorpusConfig):
        whole = lambda p: re.compile(rf"(?:{p})", re.IGNORECASE)  # noqa: E731
        self.cfg = cfg
        self.boilerplate = [(p, whole(p)) for p in cfg.boilerplate]
        self.inline = [(p, re.compile(p)) for p in cfg.inline_boilerplate]
        self.tail = [(p, re.compile(p)) for p in cfg.tail_boilerplate]
        self.stop = [(p, whole(p)) for p in cfg.stop_markers]
        self.related = [(p, whole(p)) for p in cfg.related_markers]
        self.metadata = [(p, whole(p)) for p in cfg.metadata_patterns]
        self.item_marker = re.compile(cfg.item_marker)
        self.item_time = re.compile(rf"(?:{cfg.item_time})", re.IGNORECASE)

    @staticmethod
    def first(rules, line: str) -> str | None:
        for pattern, regex in rules:
            if regex.fullmatch(line):
                return pattern
        return None

    def metadata_match(self, line: str) -> tuple[str, dict[str, str]] | None:
        for pattern, regex in self.metadata:
            m = regex.fullmatch(line)
            if m:
                return pattern, {k: v.strip() for k, v in m.groupdict().items() if v}
        return None


def segment_page(text: str, rules: PageRules, dropped: list[DroppedLine]) -> list[Segment]:
    segments: list[Segment] = []
    for line_no, raw in enumerate(iter_lines(text), start=1):
        line = strip_span(text, raw)
        cuts: list[tuple[int, int, str]] = []
        for pattern, regex in rules.tail:
            m = regex.search(text, line.start, line.end)
            if m:
                cuts.append((m.start(), line.end, pattern))
                break
        for pattern, regex in rules.inline:
            cuts.extend((m.start(), m.end(), pattern) for m in regex.finditer(text, line.start, line.end)
                        if m.end() > m.start())
        if not cuts:
            segments.append(Segment(line_no, line, text[line.start:line.end]))
            continue
        position, first = line.start, True
        for start, end, pattern in sorted(cuts):
            if end <= position:
                continue
            start = max(start, position)
            piece = strip_span(text, Span(position, start))
            if piece.end > piece.start:
                segments.append(Segment(line_no, piece, text[piece.start:piece.end], hard_break=not first))
                first = False
            dropped.append(DroppedLine(line_no, start, end, "inline-boilerplate", pattern))
            position = end
        piece = strip_span(text, Span(position, line.end))
        if piece.end > piece.start:
            segments.append(Segment(line_no, piece, text[piece.start:piece.end], hard_break=True))
        elif first:
            segments.append(Segment(line_no, Span(line.start, line.start), ""))
    return segments


def parse_page(text: str, rules: PageRules) -> ParsedPage:
    dropped: list[DroppedLine] = []
    segments = segment_page(text, rules, dropped)
    texts = [s.text for s in segments]
    headers = _find_item_headers(texts, rules)
    documents: list[PageDocument] = []

    related_at = next((i for i, t in enumerate(texts) if t and rules.first(rules.related, t)), None)
    first_header_block = headers[0][0] if headers else len(segments)
    lead_end = min(related_at if related_at is not None else len(segments), first_header_block)
    documents.append(_parse_region(segments, 0, lead_end, PageDocument("lead"), rules, dropped))
    if related_at is not None and related_at < first_header_block:
        dropped.append(_drop(segments[related_at], "boilerplate", "related marker"))
        dropped.extend(_drop(segments[i], "header", "before first related item")
                       for i in range(related_at + 1, first_header_block) if texts[i])

    for k, (block_start, header_at, outlet) in enumerate(headers):
        region_end = headers[k + 1][0] if k + 1 < len(headers) else len(segments)
        dropped.extend(_drop(segments[i], "header", "related-article header")
                       for i in range(block_start, header_at + 1) if texts[i])
        doc = PageDocument("related", outlet=outlet)
        documents.append(_parse_region(segments, header_at + 1, region_end, doc, rules, dropped))

    documents = [doc for doc in documents if doc.paragraphs]
    return ParsedPage(documents, sorted(dropped, key=lambda d: (d.line, d.start)))


def _drop(segment: Segment, reason: str, rule: str | None = None) -> DroppedLine:
    return DroppedLine(segment.line, segment.span.start, segment.span.end, reason, rule)


def _find_item_headers(texts: list[str], rules: PageRules) -> list[tuple[int, int, str]]:
    """Related-article headers: (first segment of the header block, marker segment, outlet).

    The shape is an outlet line, a time line ("31 minutes ago"), then "- Outlet" / "• Outlet".
    Title lines repeated just above the outlet line belong to the header block too.
    """
    headers = []
    for i, line in enumerate(texts):
        m = rules.item_marker.fullmatch(line) if line else None
        if not m:
            continue
        outlet = m.group("outlet").strip()
        previous = [j for j in range(i - 1, max(-1, i - 8), -1) if texts[j]][:2]
        if len(previous) < 2 or not rules.item_time.fullmatch(texts[previous[0]]):
            continue
        if texts[previous[1]] != outlet:
            continue
        block_start = previous[1]
        title = next((texts[j] for j in range(i + 1, min(len(texts), i + 6)) if texts[j]), None)
        j = block_start - 1
        while j >= 0 and (not texts[j] or (title is not None and texts[j] == title)):
            if texts[j]:
                block_start = j
            j -= 1
        headers.append((block_start, i, outlet))
    return headers


def _continues_next(segments: list[Segment], i: int, end: int) -> bool:
    """Is segment i immediately followed (no blank line) by text that continues its sentence?"""
    if i + 1 >= end:
        return False
    nxt = segments[i + 1]
    return bool(nxt.text) and not nxt.hard_break and bool(_CONTINUATION_START.match(nxt.text))


def _next_is_text(segments: list[Segment], i: int, end: int) -> bool:
    """Is segment i immediately followed (no blank line, no inline cut) by more text?"""
    return i + 1 < end and bool(segments[i + 1].text) and not segments[i + 1].hard_break


def _parse_region(segments: list[Segment], begin: int, end: int, doc: PageDocument, rules: PageRules,
                  dropped: list[DroppedLine]) -> PageDocument:
    cfg = rules.cfg
    current: list[Segment] = []  # segments of the paragraph being built
    gap = False  # a blank or dropped line since the last body segment
    stop_rule: str | None = None

    def close() -> None:
        if not current:
            return
        span = Span(current[0].span.start, current[-1].span.end)
        words = sum(word_count(s.text) for s in current)
        if words >= cfg.min_paragraph_words:
            doc.paragraphs.append(span)
        else:
            dropped.append(DroppedLine(current[0].line, span.start, span.end, "fragment",
                                       f"fewer than {cfg.min_paragraph_words} words"))
        current.clear()

    for i in range(begin, end):
        seg = segments[i]
        line = seg.text
        if not line:
            gap = True
            continue
        if stop_rule is not None:
            dropped.append(_drop(seg, "stop", stop_rule))
            continue
        if seg.hard_break:
            close()
        rule = rules.first(rules.boilerplate, line)
        if rule:
            dropped.append(_drop(seg, "boilerplate", rule))
            gap = True
            continue
        stop_rule = rules.first(rules.stop, line)
        if stop_rule:
            close()
            dropped.append(_drop(seg, "stop", stop_rule))
            continue
        unterminated = bool(current) and (not is_terminated(current[-1].text) or (
            ends_with_abbreviation(current[-1].text) == "ambiguous" and bool(_LOWER_START.match(line))))
        # A line that continues a broken sentence is text, whatever it looks like on its own.
        if unterminated and not seg.hard_break and (not gap or _CONTINUATION_START.match(line)):
            current.append(seg)
            gap = False
            continue
        meta = rules.metadata_match(line)
        if meta:
            pattern, values = meta
            for key in ("outlet", "date", "wire"):
                if values.get(key) and not getattr(doc, key):
                    setattr(doc, key, values[key])
            dropped.append(_drop(seg, "metadata", pattern))
            gap = True
            continue
        markdown = _MARKDOWN_HEADING.match(line)
        candidate = (markdown.group(1) if markdown else line).strip("*_ ")
        # The first line of an article is its title: always after a related-article header,
        # and on a lead story when it reads like a headline (no final punctuation).
        # A line cut after "Gov." or "Feb." is the start of a broken sentence, not a headline.
        broken = ends_with_abbreviation(line) == "never" and _next_is_text(segments, i, end)
        is_title = (doc.title is None and not doc.paragraphs and not current and not broken
                    and word_count(candidate) <= TITLE_MAX_WORDS
                    and (markdown is not None or doc.kind == "related" or not is_terminated(line)))
        is_heading = markdown is not None or (
            word_count(line) <= cfg.heading_max_words and not is_terminated(line) and not broken
            and not _CONTINUATION_START.match(line) and not _continues_next(segments, i, end))
        if is_title or is_heading:
            close()
            if is_title:
                doc.title, reason = candidate, "title"
            else:
                reason = "duplicate-title" if candidate == doc.title else "heading"
            dropped.append(_drop(seg, reason))
            gap = True
            continue
        close()
        current.append(seg)
        gap = False
    close()
    return doc
