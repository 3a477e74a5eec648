"""``zoo compare``: train several models on one task under the same budget and seeds, then rank them.

Every run goes through ``zoo.train`` into its own run directory, so a comparison is nothing but
ordinary runs plus a leaderboard computed from their ``metrics.jsonl``, ``config.json`` and
``model.safetensors``: ``compare.json`` and the learning-curve PNG can be rebuilt from them.
"""

from __future__ import annotations

import contextlib
import json
import math
import statistics
import time as _time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from zoo.errors import ZooError
from zoo.fileio import write_json_atomic

METRICS_FILE = "metrics.jsonl"
_ELAPSED = "elapsed"
_RATE = "tokens_per_s"


# -- reading runs ----------------------------------------------------------------------------
def read_metrics(run_dir: str | Path) -> list[dict[str, Any]]:
    """The records of a run's ``metrics.jsonl``, in order.

    A final line cut short (a run killed mid-write) is ignored; any other bad line is an error.
    """
    path = Path(run_dir) / METRICS_FILE
    if not Path(run_dir).is_dir():
        raise ZooError(f"{run_dir}: no such run directory")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise ZooError(f"{run_dir}: not a run directory (no {METRICS_FILE})") from None
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


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def curve(records: Sequence[dict[str, Any]], metric: str) -> tuple[list[float], list[float]]:
    """(steps, values) of ``metric`` over the records that have both."""
    xs, ys = [], []
    for r in records:
        x, y = _number(r.get("step")), _number(r.get(metric))
        if x is not None and y is not None:
            xs.append(x)
            ys.append(y)
    return xs, ys


def metric_names(records: Sequence[dict[str, Any]]) -> list[str]:
    """Every numeric metric logged at least once, in order of first appearance."""
    skip = {"step", "epoch", "lr", _RATE, _ELAPSED}
    names: dict[str, None] = {}
    for r in records:
        for k, v in r.items():
            if k not in skip and _number(v) is not None:
                names.setdefault(k)
    return list(names)


