"""The base class and field types every config section is built from.

Below both stance.config (the run's sections) and stance.models.kinds (each model kind's
section), so that the model registry can own its kinds' schemas while the config imports it:
neither needs the other's module to define a section.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic import Strict as StrictType


def _no_nul(value: str) -> str:
    # A NUL cannot be part of a file name: the OS call would fail with a traceback much later.
    if "\x00" in value:
        raise ValueError("a path cannot contain a NUL character (\\0)")
    if not value.strip():
        raise ValueError("a path cannot be empty")
    return value


# Every config field that names a file or folder.
PathStr = Annotated[str, AfterValidator(_no_nul)]


def _ngram_range(value: tuple[int, int]) -> tuple[int, int]:
    low, high = value
    if low < 1 or high < 1:
        raise ValueError(f"n-gram lengths must be positive, got {list(value)}")
    if low > high:
        raise ValueError(f"the n-gram range is reversed ({list(value)}): write [shortest, longest]")
    return value


# Strict(False) on the tuple only: the file writes a list ([1, 2]), which strict mode would refuse
# as a tuple; the two items stay strict integers (a boolean or "2" is still refused).
NgramRange = Annotated[tuple[int, int], StrictType(False), AfterValidator(_ngram_range)]


class Strict(BaseModel):
    """A config section: unknown keys are errors (extra="forbid"); fields are also accepted by
    their Python name where the file uses an alias. Values are not coerced across types
    (pydantic's strict mode): `true` is not the number 1, "1.5" is not a number and 2.0 is not
    an integer; an integer is still a valid float. A tuple field declares StrictType(False)
    so that a list is accepted for it (NgramRange)."""

    # allow_inf_nan=False: an infinite or NaN number (YAML .inf, 1e400) would train, then be saved as
    # null in the run's config.yaml, which could not be loaded again.
    # strict=True: lax mode reads `C: true` as 1.0 and `seeds: [true, false]` as [1, 0], silently.
    model_config = ConfigDict(extra="forbid", populate_by_name=True, allow_inf_nan=False, strict=True)
