"""HTML pages: main text and metadata by trafilatura, under our offsets and stand-off contract.

A page's article text is extracted with `trafilatura.bare_extraction` (settings in
`EXTRACTOR_SETTINGS`), and each line break of its output becomes a blank line (trafilatura puts
one block per line), giving the *extracted text*. That text is then ingested like a `.txt` page:
paragraph `start`/`end` offsets point into the extracted text, not into the HTML. Re-extracting
with the same trafilatura version and settings gives the same text; `Extraction.record()`
(written to `extractions.csv` by `python -m stance.corpus`) holds the version, the settings and
the SHA-1 of the extracted text, so anyone holding the HTML can check that stand-off labels
still point where they did.

Metadata: title, date (ISO), site name (the outlet) and URL (canonical link or og:url).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HTML_SUFFIXES = {".html", ".htm"}
# Comments and tables are not article prose; dates only from the page's own markup (no
# guessing from free text), so a re-extraction on another day gives the same date.
EXTRACTOR_SETTINGS: dict[str, Any] = {
    "with_metadata": True, "include_comments": False, "include_tables": False, "include_images": False,
    "include_links": False, "include_formatting": False, "favor_precision": False, "favor_recall": False,
    "deduplicate": False, "fast": False,
    "date_extraction_params": {"extensive_search": False, "original_date": True},
}


@dataclass
class Extraction:
    source: str  # file name
    text: str  # the extracted text: what paragraph offsets point into
    title: str | None
    date: str | None
    outlet: str | None
    url: str | None

    @property
    def text_sha1(self) -> str:
        return hashlib.sha1(self.text.encode("utf-8")).hexdigest()

    def metadata(self) -> dict[str, str]:
        return {k: v for k, v in (("title", self.title), ("date", self.date), ("outlet", self.outlet),
                                  ("url", self.url)) if v}

    def record(self) -> dict[str, Any]:
        return {"source": self.source, "extractor": "trafilatura", "version": trafilatura_version(),
                "settings": json.dumps(EXTRACTOR_SETTINGS, sort_keys=True), "text_sha1": self.text_sha1,
                "chars": len(self.text)}


def trafilatura_version() -> str:
    import trafilatura

    return trafilatura.__version__


def extract_html(path: Path) -> Extraction | None:
    """The extracted text and metadata of one HTML file; None when trafilatura finds no article
    text. Bytes are passed as they are, so trafilatura detects the page's own encoding."""
    import trafilatura  # imported here: a corpus of text pages never pays for it

    document = trafilatura.bare_extraction(path.read_bytes(), **EXTRACTOR_SETTINGS)
    if document is None or not (document.text or "").strip():
        return None
    lines = [line.strip() for line in document.text.split("\n")]
    text = "\n\n".join(line for line in lines if line) + "\n"
    return Extraction(source=path.name, text=text, title=_value(document.title), date=_value(document.date),
                      outlet=_value(document.sitename), url=_value(document.url))


def _value(value: Any) -> str | None:
    if value is None:
        return None
    value = str(value).strip()
    return value or None
