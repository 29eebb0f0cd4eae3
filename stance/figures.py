"""Figures fit for a paper: PDF and 300-dpi PNG, TrueType fonts embedded, byte-identical reruns."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display needed, and the same rendering everywhere

import matplotlib.pyplot as plt  # noqa: E402

from stance import files  # noqa: E402

# Okabe-Ito: distinguishable with the common colour-vision deficiencies, and in greyscale order.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]

STYLE = {
    "pdf.fonttype": 42,  # TrueType, embedded: journals reject Type 3 fonts
    "ps.fonttype": 42,
    "font.family": "DejaVu Sans",
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "figure.titlesize": 9,
    "legend.fontsize": 7,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.dpi": 100,
    "savefig.dpi": 300,
    "svg.hashsalt": "stance",
    "path.simplify": False,
}


# Applied to the whole process: titles and labels set after a figure is made must follow it too.
matplotlib.rcParams.update(STYLE)


def new_figure(width: float = 5.0, height: float = 3.2, ncols: int = 1) -> tuple[plt.Figure, plt.Axes]:
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(width, height), layout="constrained", ncols=ncols)
    return fig, ax


def save_figure(fig: plt.Figure, stem: Path) -> list[Path]:
    """Write stem.pdf and stem.png atomically; no timestamps, so the bytes depend on the data only."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    written = []
    with plt.rc_context(STYLE):
        for suffix, metadata in ((".pdf", {"CreationDate": None, "ModDate": None, "Producer": None,
                                           "Creator": "stance"}),
                                 (".png", {"Software": None})):
            final = stem.with_suffix(suffix)
            # A full disk or read-only folder: one line naming the file, no partial file left.
            with files.atomic_path(final) as partial:
                fig.savefig(partial, format=suffix[1:], metadata=metadata)
            written.append(final)
    plt.close(fig)
    return written
