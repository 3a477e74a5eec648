"""Registered components: what a plugin contributed, where it lives, and who provided it."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Literal

from zoo.config import fields_of

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
    extra: dict[str, Any] = field(default_factory=dict)

    def load(self) -> Any:
        """Import and return the class (this is where torch gets imported)."""
        if not isinstance(self.target, str):
            return self.target
        module, _, attr = self.target.partition(":")
        obj: Any = importlib.import_module(module)
        for part in attr.split("."):
            obj = getattr(obj, part)
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
