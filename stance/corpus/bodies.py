"""Document bodies as scrapers leave them: paragraphs, and who speaks in each.

A table of whole documents (`data.rows_are: documents`) gives one body per row. How its
paragraphs are marked depends on the scraper (`data.sources.<file>.body`):

- `lines`: one paragraph per non-empty line (the default);
- `blank_lines`: paragraphs separated by blank lines, with single line breaks inside them being
  hard wraps at a fixed width (the White House briefing-room markdown): a paragraph is one
  blank-line block, its wrapped lines joined;
- `one_line`: the scraper joined the paragraphs with a single space, so the breaks are lost (the
  Kremlin and president.gov.ua news files): the body is cut at speaker turns, then into sentence
  windows of about `corpus.chunk_target_chars`;
- `joined`: the scraper joined the paragraphs with a separator such as ", " (R's
  `paste(collapse = ", ")` in the president.gov.ua speeches): the body is cut where the separator
  follows the end of a sentence.

Transcripts (press briefings, interviews, press conferences) mix the publisher's officials with
reporters and guests. Framing is a property of the institution's own voice, so each paragraph
carries the speaker label the text gives it ("MS. PSAKI", "Q", "Vladimir Putin") and a role:
`official` (the label matches one of `data.speakers.official`), `reporter` (it matches
`data.speakers.reporter`, or the speaker opens the turn by giving their own name and outlet,
as journalists do at Kremlin press conferences: "Pavel Zarubin, Rossiya TV Channel."),
`other` (any other named speaker: a visiting leader, a moderator), or `institution` (no
speaker is named: a statement, readout or news item in the publisher's own voice, or the lines
before a transcript's first turn). A body counts as a transcript only with two or more speaker
labels, so one "Note:" or a quoted "He said:" does not make one.

No library covers this: paragraph recovery is specific to each scraper's defect, and speaker
turns follow each publisher's transcript conventions, so the rules are ours and are tested on
invented bodies in tests/test_bodies.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stance.corpus.segment import Span, chunk_span, iter_lines, pack_spans, sentence_spans, strip_span

# A turn label at the start of a line: "Q" followed by spacing, or an upper-case label ending in a
# colon ("MS. PSAKI:", "THE PRESIDENT:", "SENIOR ADMINISTRATION OFFICIAL:").
_LINE_LABEL = re.compile(r"(?m)^[ \t\u00a0]*(?:(?P<q>Q)(?:[.:][ \t\u00a0]*|[ \t\u00a0]+)(?=\S)"
                         r"|(?P<name>[A-Z][A-Z.'\u2019\- ]{0,60}[A-Z.]):[ \t\u00a0]*)")
# A turn label inside a one-line body: at its start or after a sentence end, a name of two to
# sixteen capitalised words (hyphens and inner capitals allowed: "Kassym-Jomart", "el-Sisi"), which
# may carry a title with of/the/and inside it ("President of Russia Vladimir Putin", "General
# Director and Chairman of the Executive Board of ...") and a note in brackets ("(retranslated)"),
# or Question/Remark/Reply/Answer/Q, then a colon ("... borders. Vladimir Putin: We ...").
_WORD = r"(?:[A-Z][\w'\u2019\-]*\.?|[a-z]{1,3}-[A-Z][\w'\u2019\-]*)"
_INLINE_LABEL = re.compile(r"(?:^|(?<=[.!?\u2026\"\u201d\u00bb)] ))(?P<name>[A-Z][\w'\u2019\-]*(?: (?:(?:of|the|and) )*"
                           + _WORD + r"){1,15}(?: \([a-z ]{1,30}\))?|Question|Remark|Reply|Answer|Q):[ \u00a0]")
INSTITUTION = "institution"


@dataclass(frozen=True)
class Paragraph:
    span: Span
    speaker: str | None
    role: str


@dataclass(frozen=True)
class SpeakerRoles:
    """Compiled `data.speakers`: full-match regexes on the speaker label."""

    official: tuple[re.Pattern, ...]
    reporter: tuple[re.Pattern, ...]

    @classmethod
    def compile(cls, official: list[str], reporter: list[str]) -> "SpeakerRoles":
        return cls(tuple(re.compile(p) for p in official), tuple(re.compile(p) for p in reporter))

    def role(self, label: str, turn_text: str) -> str:
        if any(p.fullmatch(label) for p in self.official):
            return "official"
        if any(p.fullmatch(label) for p in self.reporter) or _introduces_self(label, turn_text):
            return "reporter"
        return "other"


def _introduces_self(label: str, turn_text: str) -> bool:
    """A turn that opens with the speaker's own name and a comma ("Anna Petrova, Channel Five.")."""
    return turn_text.lstrip().startswith(label + ",")


