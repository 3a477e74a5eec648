"""``zoo.train(...)``: resolve names, settings and budget, set up the run directory, train.

This module wires the pieces together; the loop itself lives in ``zoo.engine.loop``.
"""

from __future__ import annotations

import math
import random
import time as _time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

import zoo
from zoo import artifacts, assemble
from zoo.devices import resolve_device
from zoo.engine import checkpoint
from zoo.engine import dist as distmod
from zoo.engine.loop import Trainer, autocast_for
from zoo.engine.report import Reporter, pick_mode, truncate_metrics
from zoo.engine.schedule import Schedule, default_warmup
from zoo.engine.settings import TrainSettings, resolve
from zoo.errors import ZooError
from zoo.plugins import Zoo, current
from zoo.state import State


@dataclass
class TrainResult:
    """What a finished (or interrupted) run produced."""

    run_dir: Path
    metrics: dict[str, float]
    steps: int
    seconds: float
    stopped: str  # steps | epochs | time | target | interrupted


# Options that may change when resuming: the budget, where and how loudly it runs.
_FREE_ON_RESUME = {"steps", "epochs", "time", "eval_every", "log_every", "compile"}
_SIGNATURE_DEFAULTS = {"optimizer": "adamw", "precision": "fp32", "compile": False, "seed": 0}


def train(
    task: str,
    model: str,
    *,
    settings: Sequence[str] = (),
    steps: int | None = None,
    epochs: float | None = None,
    time: str | float | None = None,
    batch_size: int | None = None,
    lr: float | None = None,
    optimizer: str = "adamw",
    precision: str = "fp32",
    compile: bool = False,
    seed: int = 0,
    device: str = "cpu",
    out: str | Path | None = None,
    resume: str | Path | None = None,
    eval_every: int | None = None,
    progress: bool | str = False,
    log_every: int | None = None,
    grad_clip: float | None = None,
    warmup: int | None = None,
    schedule: str | None = None,
    weight_decay: float | None = None,
) -> TrainResult:
    """Train ``model`` on ``task`` and write a run directory (see docs/training.md).

    ``settings`` are ``name=value`` strings for the task and model configs. Give the budget as
    ``steps``, ``epochs`` or ``time`` (``"90s"``, ``"5m"``, seconds); unset values come from the
    task's ``train_defaults``. ``resume`` continues a run directory where its checkpoint left off.
    ``progress``: False (silent), True (bar on a terminal, log lines otherwise), "bar", "lines".
    """
    given: dict[str, Any] = {
        "steps": steps, "epochs": epochs, "time": time, "batch_size": batch_size, "lr": lr,
        "optimizer": optimizer, "precision": precision, "compile": compile, "seed": seed,
        "eval_every": eval_every, "log_every": log_every, "grad_clip": grad_clip, "warmup": warmup,
        "schedule": schedule, "weight_decay": weight_decay,
    }
    registry = current()
    dev = resolve_device(device)
    dist, dev = distmod.setup(dev)
    try:
        if resume is not None:
            if out is not None:
                raise ZooError("--out cannot be combined with --resume: a resumed run stays in its directory")
            return _resume(Path(resume), task, model, list(settings), given, dev, dist, progress, registry)
        recipe = assemble.recipe(task, model, list(settings), zoo=registry)
        task_obj = assemble.make_task(recipe, registry)
        lr_scale = float(getattr(registry.model(model).load(), "lr_scale", 1.0))
        resolved = resolve(given, dict(getattr(task_obj, "train_defaults", {})), lr_scale)
        run_dir = _new_run_dir(out, task, model, dist)
        try:
            return _train(recipe, task_obj, resolved, dev, dist, run_dir, progress, None, registry)
        except ZooError:
            if dist.is_main:
                _remove_if_empty(run_dir)  # a user error leaves no empty run folder behind
                if out is None:
                    _remove_if_empty(run_dir.parent)
            raise
    finally:
        distmod.teardown(dist)


