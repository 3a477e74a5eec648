"""Learning curves as PNG files, drawn with matplotlib (the optional extra ``seqzoo[plot]``).

matplotlib is imported only here and only when a picture is asked for, so ``zoo`` works without
it and says how to install it when it is missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zoo.errors import ZooError
from zoo.fileio import write_atomic

MISSING = "matplotlib is not installed; install the plotting extra: pip install 'seqzoo[plot]'"


@dataclass
class Series:
    """One line on a panel: a label and its points."""

    label: str
    xs: list[float]
    ys: list[float]
    group: str = ""
    """Lines of the same group share a colour (the seeds of one model)."""


def require_matplotlib() -> Any:
    """Import matplotlib with a file-only backend, or raise the install hint."""
    try:
        import matplotlib
    except ImportError:
        raise ZooError(MISSING) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def draw(
    panels: Sequence[tuple[str, list[Series]]],
    out: str | Path,
    *,
    title: str = "",
    xlabel: str = "step",
    log_metrics: Sequence[str] = ("loss", "val_loss"),
) -> Path:
    """Draw the panels side by side (one per metric) and write the PNG atomically."""
    plt = require_matplotlib()
    out = Path(out)
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 3.9), squeeze=False)
    colours: dict[str, Any] = {}
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, (metric, series) in zip(axes[0], panels, strict=True):
        labelled: set[str] = set()
        marker = "o" if max((len(s.xs) for s in series), default=0) <= 25 else None  # sparse: show points
        for s in series:
            key = s.group or s.label
            colour = colours.setdefault(key, cycle[len(colours) % len(cycle)])
            label = None if key in labelled else (s.group or s.label)
            labelled.add(key)
            ax.plot(s.xs, s.ys, color=colour, label=label, linewidth=1.4, alpha=0.9, marker=marker, markersize=3)
        ax.set_title(metric)
        ax.set_xlabel(xlabel)
        if metric in log_metrics and all(y > 0 for s in series for y in s.ys):
            ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
        if series:
            ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    write_atomic(out, lambda tmp: fig.savefig(tmp, format="png", dpi=110))
    plt.close(fig)
    return out
