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

    Case matters on purpose: "US" is the United States, "us" is a pronoun. `ignore` lists
    phrases that contain an alias but name something else: places ("Latin America"), outlets
    ("Washington Post", "Moscow Times"), currencies ("US$"). They are matched like aliases, so
    the longer phrase wins, and then dropped. With `all_caps`, each alias and ignored phrase
    also matches written in capitals ("RUSSIA", "WASHINGTON POST"), for headlines.
    """

    def __init__(self, actors: dict[str, list[str]], ignore: list[str] | tuple[str, ...] = (),
                 all_caps: bool = False):
        self.actors = list(actors)
        self.alias_to_actor: dict[str, str | None] = {}
        for actor, aliases in actors.items():
            for alias in [actor, *aliases]:
                alias = alias.strip()
                if alias:
                    self.alias_to_actor.setdefault(alias, actor)
        for phrase in ignore:
            if phrase.strip():
                self.alias_to_actor[phrase.strip()] = None
        if all_caps:
            for alias, actor in list(self.alias_to_actor.items()):
                # An explicit alias wins over another's capitals ("US" is written so already).
                self.alias_to_actor.setdefault(alias.upper(), actor)
        ordered = sorted(self.alias_to_actor, key=len, reverse=True)
        # Lookarounds instead of \b so aliases ending in '.' ("U.S.") still match. A phrase that
        # ends in a symbol ("US$") needs no word boundary after it: "US$3" is a price.
        self._pattern = re.compile(r"(?<!\w)(?:" + "|".join(
            re.escape(p) + (r"(?!\w)" if self.alias_to_actor[p] is not None or p[-1].isalnum() else "")
            for p in ordered) + ")")

    @classmethod
    def from_schema(cls, schema) -> "Gazetteer":
        return cls(schema.actors, schema.actor_ignore, all_caps=schema.match_all_caps)

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
