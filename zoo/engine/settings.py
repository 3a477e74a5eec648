"""Trainer settings: flags, then the task's ``train_defaults``, then the engine's own defaults.

Torch-free, so the CLI can describe and validate options without importing torch.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from typing import Any

from zoo.errors import ZooError

OPTIMIZERS = ("adamw", "adam", "rmsprop", "sgd")
PRECISIONS = ("fp32", "bf16", "fp16")
SCHEDULES = ("cosine", "linear", "constant")

ENGINE_DEFAULTS: dict[str, Any] = {
    "steps": 1000,
    "batch_size": 32,
    "lr": 1e-3,
    "eval_every": 250,
    "log_every": 10,
    "grad_clip": 1.0,
    "warmup": None,  # None: a tenth of the step budget, at most 100 steps
    "schedule": "cosine",
    "weight_decay": None,  # None: the optimizer's own default
}
"""Used only for what neither the user nor the task's ``train_defaults`` set."""

BUDGET_KEYS = ("steps", "epochs", "time")


@dataclass
class TrainSettings:
    """Everything that shapes a run's arithmetic; saved in config.json and resume.json."""

    steps: int | None
    epochs: float | None
    time: float | None
    batch_size: int
    lr: float
    optimizer: str
    precision: str
    compile: bool
    seed: int
    eval_every: int
    log_every: int
    grad_clip: float | None
    warmup: int
    schedule: str
    weight_decay: float | None

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainSettings:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(h|m|s)?", re.IGNORECASE)
_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0, None: 1.0}


def parse_duration(value: str | float | int | None) -> float | None:
    """``90s``, ``5m``, ``1h30m`` or a number of seconds -> seconds."""
    if value is None or isinstance(value, int | float):
        if value is not None and (not math.isfinite(value) or value <= 0):
            raise ZooError(f"bad time budget {value!r}: expected a positive duration")
        return None if value is None else float(value)
    text = value.strip().lower()
    pos, total = 0, 0.0
    for match in _DURATION.finditer(text):
        if match.start() != pos or (match.group(2) is None and match.end() != len(text)):
            break
        total += float(match.group(1)) * _UNIT[match.group(2)]
        pos = match.end()
    if pos != len(text) or not text or total <= 0:
        raise ZooError(f"bad time budget {value!r}: expected a duration such as 90s, 5m or 1h30m")
    return total


def _positive(name: str, value: Any, kind: type = int) -> Any:
    if value is None:
        return None
    try:
        value = kind(value)
    except (TypeError, ValueError):
        raise ZooError(f"bad value {value!r} for {name}: expected a {'whole' if kind is int else ''} number".replace("  ", " ")) from None
    if not value > 0 or (kind is float and not math.isfinite(value)):
        raise ZooError(f"bad value {value!r} for {name}: must be positive")
    return value


def resolve(given: dict[str, Any], task_defaults: dict[str, Any], lr_scale: float = 1.0) -> TrainSettings:
    """Merge explicit values (None = not given) with the task's and the engine's defaults.

    The budget is taken whole from one place: if the user gave any of steps/epochs/time, the
    task's default budget is ignored. ``lr_scale`` (the model's ``Model.lr_scale``) multiplies a
    default learning rate, never one the user gave.
    """
    unknown = set(task_defaults) - set(ENGINE_DEFAULTS) - {"time", "epochs"}
    if unknown:
        raise ZooError(f"task train_defaults has unknown keys: {', '.join(sorted(unknown))}")

    def pick(name: str) -> Any:
        if given.get(name) is not None:
            return given[name]
        if task_defaults.get(name) is not None:
            return task_defaults[name]
        return ENGINE_DEFAULTS.get(name)

    budget = {k: given.get(k) for k in BUDGET_KEYS}
    if all(v is None for v in budget.values()):
        budget = {k: task_defaults.get(k) for k in BUDGET_KEYS}
        if all(v is None for v in budget.values()):
            budget["steps"] = ENGINE_DEFAULTS["steps"]
    optimizer = str(pick("optimizer") or "adamw")
    if optimizer not in OPTIMIZERS:
        raise ZooError(f"unknown optimizer '{optimizer}': expected one of {', '.join(OPTIMIZERS)}")
    precision = str(pick("precision") or "fp32")
    if precision not in PRECISIONS:
        raise ZooError(f"unknown precision '{precision}': expected one of {', '.join(PRECISIONS)}")
    schedule = str(pick("schedule"))
    if schedule not in SCHEDULES:
        raise ZooError(f"unknown schedule '{schedule}': expected one of {', '.join(SCHEDULES)}")
    grad_clip = pick("grad_clip")
    if grad_clip is not None and float(grad_clip) <= 0:
        grad_clip = None  # 0 turns clipping off
    warmup = pick("warmup")
    if warmup is not None and int(warmup) < 0:
        raise ZooError(f"bad value {warmup!r} for warmup: must be zero or more")
    return TrainSettings(
        steps=_positive("steps", budget["steps"]),
        epochs=_positive("epochs", budget["epochs"], float),
        time=parse_duration(budget["time"]),
        batch_size=_positive("batch size", pick("batch_size")),
        lr=_positive("learning rate", pick("lr"), float) * (1.0 if given.get("lr") is not None else lr_scale),
        optimizer=optimizer,
        precision=precision,
        compile=bool(given.get("compile")),
        seed=int(given.get("seed") or 0),
        eval_every=_positive("eval_every", pick("eval_every")),
        log_every=_positive("log_every", pick("log_every")),
        grad_clip=None if grad_clip is None else float(grad_clip),
        warmup=-1 if warmup is None else int(warmup),  # -1: fitted once the step budget is known
        schedule=schedule,
        weight_decay=None if pick("weight_decay") is None else float(pick("weight_decay")),
    )