def _resume(run_dir: Path, task: str, model: str, settings: list[str], given: dict[str, Any],
            dev: torch.device, dist: distmod.Dist, progress: bool | str, registry: Zoo) -> TrainResult:
    record = checkpoint.read(run_dir)
    config = artifacts.read_config(run_dir)
    recipe = assemble.recipe_from_dict(config, registry)
    for kind, name, saved in (("task", task, recipe.task_name), ("model", model, recipe.model_name)):
        if name and name != saved:
            raise ZooError(f"{run_dir} trains {kind} '{saved}', not '{name}'")
    if settings:
        raise ZooError("--set cannot change a run being resumed; start a new run instead")
    saved = record["settings"]
    for key, value in given.items():
        if key in _FREE_ON_RESUME or value is None or value == _SIGNATURE_DEFAULTS.get(key, object()):
            continue
        if value != saved.get(key):
            raise ZooError(f"cannot change {key} when resuming (the run uses {saved.get(key)!r})")
    merged = dict(saved)
    if any(given.get(k) is not None for k in ("steps", "epochs", "time")):
        from zoo.engine.settings import parse_duration

        merged.update(steps=given["steps"], epochs=given["epochs"], time=parse_duration(given["time"]))
    for key in ("eval_every", "log_every"):
        if given.get(key) is not None:
            merged[key] = given[key]
    merged["compile"] = bool(given.get("compile"))
    resolved = TrainSettings.from_dict(merged)
    task_obj = assemble.make_task(recipe, registry)
    return _train(recipe, task_obj, resolved, dev, dist, run_dir, progress, record, registry)


def _new_run_dir(out: str | Path | None, task: str, model: str, dist: distmod.Dist) -> Path:
    """``out`` or ``runs/<task>-<model>-<timestamp>``, chosen on rank 0 and shared with all ranks."""
    text = ""
    if dist.is_main:
        try:
            text = str(_make_run_dir(out, task, model))
        except ZooError as exc:
            text = f"\0{exc}"  # every rank raises the same error instead of waiting forever
    text = dist.broadcast_text(text)
    if text.startswith("\0"):
        raise ZooError(text[1:])
    return Path(text)


def _make_run_dir(out: str | Path | None, task: str, model: str) -> Path:
    if out is not None:
        path = Path(out)
        if path.exists() and not path.is_dir():
            raise ZooError(f"--out {path} is a file, not a directory")
        if (path / checkpoint.RESUME).exists() or (path / artifacts.CONFIG).exists():
            raise ZooError(f"{path} already holds a run: resume it with --resume {path} or pick another --out")
    else:
        stamp = _time.strftime("%Y%m%d-%H%M%S")
        path = Path("runs") / f"{task}-{model}-{stamp}"
        n = 2
        while path.exists():
            path = Path("runs") / f"{task}-{model}-{stamp}-{n}"
            n += 1
    path.mkdir(parents=True, exist_ok=True)
    return path


def _remove_if_empty(path: Path) -> None:
    try:
        path.rmdir()
    except OSError:
        pass  # not empty (or already gone): keep whatever the run wrote


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)


def _total_steps(resolved: TrainSettings, task_obj: Any, name: str) -> int | None:
    if resolved.steps is not None and resolved.epochs is not None:
        raise ZooError("give either --steps or --epochs, not both (--time may go with either)")
    if resolved.epochs is None:
        return resolved.steps
    per_epoch = task_obj.steps_per_epoch(resolved.batch_size)
    if per_epoch is None:
        raise ZooError(f"task '{name}' generates endless data and has no epochs: use --steps or --time")
    return max(1, math.ceil(resolved.epochs * per_epoch))


def versions(recipe: assemble.Recipe, registry: Zoo) -> dict[str, Any]:
    """seqzoo, torch and the plugin distributions a saved model needs."""
    plugins = {}
    for comp in (registry.task(recipe.task_name), registry.model(recipe.model_name)):
        if comp.provider.distribution:
            plugins[comp.provider.distribution] = comp.provider.version
    return {"seqzoo": zoo.__version__, "torch": torch.__version__, "plugins": plugins}


