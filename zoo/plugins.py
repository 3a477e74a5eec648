"""Plugin discovery and loading with pluggy, each plugin in isolation.

Plugins are found through the ``zoo`` entry-point group (first-party plugins included). A plugin
that fails to import, fails validation, or raises in a hook is reported - a one-line warning on
stderr and its error in ``zoo plugins`` - and the rest of the zoo works. ``ZOO_STRICT_PLUGINS=1``
re-raises instead. ``ZOO_LOAD_PLUGINS=a,b`` loads only those plugins, ``ZOO_DISABLE_PLUGINS=a,b``
blocks those (by entry-point or distribution name).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import pluggy

from zoo import hookspecs
from zoo.catalogue import Pretrained, builtin_catalogue, merge, read_catalogue, user_catalogues, validate_entry
from zoo.errors import ZooError, unknown
from zoo.registry import Component, Kind, Provider

ENTRY_POINT_GROUP = "zoo"
HOOKS = ("register_tasks", "register_models", "register_pretrained", "register_commands")


@dataclass
class PluginRecord:
    """What ``zoo plugins`` reports about one plugin."""

    name: str
    distribution: str
    version: str
    module: str
    hooks: list[str] = field(default_factory=list)
    registered: list[str] = field(default_factory=list)
    error: str | None = None
    status: str = "loaded"  # loaded | failed | blocked

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "module": self.module,
            "status": self.status,
            "hooks": list(self.hooks),
            "registered": list(self.registered),
            "error": self.error,
        }


def _names(var: str) -> set[str] | None:
    raw = os.environ.get(var)
    if raw is None:
        return None
    return {n.strip() for n in raw.split(",") if n.strip()}


def _strict() -> bool:
    return os.environ.get("ZOO_STRICT_PLUGINS", "") not in ("", "0", "false", "no")


class Zoo:
    """Everything the installed plugins provide: tasks, models, pretrained entries, commands."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager("zoo")
        self.pm.add_hookspecs(hookspecs)
        self.tasks: dict[str, Component] = {}
        self.models: dict[str, Component] = {}
        self.plugins: list[PluginRecord] = []
        self._plugin_pretrained: list[Pretrained] = []
        self._commands: list[Any] = []
        self._catalogue: dict[str, Pretrained] | None = None
        self.registry_files: list[str] = []

    # -- loading -------------------------------------------------------------------------
    def add_plugin(self, plugin: object, name: str, distribution: str = "", version: str = "") -> PluginRecord:
        """Register one plugin object and run its hooks, isolating any failure."""
        record = PluginRecord(name, distribution, version, getattr(plugin, "__name__", type(plugin).__name__))
        self.plugins.append(record)
        provider = Provider(name, distribution, version)
        try:
            self.pm.register(plugin, name=name)
            try:
                self.pm.check_pending()
            except pluggy.PluginValidationError:
                self.pm.unregister(name=name)
                raise
            impls = {
                hook: [i for i in getattr(self.pm.hook, hook).get_hookimpls() if i.plugin_name == name]
                for hook in HOOKS
            }
            record.hooks = [hook for hook, found in impls.items() if found]
            staged = _Staged()
            for hook, found in impls.items():
                for impl in found:
                    impl.function(*[staged.argument(hook, provider) for _ in impl.argnames])
            self._commit(staged, record)
        except Exception as exc:  # noqa: BLE001 - isolation is the point
            record.status = "failed"
            record.error = f"{type(exc).__name__}: {exc}"
            if self.pm.is_registered(plugin):
                self.pm.unregister(plugin)
            if _strict():
                raise
            print(f"warning: plugin '{name}' failed to load: {record.error}", file=sys.stderr)
        return record

    def _commit(self, staged: _Staged, record: PluginRecord) -> None:
        """Apply a plugin's registrations all at once, after checking for name clashes."""
        for comp in staged.components:
            table = self.tasks if comp.kind == "task" else self.models
            if comp.name in table:
                other = table[comp.name].provider
                raise ZooError(
                    f"{comp.kind} '{comp.name}' is registered by both '{other.plugin}' ({other}) "
                    f"and '{comp.provider.plugin}' ({comp.provider})"
                )
        names = {(c.kind, c.name) for c in staged.components}
        if len(names) != len(staged.components):
            raise ZooError(f"plugin '{record.name}' registers the same name twice")
        for comp in staged.components:
            (self.tasks if comp.kind == "task" else self.models)[comp.name] = comp
            record.registered.append(f"{comp.kind}:{comp.name}")
        for entry in staged.pretrained:
            self._plugin_pretrained.append(entry)
            record.registered.append(f"pretrained:{entry.name}")
        self._commands.extend(staged.commands)
        for cmd in staged.commands:
            record.registered.append(f"command:{cmd.name}")

    def load_entry_points(self) -> None:
        """Discover and load every plugin in the ``zoo`` entry-point group."""
        allow, block = _names("ZOO_LOAD_PLUGINS"), _names("ZOO_DISABLE_PLUGINS") or set()
        for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            dist = ep.dist.name if ep.dist else ""
            version = ep.dist.version if ep.dist else ""
            ids = {ep.name, dist}
            if (allow is not None and not ids & allow) or ids & block:
                self.plugins.append(PluginRecord(ep.name, dist, version, ep.value, status="blocked"))
                continue
            try:
                plugin = ep.load()
            except Exception as exc:  # noqa: BLE001
                record = PluginRecord(ep.name, dist, version, ep.value, status="failed",
                                      error=f"{type(exc).__name__}: {exc}")
                self.plugins.append(record)
                if _strict():
                    raise
                print(f"warning: plugin '{ep.name}' failed to load: {record.error}", file=sys.stderr)
                continue
            self.add_plugin(plugin, ep.name, dist, version)

    # -- lookups ---------------------------------------------------------------------------
    def task(self, name: str) -> Component:
        if name not in self.tasks:
            raise unknown("task", name, self.tasks)
        return self.tasks[name]

    def model(self, name: str) -> Component:
        if name not in self.models:
            raise unknown("model", name, self.models)
        return self.models[name]

    def catalogue(self) -> dict[str, Pretrained]:
        """All pretrained entries (built-in, plugin, user registries), validated once."""
        if self._catalogue is None:
            groups: list[Iterable[Pretrained]] = []
            builtin = builtin_catalogue()
            if builtin is not None:
                groups.append(read_catalogue(builtin))
            groups.append(self._plugin_pretrained)
            groups.extend(read_catalogue(p) for p in user_catalogues(self.registry_files))
            self._catalogue = merge(groups)
        return self._catalogue

    def pretrained(self, name: str) -> Pretrained:
        catalogue = self.catalogue()
        if name not in catalogue:
            raise unknown("pretrained model", name, catalogue)
        return catalogue[name]

    @property
    def commands(self) -> list[Any]:
        return list(self._commands)


