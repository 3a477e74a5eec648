"""Aggregating a model's runs over seeds into a leaderboard row, and ordering the rows."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

from zoo.compare.results import Row, RunOutcome


def summarise(model: str, outcomes: Sequence[RunOutcome]) -> Row:
    """Mean and spread (sample standard deviation; 0 for one seed) of the primary metric."""
    good = [o for o in outcomes if o.error is None and o.metric is not None]
    values = [o.metric for o in good if o.metric is not None]

    def mean(xs: list[float | None]) -> float | None:
        known = [x for x in xs if x is not None]
        return statistics.fmean(known) if known else None

    reached = [o for o in good if o.time_to_target is not None]
    return Row(
        model=model,
        runs=len(outcomes),
        metric_mean=statistics.fmean(values) if values else None,
        metric_spread=(statistics.stdev(values) if len(values) > 1 else 0.0) if values else None,
        params=next((o.params for o in good if o.params is not None), None),
        tokens_per_sec=mean([o.tokens_per_sec for o in good]),
        time_to_target=mean([o.time_to_target for o in reached]),
        steps_to_target=mean([None if o.steps_to_target is None else float(o.steps_to_target) for o in reached]),
        reached=len(reached),
        failed=len(outcomes) - len(good),
    )


def rank(rows: list[Row], mode: str) -> list[Row]:
    """Best primary metric first; ties broken by time to target, then by speed; failures last."""
    sign = -1.0 if mode == "max" else 1.0

    def key(r: Row) -> tuple[float, float, float]:
        metric = sign * r.metric_mean if r.metric_mean is not None else math.inf
        ttt = r.time_to_target if r.time_to_target is not None else math.inf
        return (metric, ttt, -(r.tokens_per_sec or 0.0))

    return sorted(rows, key=key)
