"""Progress bars (tqdm) for the steps that can take more than a few seconds.

A bar is drawn only for a person watching: when stderr is a terminal and the command was not
given `--quiet` (`set_quiet`), or the Python API's `quiet=True`. Logs, pipes, CI and tests get
no bar characters. Bars go to stderr and disappear when done (`leave=False`), so stdout keeps
only the results.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Any, Iterable, Iterator

_QUIET = False


def set_quiet(quiet: bool = True) -> None:
    """Silence (or allow again) every bar of this process; the commands call it for `--quiet`."""
    global _QUIET
    _QUIET = bool(quiet)


@contextmanager
def quiet(on: bool = True) -> Iterator[None]:
    """No bars inside the block (when `on`); the previous setting afterwards."""
    before = _QUIET
    set_quiet(before or on)
    try:
        yield
    finally:
        set_quiet(before)


def enabled() -> bool:
    """Whether a bar would be drawn now: not quiet, and stderr is a terminal."""
    isatty = getattr(sys.stderr, "isatty", None)
    return not _QUIET and bool(isatty and isatty())


def bar(iterable: Iterable[Any] | None = None, *, total: int | None = None, desc: str | None = None,
        unit: str = "it", show: bool = True, leave: bool = False) -> Any:
    """A tqdm bar on stderr, disabled unless `enabled()` (and `show`, the caller's own switch).

    Use as tqdm: iterate over it, or call `.update(n)` and `.close()`."""
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=desc, unit=unit, leave=leave, file=sys.stderr,
                disable=not (show and enabled()), dynamic_ncols=True)
