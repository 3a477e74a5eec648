"""Reading a run folder: its metrics log, its label, its size, its speed and when it hit its target.

Works on a run that is still training (no config.json or weights yet) as well as a finished one.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zoo import layout
from zoo.errors import ZooError

if TYPE_CHECKING:
    from zoo.task import Metric

ELAPSED = "elapsed"
RATE = "tokens_per_s"


def read_metrics(run_dir: str | Path) -> list[dict[str, Any]]:
    """The records of a run's ``metrics.jsonl``, in order.

    A final line cut short (a run killed mid-write) is ignored; any other bad line is an error.
    """
    path = Path(run_dir) / layout.METRICS
    if not Path(run_dir).is_dir():
        raise ZooError(f"{run_dir}: no such run directory")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise ZooError(f"{run_dir}: not a run directory (no {layout.METRICS})") from None
    records = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            if number == len(lines):
                break
            raise ZooError(f"{path}:{number}: not a JSON object") from None
        if isinstance(record, dict):
            records.append(record)
    return records


def number(value: Any) -> float | None:
    """``value`` as a float when it is a finite number (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def curve(records: Sequence[dict[str, Any]], metric: str) -> tuple[list[float], list[float]]:
    """(steps, values) of ``metric`` over the records that have both."""
    xs, ys = [], []
    for r in records:
        x, y = number(r.get("step")), number(r.get(metric))
        if x is not None and y is not None:
            xs.append(x)
            ys.append(y)
    return xs, ys


def metric_names(records: Sequence[dict[str, Any]]) -> list[str]:
    """Every numeric metric logged at least once, in order of first appearance."""
    skip = {"step", "epoch", "lr", RATE, ELAPSED}
    names: dict[str, None] = {}
    for r in records:
        for k, v in r.items():
            if k not in skip and number(v) is not None:
                names.setdefault(k)
    return list(names)


def run_label(run_dir: str | Path) -> str:
    """``task/model`` from config.json, else (a run still training, or no run) the folder's name."""
    from zoo.artifacts import read_config

    try:
        config = read_config(run_dir)
    except ZooError:
        return Path(run_dir).name
    return f"{config['task']['name']}/{config['model']['name']}"


def parameter_count(run_dir: str | Path) -> int | None:
    """Number of trained parameters, read from the safetensors header (no weights loaded)."""
    from safetensors import SafetensorError, safe_open

    path = Path(run_dir) / layout.WEIGHTS
    if not path.is_file():
        return None
    try:
        with safe_open(str(path), framework="numpy") as f:
            return sum(math.prod(f.get_slice(k).get_shape()) for k in f.keys())
    except (SafetensorError, OSError):
        return None


def tokens_per_sec(records: Sequence[dict[str, Any]]) -> float | None:
    """Training throughput: the median of the rates the engine logged (robust to the pauses
    for evaluation and to a slow first window)."""
    rates = [v for r in records if (v := number(r.get(RATE))) is not None]
    return statistics.median(rates) if rates else None


def time_to_target(
    records: Sequence[dict[str, Any]], metric: Metric, seconds: float, steps: int
) -> tuple[float, int] | None:
    """(seconds, step) of the first evaluation that reached the task's target, None if none did.

    The seconds are the ``elapsed`` of the last training record logged before that evaluation,
    else its step converted at the run's mean step rate.
    """
    if metric.target is None:
        return None
    last_elapsed = None
    for r in records:
        last_elapsed = number(r.get(ELAPSED)) if ELAPSED in r else last_elapsed
        value = number(r.get(metric.name))
        if r.get("kind", "eval") == "eval" and value is not None and metric.reached(value):
            step = int(number(r.get("step")) or steps)
            if last_elapsed is not None:
                return last_elapsed, step
            return (seconds * min(1.0, step / steps) if steps else seconds), step
    return None
