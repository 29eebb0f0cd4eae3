"""Actor gazetteer: which actors a paragraph mentions, and where."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Mention:
    actor: str
    start: int
    end: int


class Gazetteer:
    """Whole-word, case-sensitive alias matching; the longest alias wins where two overlap.

    Case matters on purpose: "US" is the United States, "us" is a pronoun.
    """

    def __init__(self, actors: dict[str, list[str]]):
        self.actors = list(actors)
        self.alias_to_actor: dict[str, str] = {}
        for actor, aliases in actors.items():
            for alias in [actor, *aliases]:
                alias = alias.strip()
                if alias:
                    self.alias_to_actor.setdefault(alias, actor)
        ordered = sorted(self.alias_to_actor, key=len, reverse=True)
        # Lookarounds instead of \b so aliases ending in '.' ("U.S.") still match.
        self._pattern = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, ordered)) + r")(?!\w)")

    def find(self, text: str) -> list[Mention]:
        return [Mention(self.alias_to_actor[m.group(0)], m.start(), m.end())
                for m in self._pattern.finditer(text)]

    def find_actor(self, text: str, actor: str) -> list[Mention]:
        return [m for m in self.find(text) if m.actor == actor]

    def actors_in(self, text: str) -> list[str]:
        """Mentioned actors in the gazetteer's order (stable across runs)."""
        found = {m.actor for m in self.find(text)}
        return [a for a in self.actors if a in found]
