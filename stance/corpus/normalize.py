"""Text normalisation before anything else, with a map back to the source offsets.

Scraped text carries HTML entities (`&#8217;`, `&quot;`, `&nbsp;`), a byte-order mark, soft
hyphens and zero-width characters inside words (which hide actors: "Ukrain\\u00adian"), control
characters and mojibake ("â€™" for "’"). `normalize(source)` returns the cleaned text and a
map from its offsets to the source's, so paragraphs found in the cleaned text still point into
the source file. What is done, in order, to each whitespace-free run that needs it:

1. HTML entities are decoded (`html.unescape`); an entity that decodes to a line break becomes
   a space, so line numbers stay those of the source;
2. invisible format characters are removed: soft hyphen, zero-width space (a space where it
   separates a lower-case from an upper-case letter, "the\u200bKremlin"), word joiner,
   directional marks and embeddings, and (by ftfy) the byte-order mark and C0 controls;
3. each whitespace-free piece with something ftfy acts on (a mojibake pair, a control
   character, text not in NFC) goes through `ftfy.fix_text` (mojibake, C1 controls, NFC), with
   quotes, line breaks, character widths and ligatures left as written.

Every step works inside one whitespace-free run of the source, so normalising a substring that
starts and ends at the boundaries the map gives yields the same text as cutting the normalised
whole: for every paragraph

    text == normalize_ws(normalize_text(source[start:end]))

(`clean(source[start:end]) == text`). The one exception is a cut inside a whitespace-free run
longer than `corpus.chunk_above_chars` that ftfy changed (the hard split of a run with no
space in it); no real page has one.

The map is sparse: only the stretches that changed are stored as blocks (normalised
[n0, n1) <- source [s0, s1)); between blocks, offsets differ by a constant. A text with nothing
to do (no '&', invisible or control character, mojibake pair) is returned as is, with no blocks,
at the cost of one regex scan: curly quotes and accents alone cost nothing.
"""

from __future__ import annotations

import html
import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache

import ftfy

from stance.corpus.segment import normalize_ws