def body_paragraphs(text: str, body: str, roles: SpeakerRoles, above_chars: int, target_chars: int,
                    joiner: str = ", ") -> list[Paragraph]:
    """Paragraph spans (offsets into `text`) of one document body, with speaker and role.

    `body` is one of lines, blank_lines, one_line, joined (module docstring). Paragraphs longer
    than `above_chars` are cut into about `target_chars` pieces on sentence boundaries
    (`segment.chunk_span`), each keeping its turn's speaker. Empty pieces are dropped; nothing
    else is (short paragraphs are the caller's to judge)."""
    if body == "blank_lines":
        blocks = _blank_line_blocks(text)
        turns = _line_turns(text, blocks, roles)
    elif body == "one_line":
        turns = _inline_turns(text, roles)
        turns = [(span, speaker, role) for whole, speaker, role in turns
                 for span in pack_spans(sentence_spans(text, whole), target_chars)]
    elif body == "joined":
        turns = [(span, None, INSTITUTION) for span in _joined_pieces(text, joiner)]
    elif body == "lines":
        blocks = [strip_span(text, s) for s in iter_lines(text)]
        turns = _line_turns(text, [b for b in blocks if b.end > b.start], roles)
    else:
        raise ValueError(f"unknown body layout {body!r}")
    out = []
    for span, speaker, role in turns:
        for piece in chunk_span(text, span, above_chars, target_chars):
            if piece.end > piece.start:
                out.append(Paragraph(piece, speaker, role))
    return out


def _blank_line_blocks(text: str) -> list[Span]:
    """Blocks between blank lines (a line of whitespace only, NBSP included, counts as blank)."""
    blocks, pos = [], 0
    for match in re.finditer(r"(?:\r\n|\r|\n)[ \t\u00a0]*(?:(?:\r\n|\r|\n)[ \t\u00a0]*)+", text):
        blocks.append(strip_span(text, Span(pos, match.start())))
        pos = match.end()
    blocks.append(strip_span(text, Span(pos, len(text))))
    return [b for b in blocks if b.end > b.start]


def _line_turns(text: str, blocks: list[Span], roles: SpeakerRoles) -> list[tuple[Span, str | None, str]]:
    """Blocks that open with a turn label start a turn; the blocks after it continue it."""
    labelled = []
    for block in blocks:
        match = _LINE_LABEL.match(text, block.start, block.end)
        labelled.append((block, match))
    if sum(1 for _, m in labelled if m) < 2:
        return [(block, None, INSTITUTION) for block, _ in labelled]
    out, speaker = [], None
    for block, match in labelled:
        if match:
            speaker = "Q" if match.group("q") else " ".join(match.group("name").split())
            block = strip_span(text, Span(match.end(), block.end))
        if block.end > block.start:
            out.append((block, speaker))
    return _with_roles(text, out, roles)


def _with_roles(text: str, turns: list[tuple[Span, str | None]],
                roles: SpeakerRoles) -> list[tuple[Span, str | None, str]]:
    """A speaker who introduces themselves as a journalist in any turn is a reporter in all of
    their turns of the document (only the first turn carries the introduction)."""
    introduced = {speaker for span, speaker in turns
                  if speaker and _introduces_self(speaker, text[span.start:span.end])}
    out = []
    for span, speaker in turns:
        if speaker is None:
            out.append((span, None, INSTITUTION))
        else:
            role = roles.role(speaker, text[span.start:span.end])
            out.append((span, speaker, "reporter" if speaker in introduced and role == "other" else role))
    return out


def _inline_turns(text: str, roles: SpeakerRoles) -> list[tuple[Span, str | None, str]]:
    whole = strip_span(text, Span(0, len(text)))
    matches = list(_INLINE_LABEL.finditer(text, whole.start, whole.end))
    if len(matches) < 2:
        return [(whole, None, INSTITUTION)]
    out: list[tuple[Span, str | None]] = []
    if matches[0].start() > whole.start:
        out.append((strip_span(text, Span(whole.start, matches[0].start())), None))
    for k, match in enumerate(matches):
        end = matches[k + 1].start() if k + 1 < len(matches) else whole.end
        out.append((strip_span(text, Span(match.end(), end)), match.group("name")))
    return _with_roles(text, [t for t in out if t[0].end > t[0].start], roles)


def _joined_pieces(text: str, joiner: str) -> list[Span]:
    # the joiner counts only after a sentence end: "Poland, Lithuania, and Latvia" stays one piece
    cut = re.compile(r"(?<=[.!?\u2026\u00bb\"\u201d])\s*" + re.escape(joiner.strip()) + r"\s+")
    start, pieces = 0, []
    lead = re.match(r"\s*" + re.escape(joiner.strip()) + r"\s*", text)
    if lead:
        start = lead.end()
    for match in cut.finditer(text, start):
        pieces.append(strip_span(text, Span(start, match.start())))
        start = match.end()
    pieces.append(strip_span(text, Span(start, len(text))))
    return [p for p in pieces if p.end > p.start]