class _Staged:
    """Collects one plugin's registrations so a failing hook leaves nothing half-registered."""

    def __init__(self) -> None:
        self.components: list[Component] = []
        self.pretrained: list[Pretrained] = []
        self.commands: list[Any] = []

    def argument(self, hook: str, provider: Provider) -> Any:
        if hook == "register_tasks":
            return self._component_register("task", provider)
        if hook == "register_models":
            return self._component_register("model", provider)
        if hook == "register_pretrained":
            def register_pretrained(entry: Mapping[str, Any]) -> None:
                entry = dict(entry)
                name = entry.pop("name", None)
                if not isinstance(name, str):
                    raise ZooError(f"plugin '{provider.plugin}': pretrained entry needs a 'name'")
                self.pretrained.append(validate_entry(name, entry, f"plugin {provider.plugin}"))
            return register_pretrained
        return _CommandCollector(self.commands)

    def _component_register(self, kind: Kind, provider: Provider) -> Callable[..., None]:
        def register(name: str, target: Any, *, config: type, summary: str = "", **extra: Any) -> None:
            import dataclasses

            if not isinstance(name, str) or not name:
                raise ZooError(f"{kind} names must be non-empty strings, got {name!r}")
            if isinstance(target, str) and ":" not in target:
                raise ZooError(f"{kind} '{name}': target must be 'module:attr', got {target!r}")
            if not dataclasses.is_dataclass(config):
                raise ZooError(f"{kind} '{name}': config must be a dataclass, got {config!r}")
            self.components.append(Component(kind, name, target, config, summary, provider, extra))
        return register


class _CommandCollector:
    """Stands in for the click group in ``register_commands`` so commands register atomically."""

    def __init__(self, sink: list[Any]) -> None:
        self._sink = sink

    def add_command(self, cmd: Any, name: str | None = None) -> None:
        if name:
            cmd.name = name
        self._sink.append(cmd)

    def command(self, *args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Any]:
        import click

        def deco(fn: Callable[..., Any]) -> Any:
            cmd = click.command(*args, **kwargs)(fn)
            self._sink.append(cmd)
            return cmd
        return deco


_current: Zoo | None = None


def current() -> Zoo:
    """The process-wide zoo, loaded from entry points on first use."""
    global _current
    if _current is None:
        zoo = Zoo()
        zoo.load_entry_points()
        _current = zoo
    return _current


def use(zoo: Zoo | None) -> None:
    """Replace the process-wide zoo (tests build one from in-test plugin objects)."""
    global _current
    _current = zoo
