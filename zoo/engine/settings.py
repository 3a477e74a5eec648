"""The engine's training settings, defined once: ``TrainSettings``.

Each field is a ``zoo.option`` (default + help, like task and model configs) with two more facts:
its command-line type bounds and what ``--resume`` may do with it. From this one dataclass come
``zoo.train``'s keyword arguments, the ``zoo train`` flags and their help, the resume rules and
the settings table in docs/training.md (``python -m zoo.engine.settings`` rewrites it).

Values come from a flag you give, else the task's ``train_defaults``, else the field's default.
Torch-free, so the CLI can describe and validate options without importing torch.
"""

from __future__ import annotations

import dataclasses
import math
import re
import sys
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from zoo.config import option
from zoo.errors import ZooError, did_you_mean

OPTIMIZERS = ("adamw", "adam", "rmsprop", "sgd")
PRECISIONS = ("fp32", "bf16", "fp16")
SCHEDULES = ("cosine", "linear", "constant")

OnResume = Literal["budget", "free", "fixed"]
"""budget: a new budget replaces the saved one whole; free: may change; fixed: must stay."""

DEFAULT_STEPS = 1000
"""The budget when neither the user nor the task gives one."""


def setting(default: Any, help: str, *, choices: tuple[Any, ...] | None = None, on_resume: OnResume = "fixed",
            minimum: float | None = None, open_min: bool = False, maximum: float | None = None,
            metavar: str | None = None) -> Any:
    """A ``zoo.option`` with the engine's extra facts: bounds, metavar and resume rule."""
    base = option(default, help, choices=choices)
    meta = {**base.metadata, "on_resume": on_resume, "min": minimum, "open_min": open_min, "max": maximum,
            "metavar": metavar}
    return dataclasses.field(default=default, metadata=meta)


@dataclass
class TrainSettings:
    """Everything that shapes a run's arithmetic; saved in config.json and resume.json."""

    steps: int | None = setting(None, "Budget: optimizer steps.",
                                on_resume="budget", minimum=1)
    epochs: float | None = setting(None, "Budget: passes over the training data.", on_resume="budget",
                                   minimum=0, open_min=True)
    time: float | None = setting(None, "Budget: wall-clock time such as 90s, 5m or 1h30m (seconds).",
                                 on_resume="budget", metavar="DURATION")
    batch_size: int = setting(32, "Global batch size (split across processes).", minimum=1)
    lr: float = setting(1e-3, "Peak learning rate.", minimum=0, open_min=True)
    optimizer: str = setting("adamw", "Optimizer (sgd uses momentum 0.9).", choices=OPTIMIZERS)
    weight_decay: float | None = setting(None, "Weight decay (none: the optimizer's own default).", minimum=0)
    warmup: int | None = setting(None, "Linear warmup steps (none: a tenth of the step budget, at most 100).",
                                 minimum=0)
    schedule: str = setting("cosine", "Decay after warmup, to --min-lr-ratio of the peak rate by the end.",
                            choices=SCHEDULES)
    min_lr_ratio: float = setting(0.1, "Where the decay ends, as a fraction of the peak rate (0: to zero).",
                                  minimum=0, maximum=1)
    grad_clip: float | None = setting(1.0, "Clip the global gradient norm (0: off).", minimum=0)
    precision: str = setting("fp32", "fp32, or mixed bf16/fp16 via torch.autocast (fp16 needs CUDA).",
                             choices=PRECISIONS)
    compile: bool = setting(False, "Compile the network with torch.compile.", on_resume="free")
    seed: int = setting(0, "Random seed: the same seed gives the same weights on CPU.")
    eval_every: int = setting(250, "Evaluate (and checkpoint) every N steps.", on_resume="free", minimum=1)
    log_every: int = setting(10, "Log the training loss every N steps.", on_resume="free", minimum=1)
    sample_every: int = setting(0, "Print a sample from the task's fixed prompt every N steps and record it "
                                "in metrics.jsonl (0: never; tasks whose run generates).", on_resume="free", minimum=0)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainSettings:
        """Settings saved in resume.json (older runs wrote warmup -1 for 'fitted to the budget')."""
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        if isinstance(values.get("warmup"), int) and values["warmup"] < 0:
            values["warmup"] = None
        return cls(**values)


FIELDS: tuple[dataclasses.Field[Any], ...] = dataclasses.fields(TrainSettings)
NAMES: tuple[str, ...] = tuple(f.name for f in FIELDS)
BUDGET_KEYS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.metadata["on_resume"] == "budget")
FREE_ON_RESUME: frozenset[str] = frozenset(f.name for f in FIELDS if f.metadata["on_resume"] != "fixed")
ENGINE_DEFAULTS: dict[str, Any] = {f.name: f.default for f in FIELDS} | {"steps": DEFAULT_STEPS}
"""Used only for what neither the user nor the task's ``train_defaults`` set."""
_HINTS = typing.get_type_hints(TrainSettings)


def base_type(name: str) -> type:
    """int, float, str or bool: the field's type without ``| None``."""
    return next(a for a in (typing.get_args(_HINTS[name]) or (_HINTS[name],)) if a is not type(None))


def check_names(given: dict[str, Any], where: str = "training setting") -> None:
    for name in given:
        if name not in NAMES:
            raise ZooError(f"unknown {where} '{name}'{did_you_mean(name, NAMES)}; valid: {', '.join(NAMES)}")


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


