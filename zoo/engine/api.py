"""``zoo.train(...)``: claim the run directory, resolve the settings, build, train, save.

``_train`` reads top to bottom as one run does: data, schedule, memory check, network, reporter,
trainer, restore, loop. The loop itself lives in ``zoo.engine.loop``; the settings, their defaults
and the resume rules in ``zoo.engine.settings``; owning the folder in ``zoo.engine.rundir``.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import inspect
import math
import random
import time as _time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from zoo import artifacts, assemble, sizing
from zoo.devices import resolve_device
from zoo.diagnostics import logger
from zoo.engine import checkpoint, rundir
from zoo.engine import dist as distmod
from zoo.engine.loop import Trainer, autocast_for
from zoo.engine.report import Reporter, pick_mode, truncate_metrics
from zoo.engine.schedule import Schedule, default_warmup
from zoo.engine.settings import FIELDS, TrainSettings, base_type, check_names, for_resume, resolve
from zoo.errors import ZooError
from zoo.plugins import Zoo, current
from zoo.state import State
from zoo.task import Task


@dataclass
class TrainResult:
    """What a finished (or interrupted) run produced."""

    run_dir: Path
    metrics: dict[str, float]
    steps: int
    seconds: float
    stopped: str  # steps | epochs | time | target | interrupted


@dataclass
class Job:
    """One run's fixed inputs, decided before any data or network exists."""

    run_dir: Path
    recipe: assemble.Recipe
    task: Task
    settings: TrainSettings
    record: dict[str, Any] | None  # the checkpoint being resumed, if any
    registry: Zoo


_DISK_FULL = {errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}


def train(
    task: str,
    model: str,
    *,
    settings: Sequence[str] = (),
    device: str = "cpu",
    out: str | Path | None = None,
    resume: str | Path | None = None,
    progress: bool | str = False,
    **options: Any,
) -> TrainResult:
    """Train ``model`` on ``task`` and write a run directory (see docs/training.md).

    ``settings`` are ``name=value`` strings for the task and model configs. ``options`` are the
    fields of ``zoo.engine.settings.TrainSettings`` (``steps``, ``epochs``, ``time`` such as
    ``"90s"``, ``batch_size``, ``lr`` ...); unset ones come from the task's ``train_defaults``.
    ``resume`` continues a run directory where its checkpoint left off.
    ``progress``: False (silent), True (bar on a terminal, log lines otherwise), "bar", "lines".
    """
    check_names(options, "option of zoo.train")
    if resume is not None and out is not None:
        raise ZooError("--out cannot be combined with --resume: a resumed run stays in its directory")
    artifacts.check_can_save()  # a missing dependency fails before training, not after it
    registry = current()
    dist, dev = distmod.setup(resolve_device(device))
    try:
        if resume is not None:
            with _claimed(dist, lambda: rundir.claim_existing(Path(resume)), Path(resume)) as run_dir:
                return _train(_resume_job(run_dir, task, model, list(settings), options, registry), dev, dist, progress)
        recipe = assemble.recipe(task, model, list(settings), zoo=registry)
        task_obj = assemble.make_task(recipe, registry)
        lr_scale = float(getattr(registry.model(model).load(), "lr_scale", 1.0))
        resolved = resolve(options, dict(getattr(task_obj, "train_defaults", {})), lr_scale)
        path = Path(out) if out is not None else _default_run_dir(task, model)
        with _claimed(dist, lambda: rundir.claim_new(path), path) as run_dir:
            return _train(Job(run_dir, recipe, task_obj, resolved, None, registry), dev, dist, progress)
    finally:
        distmod.teardown(dist)


# zoo.train's signature shows every training setting as a keyword (IDEs, help(zoo.train)).
train.__signature__ = inspect.signature(train).replace(parameters=[  # type: ignore[attr-defined]
    *[p for p in inspect.signature(train).parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD],
    *[inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=f"{base_type(f.name).__name__} | None")
      for f in FIELDS],
])


