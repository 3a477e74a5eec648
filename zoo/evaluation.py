"""Re-measuring a trained model: prepare its task's data as at training time, evaluate, compare.

``zoo eval``, ``zoo.evaluate(ref)`` and ``Loaded.evaluate()`` all come here. The data is prepared
again from the recorded task config and training seed; the vocabulary it gives and the data's
fingerprint must match the recorded ones, else the numbers would not be comparable. Each
recorded metric must then agree within an absolute tolerance: the registry entry's for a
pretrained name, ``DEFAULT_TOLERANCE`` otherwise.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from zoo.errors import ZooError

if TYPE_CHECKING:
    from zoo.catalogue import Pretrained
    from zoo.loaded import Loaded
    from zoo.task import Task

DEFAULT_TOLERANCE = 1e-4


class NotReproduced(ZooError):
    """The model ran, but its metrics differ from the recorded ones (``zoo eval`` exits with 1)."""

    exit_code = 1


@dataclass
class Evaluation:
    """Measured against recorded metrics, one row per recorded metric."""

    ref: str
    measured: dict[str, float]
    recorded: dict[str, float]
    tolerance: float
    rows: list[dict[str, Any]]

    @property
    def reproduced(self) -> bool:
        return bool(self.recorded) and all(r["ok"] for r in self.rows)

    @property
    def extra(self) -> dict[str, float]:
        """Metrics measured that were never recorded."""
        return {k: v for k, v in self.measured.items() if k not in self.recorded}

    def check(self) -> None:
        """Raise ZooError when nothing was recorded, NotReproduced when a metric is off."""
        if not self.recorded:
            raise ZooError(f"{self.ref}: no recorded metrics to compare with")
        failed = [r for r in self.rows if not r["ok"]]
        if failed:
            worst = max(failed, key=lambda r: r["diff"])
            raise NotReproduced(f"{self.ref}: {worst['metric']} measured {worst['measured']} but {worst['recorded']} "
                                f"was recorded (tolerance {self.tolerance})")


def compare_metrics(measured: dict[str, float], recorded: dict[str, float], tolerance: float) -> list[dict[str, Any]]:
    """One row per recorded metric: recorded, measured, absolute difference, within tolerance."""
    rows = []
    for name, want in recorded.items():
        got = measured.get(name)
        diff = abs(got - want) if got is not None else math.inf
        rows.append({"metric": name, "recorded": want, "measured": got, "diff": diff, "ok": diff <= tolerance})
    return rows


def prepared_task(loaded: Loaded, ref: str, settings: Sequence[str] = (), allow_download: bool = False) -> Task:
    """A fresh task with the model's vocabulary and its data prepared as at training time.

    ``settings`` override task settings (``data=PATH`` when the corpus lives elsewhere on this
    machine); the loaded model itself is left as it was. A URL recorded in config.json is
    fetched only with ``allow_download`` or when ``settings`` give that setting (zoo/downloads.py).
    """
    from zoo import assemble
    from zoo import config as cfg
    from zoo.downloads import require_consent
    from zoo.plugins import current

    recorded_vocab = loaded.task.state_dict()
    recipe = loaded.recipe
    values: dict[str, Any] = {}
    if settings:
        task_cls = current().task(recipe.task_name).config
        values = cfg.split_settings(list(settings), {"task": task_cls})["task"]
        recipe = dataclasses.replace(recipe, task_config=cfg.build(
            task_cls, {**cfg.to_dict(recipe.task_config), **values}, owner=f"task '{recipe.task_name}'"))
    require_consent(ref, cfg.to_dict(recipe.task_config), values, allow_download)
    task = assemble.make_task(recipe)
    task.load_state_dict(recorded_vocab)
    training = loaded.config.get("training", {})
    task.prepare(int(training.get("seed", 0)))
    if task.state_dict() != recorded_vocab:
        raise ZooError(f"{ref}: the re-prepared data gives a different vocabulary than the model was trained with")
    fingerprint = training.get("data_fingerprint")
    if fingerprint and task.fingerprint() != fingerprint:
        raise ZooError(f"{ref}: the data differs from the training data (fingerprint {fingerprint} -> "
                       f"{task.fingerprint()})")
    return task


def evaluate_loaded(loaded: Loaded, ref: str, *, settings: Sequence[str] = (), allow_download: bool = False,
                    tolerance: float | None = None, entry: Pretrained | None = None) -> Evaluation:
    """Measure ``loaded`` on its re-prepared data and compare with the entry's or config's metrics."""
    import torch

    task = prepared_task(loaded, ref, settings, allow_download)
    measured = {k: float(v) for k, v in task.evaluate(loaded.net, torch.device(loaded.device)).items()}
    if entry is not None:
        recorded = dict(entry.metrics)
    else:
        recorded = {k: float(v) for k, v in loaded.config.get("metrics", {}).items()
                    if isinstance(v, int | float) and not isinstance(v, bool) and k in measured}
    if tolerance is None:
        tolerance = entry.tolerance if entry is not None else DEFAULT_TOLERANCE
    return Evaluation(ref, measured, recorded, tolerance, compare_metrics(measured, recorded, tolerance))
