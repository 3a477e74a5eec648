"""The training engine: ``zoo.train(...)`` and the loop behind ``zoo train TASK MODEL``.

Names resolve lazily so torch-free parts (``zoo.engine.settings``) import without torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["Diverged", "TrainResult", "train"]

if TYPE_CHECKING:  # pragma: no cover
    from zoo.engine.api import TrainResult, train
    from zoo.engine.loop import Diverged

_LAZY = {"train": "zoo.engine.api", "TrainResult": "zoo.engine.api", "Diverged": "zoo.engine.loop"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'zoo.engine' has no attribute {name!r}")
