"""The learning curves of a comparison as panels for ``zoo.plot``: loss and the primary metric."""

from __future__ import annotations

from typing import TYPE_CHECKING

from zoo.compare.results import Comparison
from zoo.compare.runs import curve, read_metrics

if TYPE_CHECKING:
    from zoo.plot import Series


def curves_panels(c: Comparison) -> list[tuple[str, list[Series]]]:
    """Training loss and the primary metric, one line per run, coloured by row (model and varied settings)."""
    from zoo.plot import Series

    panels = []
    for metric in ("loss", c.metric):
        series = []
        for o in c.runs:
            if o.error is None:
                xs, ys = curve(read_metrics(o.run_dir), metric)
                if xs:
                    row = o.label or o.model
                    series.append(Series(f"{row} seed {o.seed}", xs, ys, group=row))
        panels.append((metric, series))
    return panels
