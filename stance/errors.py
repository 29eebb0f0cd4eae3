"""User-facing errors: one clear line, no traceback, non-zero exit."""

from __future__ import annotations

import errno
import functools
import sys
from typing import Callable


class StanceError(Exception):
    """A problem with the user's input (file, config, data) rather than a bug in stance.

    The message must name what is wrong and where: a file and line, a config key, a column.
    """


EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def cli_entry(main: Callable[..., int | None]) -> Callable[..., int]:
    """Wrap a command's main so input errors print one line and exit non-zero.

    Bugs (anything that is not a StanceError) keep their traceback: hiding those helps nobody.
    """

    @functools.wraps(main)
    def wrapper(*args, **kwargs) -> int:
        try:
            return main(*args, **kwargs) or 0
        except StanceError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        except BrokenPipeError:
            # `stance ... | head`: the reader left; the work is done and written. Python's own
            # advice: point stdout at devnull so the interpreter's final flush stays quiet.
            import os

            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
        except OSError as exc:
            # A full disk or a read-only folder met outside stance.files' writers (a library
            # writing its own files): the machine's state, not a bug, so one line.
            if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EROFS):
                raise
            print(f"error: {exc.filename or ''}{': ' if exc.filename else ''}cannot write: {exc.strerror}",
                  file=sys.stderr)
            return EXIT_USAGE
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED

    return wrapper