@contextlib.contextmanager
def _claimed(dist: distmod.Dist, claim: Any, path: Path) -> Iterator[Path]:
    """Hold the run directory (rank 0 locks it) for the block; undo a start that never checkpointed.

    Errors from the operating system while training become one line that says what is still whole.
    """
    run = None
    failure = ""
    if dist.is_main:
        try:
            run = claim()
        except ZooError as exc:
            failure = str(exc)
        except OSError as exc:  # e.g. the folder vanished or became unreadable meanwhile
            failure = f"cannot use run directory {path}: {(exc.strerror or str(exc)).lower()}"
    failure = dist.broadcast_text(failure)  # every rank fails alike instead of waiting forever
    if failure:
        raise ZooError(failure)
    try:
        yield path
    except BaseException as exc:
        if run is not None:
            run.discard()  # removes anything only when no checkpoint was ever committed
        if isinstance(exc, OSError) and exc.errno is not None:
            raise ZooError(_os_error_line(exc, path)) from None
        raise
    finally:
        if run is not None:
            run.release()


def _os_error_line(exc: OSError, run_dir: Path) -> str:
    where = f" while writing {exc.filename}" if exc.filename else ""
    cause = "the disk is full" if exc.errno in _DISK_FULL else (exc.strerror or str(exc)).lower()
    try:
        step = int(checkpoint.read(run_dir)["step"])
        kept = f"the checkpoint of step {step} in {run_dir} is still whole (zoo train --resume {run_dir})"
    except ZooError:
        kept = "no checkpoint had been saved yet"
    return f"{cause}{where}; {kept}"


def _default_run_dir(task: str, model: str) -> Path:
    stamp = _time.strftime("%Y%m%d-%H%M%S")
    path, n = Path("runs") / f"{task}-{model}-{stamp}", 2
    while path.exists():
        path, n = Path("runs") / f"{task}-{model}-{stamp}-{n}", n + 1
    return path


def _resume_job(run_dir: Path, task: str, model: str, settings: list[str], options: dict[str, Any],
                registry: Zoo) -> Job:
    """What ``--resume`` continues: the saved recipe and settings, changed only where allowed."""
    record = checkpoint.read(run_dir)
    config = artifacts.read_config(run_dir)
    recipe = assemble.recipe_from_dict(config, registry)
    for kind, name, saved in (("task", task, recipe.task_name), ("model", model, recipe.model_name)):
        if name and name != saved:
            raise ZooError(f"{run_dir} trains {kind} '{saved}', not '{name}'")
    if settings:
        raise ZooError("--set cannot change a run being resumed; start a new run instead")
    try:
        resolved = for_resume(record["settings"], options)
    except TypeError as exc:
        raise ZooError(f"{run_dir / checkpoint.RESUME}: damaged settings ({exc})") from None
    checkpoint.prune(run_dir, record)  # files a killed checkpoint left half-made
    return Job(run_dir, recipe, assemble.make_task(recipe, registry), resolved, record, registry)


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)


def _total_steps(s: TrainSettings, task_obj: Any, name: str) -> int | None:
    if s.steps is not None and s.epochs is not None:
        raise ZooError("give either --steps or --epochs, not both (--time may go with either)")
    if s.epochs is None:
        return s.steps
    per_epoch = task_obj.steps_per_epoch(s.batch_size)
    if per_epoch is None:
        raise ZooError(f"task '{name}' generates endless data and has no epochs: use --steps or --time")
    return max(1, math.ceil(s.epochs * per_epoch))


def _check_memory(job: Job, dev: torch.device, dist: distmod.Dist) -> None:
    """Refuse sizes that cannot fit before allocating them (see zoo.sizing)."""
    from zoo.task import Shard

    meta = sizing.meta_network(lambda: assemble.make_network(job.recipe, job.task, job.registry))
    if meta is None:
        return
    try:
        row = job.task.batch(0, 1, Shard())
    except Exception:  # noqa: BLE001 - a task that cannot make a one-row batch: weights only
        row = {}
    rows = job.settings.batch_size // dist.world_size
    need, what = sizing.training_estimate(meta, job.settings.optimizer, rows, row)
    hint = "use a smaller model (--set hidden_size=...) or --batch-size"
    sizing.refuse_if_too_big(need, what, dev, hint)
    if dev.type != "cpu":  # the task builds each batch in RAM before moving it
        sizing.refuse_if_too_big(rows * sizing.batch_row_bytes(row)[0], f"a batch of {rows:,} rows",
                                 torch.device("cpu"), hint)