def read_config(run_dir: str | Path) -> dict[str, Any]:
    """A run's config.json, or {} when it has none (a run still training)."""
    try:
        data = json.loads((Path(run_dir) / "config.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def run_label(run_dir: str | Path) -> str:
    """``task/model`` from config.json, else the folder's name."""
    config = read_config(run_dir)
    try:
        return f"{config['task']['name']}/{config['model']['name']}"
    except (KeyError, TypeError):
        return Path(run_dir).name


def parameter_count(run_dir: str | Path) -> int | None:
    """Number of trained parameters, read from the safetensors header (no weights loaded)."""
    from safetensors import SafetensorError, safe_open

    path = Path(run_dir) / "model.safetensors"
    if not path.is_file():
        return None
    try:
        with safe_open(str(path), framework="numpy") as f:
            return sum(math.prod(f.get_slice(k).get_shape()) for k in f.keys())
    except (SafetensorError, OSError):
        return None


# -- one comparison --------------------------------------------------------------------------
@dataclass
class RunOutcome:
    """One training run of the comparison."""

    model: str
    seed: int
    run_dir: str
    metric: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    steps: int = 0
    seconds: float = 0.0
    tokens_per_sec: float | None = None
    params: int | None = None
    time_to_target: float | None = None
    steps_to_target: int | None = None
    stopped: str = ""
    error: str | None = None


@dataclass
class Row:
    """One model's line of the leaderboard, aggregated over seeds."""

    model: str
    runs: int
    metric_mean: float | None
    metric_spread: float | None
    params: int | None
    tokens_per_sec: float | None
    time_to_target: float | None
    steps_to_target: float | None
    reached: int
    failed: int


@dataclass
class Comparison:
    """Everything ``compare.json`` holds."""

    task: str
    metric: str
    mode: str
    target: float | None
    budget: dict[str, Any]
    seeds: list[int]
    settings: list[str]
    runs: list[RunOutcome]
    rows: list[Row]
    threads: int | None = None
    interrupted: bool = False
    """Ctrl-C (or SIGTERM) stopped the comparison: the runs after the interrupted one never ran."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def tokens_per_sec(records: Sequence[dict[str, Any]]) -> float | None:
    """Training throughput: the median of the rates the engine logged (robust to the pauses
    for evaluation and to a slow first window)."""
    rates = [v for r in records if (v := _number(r.get(_RATE))) is not None]
    return statistics.median(rates) if rates else None


def time_to_target(
    records: Sequence[dict[str, Any]], metric: Any, seconds: float, steps: int
) -> tuple[float, int] | None:
    """(seconds, step) of the first evaluation that reached the task's target, None if none did.

    The seconds are the ``elapsed`` of the last training record logged before that evaluation,
    else its step converted at the run's mean step rate.
    """
    if metric.target is None:
        return None
    last_elapsed = None
    for r in records:
        last_elapsed = _number(r.get(_ELAPSED)) if _ELAPSED in r else last_elapsed
        value = _number(r.get(metric.name))
        if r.get("kind", "eval") == "eval" and value is not None and metric.reached(value):
            step = int(_number(r.get("step")) or steps)
            if last_elapsed is not None:
                return last_elapsed, step
            return (seconds * min(1.0, step / steps) if steps else seconds), step
    return None


def summarise(model: str, outcomes: Sequence[RunOutcome]) -> Row:
    """Mean and spread (sample standard deviation; 0 for one seed) of the primary metric."""
    good = [o for o in outcomes if o.error is None and o.metric is not None]
    values = [o.metric for o in good]

    def mean(xs: list[float | None]) -> float | None:
        xs = [x for x in xs if x is not None]
        return statistics.fmean(xs) if xs else None

    reached = [o for o in good if o.time_to_target is not None]
    return Row(
        model=model,
        runs=len(outcomes),
        metric_mean=statistics.fmean(values) if values else None,
        metric_spread=(statistics.stdev(values) if len(values) > 1 else 0.0) if values else None,
        params=next((o.params for o in good if o.params is not None), None),
        tokens_per_sec=mean([o.tokens_per_sec for o in good]),
        time_to_target=mean([o.time_to_target for o in reached]),
        steps_to_target=mean([o.steps_to_target for o in reached]),
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


def compare(
    task: str,
    models: Sequence[str] = (),
    *,
    seeds: int = 1,
    steps: int | None = None,
    time: str | float | None = None,
    settings: Sequence[str] = (),
    out: str | Path | None = None,
    device: str = "cpu",
    threads: int | None = 1,
    echo: Callable[[str], None] = lambda line: None,
    train_options: dict[str, Any] | None = None,
) -> tuple[Comparison, Path]:
    """Train every model (default: all registered) on ``task`` with seeds 0..seeds-1.

    Returns the comparison and its folder (``compare.json`` plus one run directory per run).
    A run that fails is reported and ranked last; bad names or settings fail before training.
    ``threads`` sets torch's CPU threads for every run (None: torch's default). One thread is
    the default: small recurrent models gain little from more, and on a busy machine threads
    that wait for each other make timings swing by an order of magnitude.
    """
    from zoo import assemble
    from zoo.engine import train
    from zoo.plugins import current

    zoo = current()
    if seeds < 1:
        raise ZooError("--seeds must be at least 1")
    names = list(models) or sorted(zoo.models)
    if not names:
        raise ZooError("no models are installed to compare")
    if len(set(names)) != len(names):
        raise ZooError("a model is named twice")
    from zoo.engine.settings import parse_duration

    parse_duration(time)  # a bad --time fails here, not once per run
    recipes = {m: assemble.recipe(task, m, list(settings), zoo=zoo) for m in names}  # validates early
    metric = assemble.make_task(recipes[names[0]], zoo).primary_metric
    folder = Path(out) if out else Path("runs") / f"compare-{task}-{_time.strftime('%Y%m%d-%H%M%S')}"
    if folder.exists() and any(folder.iterdir()):
        raise ZooError(f"{folder}: already exists and is not empty; choose another --out")
    folder.mkdir(parents=True, exist_ok=True)

    outcomes: list[RunOutcome] = []
    interrupted = False
    total = len(names) * seeds
    for i, (model, seed) in enumerate(((m, s) for m in names for s in range(seeds)), 1):
        run_dir = folder / f"{model}-seed{seed}"
        echo(f"[{i}/{total}] {task} {model} seed {seed}: training ...")
        outcome = RunOutcome(model=model, seed=seed, run_dir=str(run_dir))
        try:
            with _threads(threads):
                result = train(task, model, settings=list(settings), steps=steps, time=time, seed=seed,
                               device=device, out=str(run_dir), progress=False, **(train_options or {}))
        except KeyboardInterrupt:  # before the engine took over the signal
            result = None
        except ZooError as exc:
            outcome.error = str(exc)
            echo(f"[{i}/{total}] {task} {model} seed {seed}: failed: {exc}")
            outcomes.append(outcome)
            continue
        if result is None or result.stopped == "interrupted":
            outcome.error = "interrupted"
            outcomes.append(outcome)
            echo(f"[{i}/{total}] {task} {model} seed {seed}: interrupted; stopping the comparison")
            interrupted = True
            break
        records = read_metrics(run_dir)
        outcome.metrics = {k: float(v) for k, v in result.metrics.items() if _number(v) is not None}
        outcome.metric = outcome.metrics.get(metric.name)
        outcome.steps, outcome.seconds, outcome.stopped = result.steps, result.seconds, result.stopped
        outcome.tokens_per_sec = tokens_per_sec(records)
        outcome.params = parameter_count(run_dir)
        outcome.time_to_target, outcome.steps_to_target = (
            time_to_target(records, metric, result.seconds, result.steps) or (None, None))
        outcomes.append(outcome)
        echo(f"[{i}/{total}] {task} {model} seed {seed}: {describe(outcome, metric.name)}")

    rows = rank([summarise(m, [o for o in outcomes if o.model == m]) for m in names], metric.mode)
    if not interrupted and all(r.failed == r.runs for r in rows):
        raise ZooError(f"every run failed; first error: {outcomes[0].error}")
    budget = {"steps": steps, "time": time}
    comparison = Comparison(task, metric.name, metric.mode, metric.target, budget, list(range(seeds)),
                            list(settings), outcomes, rows, threads, interrupted)
    write_json_atomic(folder / "compare.json", comparison.as_dict())
    return comparison, folder


@contextlib.contextmanager
def _threads(n: int | None) -> Iterator[None]:
    """Run with ``n`` torch CPU threads, then restore the previous number."""
    import torch

    before = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def describe(o: RunOutcome, metric: str) -> str:
    """The one summary line printed when a run ends."""
    value = "n/a" if o.metric is None else f"{o.metric:.4g}"
    speed = f", {_si(o.tokens_per_sec)} tok/s" if o.tokens_per_sec else ""
    target = (f", target at {o.time_to_target:.1f}s (step {o.steps_to_target})"
              if o.time_to_target is not None else "")
    return f"{metric}={value} after {o.steps} steps in {o.seconds:.1f}s{speed}{target}"


# -- printing ---------------------------------------------------------------------------------
def _si(x: float | None) -> str:
    if x is None:
        return "-"
    for unit, scale in (("M", 1e6), ("k", 1e3)):
        if abs(x) >= scale:
            return f"{x / scale:.1f}{unit}"
    return f"{x:.0f}"


def leaderboard(c: Comparison) -> str:
    """The table ``zoo compare`` prints: one line per model, best first."""
    arrow = "higher is better" if c.mode == "max" else "lower is better"
    target = f", target {c.target:g}" if c.target is not None else ""
    seeds = len(c.seeds)
    head = ["#", "model", f"{c.metric} (mean ± sd)", "params", "tok/s"]
    if c.target is not None:
        head.append("time to target")
    lines = []
    for n, r in enumerate(c.rows, 1):
        if r.metric_mean is None:
            value = "failed"
        else:
            value = f"{r.metric_mean:.4f} ± {r.metric_spread:.4f}"
        row = [str(n), r.model, value, _si(r.params), _si(r.tokens_per_sec)]
        if c.target is not None:
            row.append(f"{r.time_to_target:.1f}s, {r.steps_to_target:.0f} steps ({r.reached}/{seeds})"
                       if r.reached else f"not reached (0/{seeds})")
        lines.append(row)
    widths = [max(len(x) for x in col) for col in zip(head, *lines, strict=True)]
    fmt = "  ".join(f"{{:{'<' if i in (1, 2, 5) else '>'}{w}}}" for i, w in enumerate(widths))
    budget = ", ".join(f"{k} {v}" for k, v in c.budget.items() if v is not None) or "task defaults"
    threads = f"; threads: {c.threads}" if c.threads else ""
    title = f"{c.task}: {c.metric} ({arrow}{target}); budget: {budget}; seeds: {seeds}{threads}"
    return "\n".join([title, *(fmt.format(*row).rstrip() for row in [head, *lines])])


def curves_panels(c: Comparison) -> list[tuple[str, list[Any]]]:
    """Training loss and the primary metric, one line per run, coloured by model."""
    from zoo.plot import Series

    panels = []
    for metric in ("loss", c.metric):
        series = []
        for o in c.runs:
            if o.error is None:
                xs, ys = curve(read_metrics(o.run_dir), metric)
                if xs:
                    series.append(Series(f"{o.model} seed {o.seed}", xs, ys, group=o.model))
        panels.append((metric, series))
    return panels
