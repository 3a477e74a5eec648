"""Registered components: what a plugin contributed, where it lives, and who provided it."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Literal

from zoo.config import fields_of
from zoo.errors import ZooError

Kind = Literal["task", "model"]


@dataclass(frozen=True)
class Provider:
    """The plugin behind an entry: its entry-point name, distribution and version."""

    plugin: str
    distribution: str
    version: str

    def __str__(self) -> str:
        return f"{self.distribution} {self.version}" if self.distribution else self.plugin


@dataclass(frozen=True)
class Component:
    """A task or model as registered: a lazy import target plus its torch-free config class."""

    kind: Kind
    name: str
    target: Any  # "module:attr" or the class itself
    config: type
    summary: str
    provider: Provider

    def load(self) -> type:
        """Import and return the class (this is where torch gets imported).

        A target that cannot be imported, or is not a ``zoo.Task``/``zoo.Model`` subclass, is a
        ZooError naming the plugin, so a broken plugin gives one line rather than a traceback.
        """
        where = f"{self.kind} '{self.name}' from plugin '{self.provider.plugin}' ({self.provider})"
        obj: Any = self.target
        if isinstance(obj, str):
            module, _, attr = obj.partition(":")
            try:
                obj = importlib.import_module(module)
                for part in attr.split("."):
                    obj = getattr(obj, part)
            except (ImportError, AttributeError) as exc:
                raise ZooError(f"{where}: cannot import {self.target}: {exc}") from exc
        if self.kind == "task":
            from zoo.task import Task as base
        else:
            from zoo.model import Model as base
        if not (isinstance(obj, type) and issubclass(obj, base)):
            raise ZooError(f"{where}: {self.target!r} is not a subclass of zoo.{base.__name__}")
        return obj

    def describe(self) -> dict[str, Any]:
        """JSON-ready description for ``zoo list`` and ``zoo info``."""
        return {
            "kind": self.kind,
            "name": self.name,
            "summary": self.summary,
            "plugin": self.provider.plugin,
            "distribution": self.provider.distribution,
            "version": self.provider.version,
            "target": self.target if isinstance(self.target, str) else f"{self.target.__module__}:{self.target.__qualname__}",
            "config": [f.as_dict() for f in fields_of(self.config)],
        }
