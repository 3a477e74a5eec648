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
    "Backbone": "zoo.task",
    "Batch": "zoo.task",
    "Steps": "zoo.inspection",
    "Probe": "zoo.inspection",
    "Model": "zoo.model",
    "masked_scan": "zoo.model",
    "unwrap": "zoo.model",
    "last_valid": "zoo.model",
    "backbone": "zoo.assemble",
    "State": "zoo.state",
    "tree_map": "zoo.state",
    "detach": "zoo.state",
    "zip_map": "zoo.state",
    "mask_rows": "zoo.state",
    "atomic_path": "zoo.fileio",
    "write_atomic": "zoo.fileio",
    "write_text_atomic": "zoo.fileio",
    "write_json_atomic": "zoo.fileio",
    "sha256_file": "zoo.fileio",
    "LineTable": "zoo.tables",
    "load": "zoo.loading",
    "evaluate": "zoo.loading",
    "Loaded": "zoo.loaded",
    "Evaluation": "zoo.evaluation",
    "push": "zoo.hub",
    "train": "zoo.engine",
    "TrainResult": "zoo.engine",
}

__all__ = [  # spelled out so linters and type checkers see the lazy names as exported
    "ZooError", "hookimpl", "option", "__version__",
    "Task", "Metric", "Shard", "StepOutput", "RunOptions", "Backbone", "Batch", "Model", "masked_scan", "unwrap",
    "last_valid", "backbone", "Steps", "Probe",
    "State", "tree_map", "detach", "zip_map", "mask_rows",
    "atomic_path", "write_atomic", "write_text_atomic", "write_json_atomic", "sha256_file", "LineTable",
    "load", "evaluate", "Loaded", "Evaluation", "push", "train", "TrainResult",
]
assert set(__all__) >= set(_LAZY)

if TYPE_CHECKING:  # pragma: no cover
    from zoo.assemble import backbone
    from zoo.engine import TrainResult, train
    from zoo.evaluation import Evaluation
    from zoo.fileio import atomic_path, sha256_file, write_atomic, write_json_atomic, write_text_atomic
    from zoo.hub import push
    from zoo.inspection import Probe, Steps
    from zoo.loaded import Loaded
    from zoo.loading import evaluate, load
    from zoo.model import Model, last_valid, masked_scan, unwrap
    from zoo.state import State, detach, mask_rows, tree_map, zip_map
    from zoo.tables import LineTable
    from zoo.task import Backbone, Batch, Metric, RunOptions, Shard, StepOutput, Task


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")
