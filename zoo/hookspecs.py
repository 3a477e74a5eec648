"""The plugin hooks. Each hook receives a ``register`` callable (or the CLI group).

Hook implementations must be importable without torch: register import paths
(``"package.module:Class"``) and torch-free config dataclasses, not built objects.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("zoo")
hookimpl = pluggy.HookimplMarker("zoo")


@hookspec
def register_tasks(register: Callable[..., None]) -> None:
    """Add tasks: ``register(name: str, target: str | type, *, config: type, summary: str = "")``.

    ``target`` is ``"module:TaskClass"`` (imported when the task is used) or the class itself, a
    ``zoo.Task`` subclass built as ``TaskClass(config)``; ``config`` is the task's config
    dataclass; ``summary`` is one line for ``zoo list``. See docs/plugins.md.
    """


@hookspec
def register_models(register: Callable[..., None]) -> None:
    """Add architectures: ``register(name, target, *, config, summary="")`` as ``register_tasks``;
    the target is a ``zoo.Model`` subclass built as ``ModelClass(input_size, config)``."""


@hookspec
def register_pretrained(register: Callable[[Mapping[str, Any]], None]) -> None:
    """Add pretrained catalogue entries: ``register(entry)``, one mapping per entry, with the keys
    of a ``registry.toml`` entry plus ``name`` (see docs/registry.md)."""


@hookspec
def register_commands(cli: Any) -> None:
    """Add CLI commands: ``cli.add_command(command, name=None)``, ``@cli.command(...)`` or
    ``@cli.group(...)``, as on the ``zoo`` click group. Built-in names cannot be replaced."""
