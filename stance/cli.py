"""The `stance` command: one entry point for every step, dispatching to each step's own `main`.

    stance train CONFIG [--set k=v ...]      == python -m stance.train ...
    stance corpus PATH --out DIR             == python -m stance.corpus ...
    stance predict | report | compare | annotate | evaluate ...

The step modules import torch, transformers, pandas and QuaPy at their top; importing them only
once a step is chosen keeps `stance --help` and typos answered well under a second.
"""

from __future__ import annotations

import importlib
import sys

# name -> (module whose `main(argv)` runs it, one-line description). Kept in data-flow order.
COMMANDS: dict[str, tuple[str, str]] = {
    "corpus": ("stance.corpus.__main__", "ingest raw pages or a table into a paragraph table"),
    "annotate": ("stance.annotate.__main__", "export for labelling, import labels, agreement, adjudication"),
    "train": ("stance.train", "train and test a model from a YAML config; writes a run folder"),
    "evaluate": ("stance.evaluate", "score a trained run on another labelled file"),
    "compare": ("stance.compare", "compare runs: paired intervals and tests, tables and figures"),
    "predict": ("stance.predict", "label a corpus with a trained run"),
    "report": ("stance.report", "outlet shares corrected for classifier error, figures and an HTML page"),
}


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = ["usage: stance COMMAND [ARGS ...]    (stance COMMAND --help for a command's options)", "",
             "commands:"]
    lines += [f"  {name:<{width}}  {text}" for name, (_, text) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0 if argv else 2
    if argv[0] == "--version":
        from stance import __version__
        print(f"stance {__version__}")
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"stance: unknown command {name!r}; choose one of: {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[name][0])
    entry = getattr(module, "main", None)
    if entry is None:
        print(f"stance: the {name} command is not available in this version", file=sys.stderr)
        return 2
    return int(entry(rest) or 0)