def _train(recipe: assemble.Recipe, task_obj: Any, resolved: TrainSettings, dev: torch.device,
           dist: distmod.Dist, run_dir: Path, progress: bool | str, record: dict[str, Any] | None,
           registry: Zoo) -> TrainResult:
    if resolved.batch_size % dist.world_size:
        raise ZooError(f"batch size {resolved.batch_size} is not divisible by the {dist.world_size} processes")
    autocast_for(resolved.precision, dev)  # fail on fp16 without CUDA before loading any data
    _seed_everything(resolved.seed)
    task_obj.prepare(resolved.seed)
    fingerprint = task_obj.fingerprint()
    if record is not None and record.get("data_fingerprint", fingerprint) != fingerprint:
        raise ZooError(f"the training data changed since {run_dir} was started (fingerprint "
                       f"{record['data_fingerprint']} -> {fingerprint}); start a new run")
    total_steps = _total_steps(resolved, task_obj, recipe.task_name)
    if resolved.warmup < 0:
        resolved.warmup = default_warmup(total_steps)
    sched = Schedule(resolved.lr, resolved.warmup, resolved.schedule, total_steps, resolved.time)
    torch.manual_seed(resolved.seed)
    net = assemble.make_network(recipe, task_obj, registry).to(dev)
    if dist.rank:
        torch.manual_seed(resolved.seed + dist.rank)  # different dropout masks on each rank
    start = record["step"] if record is not None else 0
    if record is not None and dist.is_main:
        truncate_metrics(run_dir, start)
    primary = task_obj.primary_metric.name
    reporter = Reporter(run_dir if dist.is_main else None, pick_mode(progress) if dist.is_main else "off",
                        total_steps, start, primary)
    facts = {"versions": versions(recipe, registry), "fingerprint": fingerprint}

    def save(trainer: Trainer, carry: State) -> None:
        training = {
            "seed": resolved.seed, "steps": trainer.step, "total_steps": total_steps,
            "tokens": trainer.tokens, "seconds": round(trainer.elapsed, 3),
            "data_fingerprint": fingerprint, "device": str(dev), "world_size": dist.world_size,
            "settings": resolved.as_dict(),
        }
        artifacts.save_model_dir(run_dir, recipe, task_obj, trainer.model, training=training,
                                 metrics=trainer.final_metrics(), versions=facts["versions"])
        checkpoint.save(run_dir, step=trainer.step, net=trainer.model, optimizer=trainer.optimizer,
                        scaler=trainer.scaler, carry=carry,
                        facts={"settings": resolved.as_dict(), "elapsed": trainer.elapsed,
                               "tokens": trainer.tokens, "data_fingerprint": fingerprint,
                               "world_size": dist.world_size, "metrics": trainer.final_metrics(),
                               "last_loss": trainer.last_loss})

    trainer = Trainer(task=task_obj, net=net, settings=resolved, device=dev, dist=dist,
                      schedule=sched, reporter=reporter, save=save)
    if record is not None:
        stacked = checkpoint.restore(run_dir, record, net=net, optimizer=trainer.optimizer,
                                     scaler=trainer.scaler, device=dev)
        trainer.restore_carry(stacked)
        trainer.step, trainer.elapsed = start, float(record["elapsed"])
        trainer.tokens = int(record.get("tokens", 0))
        trainer.metrics = dict(record.get("metrics") or {})
        trainer.metrics.pop("train_loss", None)
        trainer.last_loss = record.get("last_loss")
        reporter.message(f"resuming {run_dir} at step {start}")
    else:
        reporter.message(f"training {recipe.task_name} with {recipe.model_name} on {dev} -> {run_dir}")
    try:
        stopped = trainer.run()
    finally:
        reporter.close()
    return TrainResult(run_dir, trainer.final_metrics(), trainer.step, trainer.elapsed, stopped)