def check_value(name: str, value: Any) -> Any:
    """One setting's value, typed and checked against its field (None passes through)."""
    if value is None:
        return None
    if name == "time":
        return parse_duration(value)
    field = next(f for f in FIELDS if f.name == name)
    kind, label = base_type(name), name.replace("_", " ")
    if kind is bool:
        if not isinstance(value, bool):
            raise ZooError(f"bad value {value!r} for {label}: expected true or false")
        return value
    if kind is str:
        choices = field.metadata.get("choices") or ()
        if value not in choices:
            raise ZooError(f"unknown {label} '{value}': expected one of {', '.join(choices)}")
        return value
    try:
        if isinstance(value, bool) or (kind is int and isinstance(value, float) and not value.is_integer()):
            raise ValueError
        number = kind(value)
    except (TypeError, ValueError, OverflowError):
        raise ZooError(f"bad value {value!r} for {label}: expected {'a whole' if kind is int else 'a'} number") from None
    if kind is float and not math.isfinite(number):
        raise ZooError(f"bad value {value!r} for {label}: expected a finite number")
    low, open_min = field.metadata["min"], field.metadata["open_min"]
    if low is not None and (number < low or (open_min and number == low)):
        raise ZooError(f"bad value {value!r} for {label}: must be "
                       + ("positive" if (low == 0 and open_min) or (kind is int and low == 1) else "zero or more"))
    high = field.metadata["max"]
    if high is not None and number > high:
        raise ZooError(f"bad value {value!r} for {label}: must be at most {high:g}")
    return number


def resolve(given: dict[str, Any], task_defaults: dict[str, Any], lr_scale: float = 1.0) -> TrainSettings:
    """Merge explicit values (None = not given) with the task's and the engine's defaults.

    The budget is taken whole from one place: if the user gave any of steps/epochs/time, the
    task's default budget is ignored. ``lr_scale`` (the model's ``Model.lr_scale``) multiplies a
    default learning rate, never one the user gave.
    """
    check_names(given)
    unknown = sorted(set(task_defaults) - set(NAMES))
    if unknown:
        raise ZooError(f"task train_defaults has unknown keys: {', '.join(unknown)}")
    budget_source = given if any(given.get(k) is not None for k in BUDGET_KEYS) else task_defaults
    values: dict[str, Any] = {}
    for name in NAMES:
        if name in BUDGET_KEYS:
            values[name] = check_value(name, budget_source.get(name))
            continue
        value = given.get(name)
        if value is None:
            value = task_defaults.get(name)
        values[name] = ENGINE_DEFAULTS[name] if value is None else check_value(name, value)
    if all(values[k] is None for k in BUDGET_KEYS):
        values["steps"] = DEFAULT_STEPS
    if values["grad_clip"] is not None and values["grad_clip"] <= 0:
        values["grad_clip"] = None  # 0 turns clipping off
    if given.get("lr") is None:
        values["lr"] *= lr_scale
    return TrainSettings(**values)


def for_resume(saved: dict[str, Any], given: dict[str, Any]) -> TrainSettings:
    """A resumed run's settings: the saved ones, with only what ``on_resume`` allows changed."""
    check_names(given)
    merged = TrainSettings.from_dict(saved).as_dict()
    for name, value in given.items():
        if value is None or name in FREE_ON_RESUME:
            continue
        value = check_value(name, value)
        if value != merged.get(name):
            raise ZooError(f"cannot change {name} when resuming (the run uses {merged.get(name)!r}); "
                           "start a new run instead")
    if any(given.get(k) is not None for k in BUDGET_KEYS):
        merged.update({k: check_value(k, given.get(k)) for k in BUDGET_KEYS})
    for name in FREE_ON_RESUME - set(BUDGET_KEYS):
        if given.get(name) is not None:
            merged[name] = check_value(name, given[name])
    return TrainSettings(**merged)


# -- the docs table --------------------------------------------------------------------------
_RULE = {"budget": "a new budget replaces the whole budget", "free": "may change", "fixed": "must stay"}
TABLE_BEGIN = "<!-- settings table: generated by `python -m zoo.engine.settings`; do not edit -->"
TABLE_END = "<!-- end of settings table -->"


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def describe_default(name: str) -> str:
    if name == "steps":
        return f"{DEFAULT_STEPS} when no budget is given"
    default = ENGINE_DEFAULTS[name]
    return "none" if default is None else repr(default) if isinstance(default, str) else str(default)


def markdown_table() -> str:
    """The settings table of docs/training.md."""
    rows = ["| flag (`zoo.train` keyword) | engine default | on `--resume` | meaning |", "| --- | --- | --- | --- |"]
    for f in FIELDS:
        choices = f.metadata.get("choices")
        value = "" if base_type(f.name) is bool else " " + (f.metadata["metavar"] or (
            "\\|".join(choices) if choices else base_type(f.name).__name__.upper()))  # \| keeps the table whole
        rows.append(f"| `{flag(f.name)}{value}` (`{f.name}`) | {describe_default(f.name)} | "
                    f"{_RULE[f.metadata['on_resume']]} | {f.metadata['help']} |")
    return "\n".join(rows)


def write_docs(path: Path) -> bool:
    """Replace the table between the markers in ``path``; True when the file changed."""
    text = path.read_text(encoding="utf-8")
    head, _, rest = text.partition(TABLE_BEGIN)
    _, _, tail = rest.partition(TABLE_END)
    new = f"{head}{TABLE_BEGIN}\n{markdown_table()}\n{TABLE_END}{tail}"
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


if __name__ == "__main__":  # pragma: no cover - a maintenance command
    docs = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parents[2] / "docs" / "training.md")
    print(f"{docs}: {'updated' if write_docs(docs) else 'already up to date'}")
