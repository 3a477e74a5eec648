"""The plugin hooks. Each hook receives a ``register`` callable (or the CLI group).

Hook implementations must be importable without torch: register import paths
(``"package.module:Class"``) and torch-free config dataclasses, not built objects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("zoo")
hookimpl = pluggy.HookimplMarker("zoo")


@hookspec
def register_tasks(register: Callable[..., None]) -> None:
    """Add tasks: ``register(name, target, *, config, summary)``.

    ``target`` is ``"module:TaskClass"`` (imported when the task is used) or the class itself;
    ``config`` is the task's config dataclass; ``summary`` is one line for ``zoo list``.
    """


@hookspec
def register_models(register: Callable[..., None]) -> None:
    """Add architectures: ``register(name, target, *, config, summary)`` (as ``register_tasks``)."""


@hookspec
def register_pretrained(register: Callable[[dict[str, Any]], None]) -> None:
    """Add pretrained catalogue entries: ``register(entry)``, one mapping per entry, in the
    ``registry.toml`` schema plus a ``name`` key (see docs/registry.md)."""


@hookspec
def register_commands(cli: Any) -> None:
    """Add CLI commands to the ``zoo`` click group: ``cli.add_command(command)``."""
