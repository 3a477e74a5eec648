"""``zoo compare``: train several models on one task under the same budget and seeds, then rank them.

Every run goes through ``zoo.train`` into its own run folder, so a comparison is nothing but
ordinary runs plus a leaderboard computed from their files (``zoo.layout``): ``compare.json`` and
the learning curves can be rebuilt from them. One job per module:

- ``runs``: reading a finished or running run folder (metrics log, label, parameter count,
  throughput, time to target);
- ``results``: the records a comparison produces (``RunOutcome``, ``Row``, ``Comparison``);
- ``ranking``: aggregating seeds into rows and ordering them;
- ``runner``: training the runs (``compare()``);
- ``report``: the lines and table printed;
- ``curves``: the learning-curve panels handed to ``zoo.plot``.

Importing this package is torch-free.
"""

from __future__ import annotations

from zoo.compare.curves import curves_panels
from zoo.compare.ranking import rank, summarise
from zoo.compare.report import describe, leaderboard
from zoo.compare.results import Comparison, Row, RunOutcome
from zoo.compare.runner import compare
from zoo.compare.runs import (
    curve,
    metric_names,
    parameter_count,
    read_metrics,
    run_label,
    time_to_target,
    tokens_per_sec,
)

__all__ = [
    "Comparison", "Row", "RunOutcome", "compare", "curve", "curves_panels", "describe", "leaderboard",
    "metric_names", "parameter_count", "rank", "read_metrics", "run_label", "summarise", "time_to_target",
    "tokens_per_sec",
]
