"""The base class and field types every config section is built from.

Below both stance.config (the run's sections) and stance.models.kinds (each model kind's
section), so that the model registry can own its kinds' schemas while the config imports it:
neither needs the other's module to define a section.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict


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


NgramRange = Annotated[tuple[int, int], AfterValidator(_ngram_range)]


class Strict(BaseModel):
    """A config section: unknown keys are errors (extra="forbid"); fields are also accepted by
    their Python name where the file uses an alias."""

    # allow_inf_nan=False: an infinite or NaN number (YAML .inf, 1e400) would train, then be saved as
    # null in the run's config.yaml, which could not be loaded again.
    model_config = ConfigDict(extra="forbid", populate_by_name=True, allow_inf_nan=False)