# Invisible format characters. ftfy keeps these on purpose (they carry meaning in typesetting),
# but inside scraped words they only hide them from the actor search and the near-duplicate keys.
_INVISIBLE_CLASS = "\u00ad\u180e\u200b\u2060-\u2064\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069"
_INVISIBLE = frozenset("\u00ad\u180e\u200b\u2060\u2061\u2062\u2063\u2064\u200e\u200f\u061c"
                       "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# What ftfy acts on (with the settings below): C0/C1 controls that are not whitespace, the BOM
# and other characters it removes, surrogates, U+FFFD, and mojibake, which always pairs a UTF-8
# lead byte read as Latin-1/cp1252 ("Ã", "â") or cp1251 ("Р", "С", "в") with a continuation byte
# read the same way ("©", "€", "™", "Ђ"). A piece without any of these is not handed to ftfy
# (ftfy's own detector costs ~100 us per paragraph); ftfy still judges every piece that has one.
_FTFY_CLASS = "\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\ufeff\u206a-\u206f\ufff9-\ufffd\ud800-\udfff"
_CONTINUATION = ("\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013\u2014"
                 "\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122")
_MOJIBAKE = (f"[\u00c2-\u00f4][{_CONTINUATION}]"
             f"|[\u0420\u0421\u0432][\u0402-\u040f\u0452-\u045f\u0490\u0491{_CONTINUATION}]")
_FTFY_TRIGGER = re.compile(f"[{_FTFY_CLASS}]|{_MOJIBAKE}")
# Where a whitespace-free run needs work: entities, invisible characters, or what ftfy acts on.
_TRIGGER = re.compile(f"[&{_INVISIBLE_CLASS}{_FTFY_CLASS}]|{_MOJIBAKE}")
# Cheap pre-checks (a plain character class scans far faster than the pairs above): an ASCII
# text needs work only for '&' or a control character; any other only if it holds a character
# that can start a trigger.
_ASCII_TRIGGER = re.compile(r"[&\x00-\x08\x0e-\x1b\x7f]")
_TRIGGER_START = re.compile(f"[&{_INVISIBLE_CLASS}{_FTFY_CLASS}\u00c2-\u00f4\u0420\u0421\u0432]")
# A text that is not in NFC: every non-ASCII run is looked at (NFC is decided per piece).
_TRIGGER_NOT_NFC = re.compile(r"[&\x00-\x08\x0e-\x1b\x7f-\x84\x86-\U0010ffff]")
_SPACE = re.compile(r"\s")
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_LINE_BREAKS = frozenset("\r\n")
# Settings recorded in ingest summaries: quotes, line breaks, widths and ligatures are kept as
# written (they are not errors, and changing them would change every paragraph hash).
FTFY_SETTINGS = dict(unescape_html=False, remove_terminal_escapes=True, fix_encoding=True, restore_byte_a0=True,
                     replace_lossy_sequences=True, decode_inconsistent_utf8=True, fix_c1_controls=True,
                     fix_latin_ligatures=False, fix_character_width=False, uncurl_quotes=False,
                     fix_line_breaks=False, fix_surrogates=True, remove_control_chars=True,
                     normalization="NFC", explain=False)
_FTFY = ftfy.TextFixerConfig(**FTFY_SETTINGS)


@lru_cache(maxsize=65536)
def _fix_piece(piece: str) -> str:
    return ftfy.fix_text(piece, _FTFY)


@dataclass
class Normalized:
    """Normalised text and its sparse offset map to the source.

    blocks: (n0, n1, s0, s1) per changed stretch, in order; n = normalised offsets, s = source
    offsets. A deletion has n0 == n1.
    """

    text: str
    blocks: list[tuple[int, int, int, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._n1 = [b[1] for b in self.blocks]
        self._s1 = [b[3] for b in self.blocks]

    @property
    def changed(self) -> bool:
        return bool(self.blocks)

    def source_start(self, n: int) -> int:
        """Source offset where normalised character n begins (removed characters before it skipped)."""
        return _map_start(self.blocks, self._n1, n, 0, 2)

    def source_end(self, n: int) -> int:
        """Source offset just after normalised character n - 1 (removed characters after it excluded)."""
        return _map_end(self.blocks, self._n1, n, 0, 2)

    def source_span(self, start: int, end: int) -> tuple[int, int]:
        if start >= end:
            point = self.source_start(start)
            return point, point
        return self.source_start(start), self.source_end(end)

    def norm_start(self, s: int) -> int:
        """Normalised offset of source offset s taken as a start."""
        return _map_start(self.blocks, self._s1, s, 2, 0)

    def norm_end(self, s: int) -> int:
        """Normalised offset of source offset s taken as an exclusive end."""
        return _map_end(self.blocks, self._s1, s, 2, 0)


def _map_start(blocks, ends, x: int, a: int, b: int) -> int:
    """Map x from side a (0: normalised, 2: source) to side b, as a start offset."""
    i = bisect_right(ends, x)  # blocks wholly before x (ending at or before it)
    if i < len(blocks) and blocks[i][a] <= x:  # inside (or at the start of) a changed block
        return blocks[i][b]
    if i == 0:
        return x
    prev = blocks[i - 1]
    return prev[b + 1] + (x - prev[a + 1])


def _map_end(blocks, ends, x: int, a: int, b: int) -> int:
    """Map x from side a to side b, as an exclusive end offset."""
    k = bisect_right(ends, x)
    if k < len(blocks) and blocks[k][a] < x:  # strictly inside a changed block: take all of it
        return blocks[k][b + 1]
    i = k
    # A block that starts and ends at x on side a adds nothing before x: skip it.
    while i > 0 and blocks[i - 1][a] == x and blocks[i - 1][a + 1] == x:
        i -= 1
    if i == 0:
        return x
    prev = blocks[i - 1]
    return prev[b + 1] + (x - prev[a + 1])


def normalize(source: str) -> Normalized:
    """The cleaned text of `source` and its offset map (see the module docstring)."""
    if source.isascii():
        if _ASCII_TRIGGER.search(source) is None:
            return Normalized(source)
        trigger = _TRIGGER
    elif unicodedata.is_normalized("NFC", source):
        if _TRIGGER_START.search(source) is None or _TRIGGER.search(source) is None:
            return Normalized(source)
        trigger = _TRIGGER
    else:
        trigger = _TRIGGER_NOT_NFC
    out: list[str] = []
    blocks: list[tuple[int, int, int, int]] = []
    n = 0  # length of the normalised text so far
    copied = 0  # source copied up to here
    position = 0
    while True:
        hit = trigger.search(source, position)
        if hit is None:
            break
        start = hit.start()
        while start > position and not source[start - 1].isspace():
            start -= 1
        space = _SPACE.search(source, hit.end())
        end = space.start() if space else len(source)
        atoms = _normalize_run(source, start, end)
        out.append(source[copied:start])
        n += start - copied
        for text, s0, s1 in atoms:
            if text != source[s0:s1]:
                blocks.append((n, n + len(text), s0, s1))
            out.append(text)
            n += len(text)
        copied = position = end
    out.append(source[copied:])
    return Normalized("".join(out), blocks)


def _normalize_run(source: str, start: int, end: int) -> list[tuple[str, int, int]]:
    """Atoms (normalised text, source start, source end) of one whitespace-free run."""
    atoms: list[tuple[str, int, int]] = []
    position = start
    for entity in _ENTITY.finditer(source, start, end):
        atoms.extend((c, i, i + 1) for i, c in enumerate(source[position:entity.start()], position))
        decoded = html.unescape(entity.group(0))
        decoded = "".join(" " if c in _LINE_BREAKS else c for c in decoded)
        atoms.append((decoded, entity.start(), entity.end()))
        position = entity.end()
    atoms.extend((c, i, i + 1) for i, c in enumerate(source[position:end], position))
    atoms = [("".join(c for c in text if c not in _INVISIBLE), s0, s1) if text != "\u200b"
             else (_zero_width_space(source, s0), s0, s1) for text, s0, s1 in atoms]
    # ftfy piece by piece between whitespace (an entity may have decoded to a space).
    result: list[tuple[str, int, int]] = []
    piece: list[tuple[str, int, int]] = []
    for atom in atoms:
        if atom[0].isspace():
            result.extend(_fix_atoms(piece))
            result.append(atom)
            piece = []
        else:
            piece.append(atom)
    result.extend(_fix_atoms(piece))
    return result


def _zero_width_space(source: str, i: int) -> str:
    """A zero-width space between a lower-case and an upper-case letter separates two words
    ("the\u200bKremlin"): a space; anywhere else it is a break hint inside a word: removed."""
    before = source[i - 1] if i > 0 else ""
    after = source[i + 1] if i + 1 < len(source) else ""
    return " " if before.islower() and after.isupper() else ""


def _fix_atoms(atoms: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    text = "".join(a[0] for a in atoms)
    if not text or (_FTFY_TRIGGER.search(text) is None
                    and (text.isascii() or unicodedata.is_normalized("NFC", text))):
        return atoms
    fixed = _fix_piece(text)
    if fixed == text:
        return atoms
    if any(len(a[0]) != 1 for a in atoms):
        # An entity or a removed character in the same piece as mojibake (rare): the piece maps
        # to its source stretch as a whole, exact at both ends.
        return [(fixed, atoms[0][1], atoms[-1][2])]
    # Align the fixed piece with the source characters: unchanged characters keep their own
    # offsets, a changed stretch maps to the source stretch it came from.
    out: list[tuple[str, int, int]] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, text, fixed, autojunk=False).get_opcodes():
        if tag == "equal":
            out.extend(atoms[i1:i2])
        elif i1 < i2:
            out.append((fixed[j1:j2], atoms[i1][1], atoms[i2 - 1][2]))
        else:  # an insertion: anchored where it was inserted
            anchor = atoms[i1][1] if i1 < len(atoms) else atoms[-1][2]
            out.append((fixed[j1:j2], anchor, anchor))
    return out


def normalize_text(text: str) -> str:
    """The normalised text alone."""
    return normalize(text).text


def clean(text: str) -> str:
    """Normalised, then every whitespace run collapsed to one space: what a paragraph's text is."""
    return normalize_ws(normalize_text(text))
