"""seqzoo: a plugin-based model zoo for classic sequence models.

Importing ``zoo`` is cheap and never imports torch: the torch-backed names (``Task``, ``Model``,
``load``, ``train``...) are resolved on first access.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zoo.config import option
from zoo.errors import ZooError
from zoo.hookspecs import hookimpl

__version__ = "0.1.0"

_LAZY = {
    "Task": "zoo.task",
    "Metric": "zoo.task",
    "Shard": "zoo.task",
    "StepOutput": "zoo.task",
    "RunOptions": "zoo.task",
    "Model": "zoo.model",
    "masked_scan": "zoo.model",
    "load": "zoo.loading",
    "train": "zoo.engine",
}

__all__ = [  # spelled out so linters and type checkers see the lazy names as exported
    "ZooError", "hookimpl", "option", "__version__",
    "Task", "Metric", "Shard", "StepOutput", "RunOptions", "Model", "masked_scan", "load", "train",
]
assert set(__all__) >= set(_LAZY)

if TYPE_CHECKING:  # pragma: no cover
    from zoo.engine import train
    from zoo.loading import load
    from zoo.model import Model, masked_scan
    from zoo.task import Metric, RunOptions, Shard, StepOutput, Task


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")
