"""``zoo compare --vary NAME=V1,V2``: the settings a comparison varies, as labelled variants.

Each ``--vary`` names one setting (a task or model setting, routed like ``--set``, or an engine
setting such as ``lr`` or ``batch_size``) and its values; the variants are every combination of
them. Everything is checked before anything trains. The budget (steps, epochs, time) is what a
comparison holds equal, so it cannot vary; the training seed comes from ``--seeds``, so ``seed``
names a task or model setting (count's pattern seed).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from zoo.errors import ZooError

FIXED = ("steps", "epochs", "time")


@dataclass(frozen=True)
class Variant:
    """One combination of varied values: its label, task/model settings and engine settings."""

    label: str = ""
    settings: tuple[str, ...] = ()
    engine: dict[str, Any] = field(default_factory=dict)


def parse(specs: Sequence[str]) -> list[tuple[str, list[str]]]:
    """``["lr=0.01,0.001"]`` -> ``[("lr", ["0.01", "0.001"])]``; ZooError on a malformed spec."""
    out: list[tuple[str, list[str]]] = []
    for spec in specs:
        name, eq, values = spec.partition("=")
        name = name.strip()
        items = [v.strip() for v in values.split(",")]
        if not eq or not name or not values.strip() or any(not v for v in items):
            raise ZooError(f"bad --vary {spec!r}: expected NAME=V1,V2[,...]")
        if name.replace("-", "_") in [n.replace("-", "_") for n, _ in out]:
            raise ZooError(f"--vary {name} is given twice: list all its values in one --vary")
        if len(set(items)) != len(items):
            raise ZooError(f"--vary {name}: a value is listed twice")
        out.append((name, items))
    return out


def engine_value(name: str, text: str) -> Any:
    """A typed engine setting from text, checked as ``zoo train`` checks its flag."""
    from zoo.engine.settings import base_type, check_value

    if name in FIXED:
        raise ZooError(f"--vary {name}: every run of a comparison shares the budget; use --steps or --time")
    if base_type(name) is bool:
        low = text.lower()
        if low not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
            raise ZooError(f"bad value {text!r} for {name.replace('_', ' ')}: expected true or false")
        return low in ("true", "1", "yes", "on")
    try:
        return check_value(name, text)
    except ZooError as exc:
        raise ZooError(f"--vary {name}={text}: {exc}") from None


def expand(specs: Sequence[str], fixed_settings: Sequence[str] = ()) -> list[Variant]:
    """Every combination of the varied values, in the order given (one empty variant without any).

    Engine values are checked here; task and model values are checked by the caller building each
    recipe, before anything trains. A setting both fixed with ``--set`` and varied is refused.
    """
    from zoo.engine.settings import NAMES

    parsed = parse(specs)
    fixed = {s.partition("=")[0].strip().replace("-", "_").split(".")[-1] for s in fixed_settings}
    axes = []
    for name, values in parsed:
        key = name.replace("-", "_")
        if key.split(".")[-1] in fixed:
            raise ZooError(f"--vary {name}: the setting is also fixed with --set; give it one way")
        if (key in NAMES and key != "seed") or key in FIXED:
            axes.append([(f"{name}={v}", None, (key, engine_value(key, v))) for v in values])
        else:
            axes.append([(f"{name}={v}", f"{key}={v}", None) for v in values])
    variants = []
    for combo in itertools.product(*axes):
        label = " ".join(text for text, _, _ in combo)
        settings = tuple(s for _, s, _ in combo if s is not None)
        engine = dict(e for _, _, e in combo if e is not None)
        variants.append(Variant(label, settings, engine))
    return variants


def run_name(label: str) -> str:
    """A folder name for a run's label (``lstm input=onehot`` -> ``lstm-input=onehot``)."""
    return re.sub(r"[^A-Za-z0-9_.=+,-]", "_", label.replace(" ", "-"))