def save_checkpoint(job: Job, total_steps: int | None, fingerprint: str, dev: torch.device,
                    trainer: Trainer, carry: State) -> None:
    """Commit a checkpoint, then publish its weights (linked, not rewritten) and config.json."""
    s = job.settings
    weights = checkpoint.save(
        job.run_dir, step=trainer.step, net=trainer.model, optimizer=trainer.optimizer, scaler=trainer.scaler,
        carry=carry, facts={"settings": s.as_dict(), "elapsed": trainer.elapsed, "tokens": trainer.tokens,
                            "data_fingerprint": fingerprint, "world_size": trainer.dist.world_size,
                            "metrics": trainer.final_metrics(), "last_loss": trainer.last_loss})
    training = {
        "seed": s.seed, "steps": trainer.step, "total_steps": total_steps, "tokens": trainer.tokens,
        "seconds": round(trainer.elapsed, 3), "data_fingerprint": fingerprint, "device": str(dev),
        "world_size": trainer.dist.world_size, "settings": s.as_dict(),
    }
    artifacts.save_model_dir(job.run_dir, job.recipe, job.task, trainer.model, training=training,
                             metrics=trainer.final_metrics(), versions=artifacts.library_versions(job.recipe, job.registry),
                             weights_file=weights)


def _budget_reached(s: TrainSettings, total_steps: int | None, step: int, elapsed: float) -> str:
    """What budget a resumed run has already used up ('' when there is training left)."""
    if total_steps is not None and step >= total_steps:
        return f"{step} of {total_steps} steps"
    if s.time is not None and elapsed >= s.time:
        return f"{elapsed:.0f} of {s.time:.0f} seconds"
    return ""


def _train(job: Job, dev: torch.device, dist: distmod.Dist, progress: bool | str) -> TrainResult:
    s, task, record = job.settings, job.task, job.record
    if s.batch_size % dist.world_size:
        raise ZooError(f"batch size {s.batch_size} is not divisible by the {dist.world_size} processes")
    autocast_for(s.precision, dev)  # fail on fp16 without CUDA before loading any data

    # data
    _seed_everything(s.seed)
    task.prepare(s.seed)
    fingerprint = task.fingerprint()
    if record is not None and record.get("data_fingerprint", fingerprint) != fingerprint:
        raise ZooError(f"the training data changed since {job.run_dir} was started (fingerprint "
                       f"{record['data_fingerprint']} -> {fingerprint}); start a new run")

    # budget and learning-rate schedule
    total_steps = _total_steps(s, task, job.recipe.task_name)
    warmup = s.warmup if s.warmup is not None else default_warmup(total_steps)
    schedule = Schedule(s.lr, warmup, s.schedule, total_steps, s.time, s.min_lr_ratio)

    # network, once it is known to fit
    _check_memory(job, dev, dist)
    torch.manual_seed(s.seed)
    net = assemble.make_network(job.recipe, task, job.registry).to(dev)
    if dist.rank:
        torch.manual_seed(s.seed + dist.rank)  # different dropout masks on each rank

    # reporting: metrics.jsonl keeps only what the checkpoint being resumed had seen
    start = int(record["step"]) if record is not None else 0
    if record is not None and dist.is_main:
        truncate_metrics(job.run_dir, start)
    mode = pick_mode(progress) if dist.is_main else "off"
    reporter = Reporter(job.run_dir if dist.is_main else None, mode, total_steps, start,
                        task.primary_metric.name)

    trainer: Trainer | None = None
    try:
        # the trainer, restored from the checkpoint when resuming
        trainer = Trainer(task=task, net=net, settings=s, device=dev, dist=dist, schedule=schedule,
                          reporter=reporter, save=functools.partial(save_checkpoint, job, total_steps, fingerprint, dev))
        if record is not None:
            carried = checkpoint.restore(job.run_dir, record, net=net, optimizer=trainer.optimizer,
                                         scaler=trainer.scaler, device=dev)
            trainer.resume_from(record, carried)
            reporter.message(f"resuming {job.run_dir} at step {start}")
            done = _budget_reached(s, total_steps, start, trainer.elapsed)
            if done and dist.is_main:  # said even without progress: otherwise a resume looks like a no-op
                logger(__name__).warning("%s already reached its budget (%s); nothing to train: give a larger "
                                         "--steps, --epochs or --time to continue", job.run_dir, done)
        else:
            reporter.message(f"training {job.recipe.task_name} with {job.recipe.model_name} on {dev} -> {job.run_dir}")

        # the loop
        stopped = trainer.run()
    finally:
        reporter.close(trainer.step if trainer is not None else None)
    return TrainResult(job.run_dir, trainer.final_metrics(), trainer.step, trainer.elapsed, stopped)
