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

    def __init__(self, actors: dict[str, list[str]], ignore: list[str] | tuple[str, ...] = ()):
        self.actors = list(actors)
        self.alias_to_actor: dict[str, str | None] = {}
        for actor, aliases in actors.items():
            for alias in [actor, *aliases]:
                alias = alias.strip()
                if alias:
                    self.alias_to_actor.setdefault(alias, actor)
        # Phrases that contain an alias but name something else ("Latin America"). They are
        # matched like aliases, so the longer phrase wins, and then thrown away.
        for phrase in ignore:
            if phrase.strip():
                self.alias_to_actor[phrase.strip()] = None
        ordered = sorted(self.alias_to_actor, key=len, reverse=True)
        # Lookarounds instead of \b so aliases ending in '.' ("U.S.") still match.
        self._pattern = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, ordered)) + r")(?!\w)")

    @classmethod
    def from_schema(cls, schema) -> "Gazetteer":
        return cls(schema.actors, schema.actor_ignore)

    def find(self, text: str) -> list[Mention]:
        return [Mention(actor, m.start(), m.end()) for m in self._pattern.finditer(text)
                if (actor := self.alias_to_actor[m.group(0)]) is not None]

    def find_actor(self, text: str, actor: str) -> list[Mention]:
        return [m for m in self.find(text) if m.actor == actor]

    def actors_of(self, mentions: list[Mention]) -> list[str]:
        """The actors behind some mentions, once each, in the gazetteer's order (stable across runs)."""
        found = {m.actor for m in mentions}
        return [a for a in self.actors if a in found]

    def actors_in(self, text: str) -> list[str]:
        return self.actors_of(self.find(text))
