"""What every label reader shares: the stance field prefix and the problem list.

A leaf module so that the Label Studio reader (labelstudio.py) and the label-file dispatcher
(labels.py, which calls it) need not import each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Labelled field of stance toward an actor: "stance:<Actor>" (framing and sentiment are plain).
STANCE_PREFIX = "stance:"


@dataclass
class LabelReport:
    """Problems found while reading labels, each "source:row: message"; reading goes on."""

    problems: list[str] = field(default_factory=list)

    def add(self, source: str, row: Any, message: str) -> None:
        self.problems.append(f"{source}:{row}: {message}")
