"""One look for every figure: species colours, white background, readable sizes."""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from softmax_course.lessons.example import SPECIES

SPECIES_COLOURS: dict[str, str] = {
    "setosa": "#1b9e77",
    "versicolor": "#d95f02",
    "virginica": "#7570b3",
}
"""A colour-blind-safe colour per species (ColorBrewer Dark2), used by every chapter."""

NEUTRAL = "#555555"
"""Colour for lines and bars that belong to no species."""


def apply_style() -> None:
    """Set matplotlib defaults for the book: white background, no top/right spines, clear fonts."""
    mpl.rcParams.update(
        {
            "figure.facecolor": "white",
            "axes.facecolor": "white",
            "savefig.facecolor": "white",
            "savefig.transparent": False,
            "figure.dpi": 110,
            "font.size": 11,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": False,
            "legend.frameon": False,
        }
    )


def species_colours() -> list[str]:
    """Return the species colours in output order."""
    return [SPECIES_COLOURS[name] for name in SPECIES]


def new_figure(ncols: int = 1, *, width: float = 6.4, height: float = 3.2) -> tuple[Figure, object]:
    """Return a styled figure with `ncols` side-by-side axes."""
    apply_style()
    return plt.subplots(1, ncols, figsize=(width, height), layout="constrained")
