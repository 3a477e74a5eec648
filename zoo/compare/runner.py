"""Running a comparison: every model (and seed) trained by ``zoo.train`` under one budget."""

from __future__ import annotations

import time as _time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from zoo import layout
from zoo.compare.ranking import rank, summarise
from zoo.compare.report import describe
from zoo.compare.results import Comparison, RunOutcome
from zoo.compare.runs import number, parameter_count, read_metrics, time_to_target, tokens_per_sec
from zoo.compare.variants import expand, run_name
from zoo.errors import ZooError
from zoo.fileio import write_json_atomic


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
    vary: Sequence[str] = (),
) -> tuple[Comparison, Path]:
    """Train every model (default: all registered) on ``task`` with seeds 0..seeds-1.

    Returns the comparison and its folder (``compare.json`` plus one run directory per run).
    A run that fails is reported and ranked last; bad names or settings fail before training.
    ``threads`` sets torch's CPU threads for every run (None: torch's default). One thread is
    the default: small recurrent models gain little from more, and on a busy machine threads
    that wait for each other make timings swing by an order of magnitude.

    ``vary`` (``["input=onehot,embedding"]``) trains every model with every combination of the
    varied settings; rows and curves are then labelled ``MODEL NAME=VALUE ...``.
    """
    from zoo import assemble
    from zoo.devices import torch_threads
    from zoo.engine import train
    from zoo.engine.settings import parse_duration
    from zoo.plugins import current

    zoo = current()
    if seeds < 1:
        raise ZooError("--seeds must be at least 1")
    names = list(models) or sorted(zoo.models)
    if not names:
        raise ZooError("no models are installed to compare")
    if len(set(names)) != len(names):
        raise ZooError("a model is named twice")
    parse_duration(time)  # a bad --time fails here, not once per run
    recipes = {m: assemble.recipe(task, m, list(settings), zoo=zoo) for m in names}  # validates early
    variants = expand(vary, settings)
    entries = [(m, v, f"{m} {v.label}".strip()) for m in names for v in variants]
    for model, variant, _ in entries:
        if variant.settings:
            try:
                assemble.recipe(task, model, [*settings, *variant.settings], zoo=zoo)
            except ZooError as exc:
                raise ZooError(f"--vary {variant.label}: {exc}") from None
    metric = assemble.make_task(recipes[names[0]], zoo).primary_metric
    folder = Path(out) if out else Path("runs") / f"compare-{task}-{_time.strftime('%Y%m%d-%H%M%S')}"
    if folder.exists() and any(folder.iterdir()):
        raise ZooError(f"{folder}: already exists and is not empty; choose another --out")
    folder.mkdir(parents=True, exist_ok=True)

    outcomes: list[RunOutcome] = []
    interrupted = False
    total = len(entries) * seeds
    for i, ((model, variant, label), seed) in enumerate(((e, s) for e in entries for s in range(seeds)), 1):
        run_dir = folder / f"{run_name(label)}-seed{seed}"
        echo(f"[{i}/{total}] {task} {label} seed {seed}: training ...")
        outcome = RunOutcome(model=model, seed=seed, run_dir=str(run_dir), label=label, variant=variant.label)
        try:
            with torch_threads(threads):
                result = train(task, model, settings=[*settings, *variant.settings], steps=steps, time=time,
                               seed=seed, device=device, out=str(run_dir), progress=False,
                               **{**(train_options or {}), **variant.engine})
        except KeyboardInterrupt:  # before the engine took over the signal
            result = None
        except ZooError as exc:
            outcome.error = str(exc)
            echo(f"[{i}/{total}] {task} {label} seed {seed}: failed: {exc}")
            outcomes.append(outcome)
            continue
        if result is None or result.stopped == "interrupted":
            outcome.error = "interrupted"
            outcomes.append(outcome)
            echo(f"[{i}/{total}] {task} {label} seed {seed}: interrupted; stopping the comparison")
            interrupted = True
            break
        records = read_metrics(run_dir)
        outcome.metrics = {k: float(v) for k, v in result.metrics.items() if number(v) is not None}
        outcome.metric = outcome.metrics.get(metric.name)
        outcome.steps, outcome.seconds, outcome.stopped = result.steps, result.seconds, result.stopped
        outcome.tokens_per_sec = tokens_per_sec(records)
        outcome.params = parameter_count(run_dir)
        outcome.time_to_target, outcome.steps_to_target = (
            time_to_target(records, metric, result.seconds, result.steps) or (None, None))
        outcomes.append(outcome)
        echo(f"[{i}/{total}] {task} {label} seed {seed}: {describe(outcome, metric.name)}")

    labels = [label for _, _, label in entries]
    rows = rank([summarise(lab, [o for o in outcomes if o.label == lab]) for lab in labels], metric.mode)
    if not interrupted and all(r.failed == r.runs for r in rows):
        raise ZooError(f"every run failed; first error: {outcomes[0].error}")
    budget = {"steps": steps, "time": time}
    comparison = Comparison(task, metric.name, metric.mode, metric.target, budget, list(range(seeds)),
                            list(settings), outcomes, rows, threads, interrupted, list(vary))
    write_json_atomic(folder / layout.COMPARISON, comparison.as_dict())
    return comparison, folder
