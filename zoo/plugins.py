"""Plugin discovery and loading with pluggy, each plugin in isolation.

Plugins are found through the ``zoo`` entry-point group (first-party plugins included). A plugin
that fails to import, fails validation, or raises in a hook is reported - a one-line warning on
stderr and its error in ``zoo plugins`` - and the rest of the zoo works. ``ZOO_STRICT_PLUGINS=1``
re-raises instead. ``ZOO_LOAD_PLUGINS=a,b`` loads only those plugins, ``ZOO_DISABLE_PLUGINS=a,b``
blocks those (by entry-point or distribution name).
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import pluggy

from zoo import __version__, hookspecs
from zoo.catalogue import (
    Pretrained,
    builtin_catalogue,
    merge,
    read_catalogue,
    user_catalogues,
    validate_entry,
)
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


def _describe_error(exc: BaseException) -> str:
    """One line for a warning and for ``zoo plugins``."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class Zoo:
    """Everything the installed plugins provide: tasks, models, pretrained entries, commands.

    ``current()`` builds one from the installed entry points; tests build their own with
    ``Zoo().add_plugin(obj, name)`` and install it with ``use()``.
    """

    def __init__(self, *, builtin_registry: bool = True) -> None:
        """``builtin_registry=False`` leaves out the catalogue shipped with seqzoo (tests that
        want to see only their own pretrained entries)."""
        self.builtin_registry = builtin_registry
        self.pm = pluggy.PluginManager("zoo")
        self.pm.add_hookspecs(hookspecs)
        self.tasks: dict[str, Component] = {}
        self.models: dict[str, Component] = {}
        self.plugins: list[PluginRecord] = []
        self._plugin_pretrained: dict[str, Pretrained] = {}
        self._commands: dict[str, Any] = {}
        self._catalogue: dict[str, Pretrained] | None = None
        self.registry_files: list[str] = []

    # -- loading -------------------------------------------------------------------------
    def add_plugin(self, plugin: object, name: str, distribution: str = "", version: str = "") -> PluginRecord:
        """Register one plugin object and run its hooks; a failure leaves nothing registered."""
        module = getattr(plugin, "__name__", type(plugin).__name__)
        record = PluginRecord(name, distribution, version, module)
        provider = Provider(name, distribution, version)
        try:
            clash = next((r for r in self.plugins if r.name == name and r.status != "blocked"), None)
            if clash is not None:
                raise ZooError(f"plugin name '{name}' is used by both {_who(clash)} and {_who(record)}")
            self.pm.register(plugin, name=name)
            try:
                self.pm.check_pending()  # a misspelled hook name fails here
                staged = self._run_hooks(name, provider, record)
                self._commit(staged, record)
            except BaseException:
                self.pm.unregister(name=name)
                raise
        except Exception as exc:  # noqa: BLE001 - isolation is the point
            self._failed(record, exc)
        self.plugins.append(record)
        return record

    def _run_hooks(self, name: str, provider: Provider, record: PluginRecord) -> _Staged:
        staged = _Staged(provider)
        for hook in HOOKS:
            impls = [i for i in getattr(self.pm.hook, hook).get_hookimpls() if i.plugin_name == name]
            for impl in impls:
                if impl.hookwrapper or impl.wrapper:
                    raise ZooError(f"plugin '{name}': {hook} must be a plain hookimpl, not a wrapper")
                impl.function(*[staged.argument(hook) for _ in impl.argnames])
            if impls:
                record.hooks.append(hook)
        return staged

    def _failed(self, record: PluginRecord, exc: Exception) -> None:
        record.status = "failed"
        record.error = _describe_error(exc)
        if _strict():
            raise exc
        print(f"warning: plugin '{record.name}' failed to load: {record.error}", file=sys.stderr)

    def _commit(self, staged: _Staged, record: PluginRecord) -> None:
        """Apply a plugin's registrations all at once, after checking every name for clashes."""
        seen: set[tuple[str, str]] = set()
        for comp in staged.components:
            if (comp.kind, comp.name) in seen:
                raise ZooError(f"plugin '{record.name}' registers {comp.kind} '{comp.name}' twice")
            seen.add((comp.kind, comp.name))
            table = self.tasks if comp.kind == "task" else self.models
            if comp.name in table:
                raise _clash(comp.kind, comp.name, table[comp.name].provider, comp.provider)
        for entry in staged.pretrained:
            if entry.name in self._plugin_pretrained:
                other = self._plugin_pretrained[entry.name].provider
                assert other is not None and entry.provider is not None
                raise _clash("pretrained", entry.name, other, entry.provider)
        if staged.commands:
            from zoo.cli import BUILTIN_COMMANDS

            for cmd_name in staged.commands:
                if cmd_name in BUILTIN_COMMANDS:
                    raise ZooError(f"plugin '{record.name}' adds command '{cmd_name}', a built-in command")
                if cmd_name in self._commands:
                    other = self._commands[cmd_name][1]
                    raise _clash("command", cmd_name, other, staged.provider)
        for comp in staged.components:
            (self.tasks if comp.kind == "task" else self.models)[comp.name] = comp
            record.registered.append(f"{comp.kind}:{comp.name}")
        for entry in staged.pretrained:
            self._plugin_pretrained[entry.name] = entry
            record.registered.append(f"pretrained:{entry.name}")
        self._catalogue = None
        for cmd_name, cmd in staged.commands.items():
            self._commands[cmd_name] = (cmd, staged.provider)
            record.registered.append(f"command:{cmd_name}")

    def load_entry_points(self) -> None:
        """Discover and load every plugin in the ``zoo`` entry-point group."""
        allow, block = _names("ZOO_LOAD_PLUGINS"), _names("ZOO_DISABLE_PLUGINS") or set()
        found: set[str] = set()
        for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            dist = ep.dist.name if ep.dist else ""
            version = ep.dist.version if ep.dist else ""
            ids = {ep.name, dist}
            found |= ids
            if (allow is not None and not ids & allow) or ids & block:
                self.plugins.append(PluginRecord(ep.name, dist, version, ep.value, status="blocked"))
                continue
            try:
                plugin = ep.load()
            except Exception as exc:  # noqa: BLE001 - a plugin that cannot import is reported
                record = PluginRecord(ep.name, dist, version, ep.value)
                self.plugins.append(record)
                self._failed(record, exc)
                continue
            self.add_plugin(plugin, ep.name, dist, version)
        for var, names in (("ZOO_LOAD_PLUGINS", allow or set()), ("ZOO_DISABLE_PLUGINS", block)):
            for missing in sorted(names - found):
                print(f"warning: {var} names '{missing}', which is not an installed plugin", file=sys.stderr)

    def add_registries(self, paths: list[str]) -> None:
        """Read extra registry files (``zoo --registry``) after ``ZOO_REGISTRY``'s."""
        new = [p for p in paths if p not in self.registry_files]
        if new:
            self.registry_files.extend(new)
            self._catalogue = None

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
        """All pretrained entries, validated once: built-in, then plugins, then user registries.

        A plugin entry whose name the built-in catalogue already uses is dropped and reported
        against the plugin (a plugin never breaks the zoo); a user registry that reuses a name is
        an error naming both files.
        """
        if self._catalogue is None:
            builtin = builtin_catalogue() if self.builtin_registry else None
            merged = merge([read_catalogue(builtin, _CORE)] if builtin is not None else [])
            for entry in self._plugin_pretrained.values():
                if entry.name in merged:
                    self._drop_pretrained(entry, merged[entry.name])
                else:
                    merged[entry.name] = entry
            users = [read_catalogue(path) for path in user_catalogues(self.registry_files)]
            self._catalogue = merge([merged.values(), *users])
        return self._catalogue

    def _drop_pretrained(self, entry: Pretrained, kept: Pretrained) -> None:
        assert entry.provider is not None
        record = next(r for r in self.plugins if r.name == entry.provider.plugin)
        message = f"pretrained '{entry.name}' is already defined in {kept.origin}; dropped"
        record.error = f"{record.error}; {message}" if record.error else message
        record.registered = [r for r in record.registered if r != f"pretrained:{entry.name}"]
        print(f"warning: plugin '{record.name}': {message}", file=sys.stderr)

    def pretrained(self, name: str) -> Pretrained:
        catalogue = self.catalogue()
        if name not in catalogue:
            raise unknown("pretrained model", name, catalogue)
        return catalogue[name]

    @property
    def commands(self) -> dict[str, Any]:
        """Click commands added by plugins (``register_commands``), by command name."""
        return {name: cmd for name, (cmd, _) in self._commands.items()}


def _who(record: PluginRecord) -> str:
    return f"'{record.name}' ({record.distribution} {record.version})" if record.distribution else f"'{record.name}'"


def _clash(kind: str, name: str, first: Provider, second: Provider) -> ZooError:
    return ZooError(
        f"{kind} '{name}' is registered by both plugin '{first.plugin}' ({first}) "
        f"and plugin '{second.plugin}' ({second})"
    )


_CORE = Provider("seqzoo", "seqzoo", __version__)
"""The provider of the built-in catalogue shipped with seqzoo."""


class _Staged:
    """Collects one plugin's registrations so a failing hook leaves nothing half-registered."""

    def __init__(self, provider: Provider) -> None:
        self.provider = provider
        self.components: list[Component] = []
        self.pretrained: list[Pretrained] = []
        self.commands: dict[str, Any] = {}

    def argument(self, hook: str) -> Any:
        if hook == "register_tasks":
            return self._component_register("task")
        if hook == "register_models":
            return self._component_register("model")
        if hook == "register_pretrained":
            return self._register_pretrained
        return _CommandCollector(self)

    def _component_register(self, kind: Kind) -> Callable[..., None]:
        def register(name: str, target: Any, *, config: type, summary: str = "") -> None:
            if not isinstance(name, str) or not name:
                raise ZooError(f"{kind} names must be non-empty strings, got {name!r}")
            if isinstance(target, str) and ":" not in target:
                raise ZooError(f"{kind} '{name}': target must be 'module:attr', got {target!r}")
            if not isinstance(target, str | type):
                raise ZooError(f"{kind} '{name}': target must be 'module:attr' or a class, got {target!r}")
            if not (isinstance(config, type) and dataclasses.is_dataclass(config)):
                raise ZooError(f"{kind} '{name}': config must be a dataclass, got {config!r}")
            self.components.append(Component(kind, name, target, config, summary, self.provider))

        return register

    def _register_pretrained(self, entry: Mapping[str, Any]) -> None:
        entry = dict(entry)
        name = entry.pop("name", None)
        if not isinstance(name, str):
            raise ZooError(f"plugin '{self.provider.plugin}': a pretrained entry needs a 'name'")
        origin = f"plugin '{self.provider.plugin}'"
        self.pretrained.append(validate_entry(name, entry, origin, self.provider))

    def add_command(self, cmd: Any, name: str | None = None) -> None:
        import click

        if not isinstance(cmd, click.Command):
            raise ZooError(f"plugin '{self.provider.plugin}': add_command needs a click command, got {cmd!r}")
        cmd_name = name or cmd.name
        if not cmd_name:
            raise ZooError(f"plugin '{self.provider.plugin}': a command needs a name")
        if cmd_name in self.commands:
            raise ZooError(f"plugin '{self.provider.plugin}' adds command '{cmd_name}' twice")
        self.commands[cmd_name] = cmd


class _CommandCollector:
    """Stands in for the click group in ``register_commands``: ``add_command``, ``command`` and
    ``group`` work as on a click group, but commands are added only if the whole plugin loads."""

    def __init__(self, staged: _Staged) -> None:
        self._staged = staged

    def add_command(self, cmd: Any, name: str | None = None) -> None:
        self._staged.add_command(cmd, name)

    def command(self, *args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Any]:
        import click

        def deco(fn: Callable[..., Any]) -> Any:
            cmd = click.command(*args, **kwargs)(fn)
            self._staged.add_command(cmd)
            return cmd

        return deco

    def group(self, *args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Any]:
        import click

        def deco(fn: Callable[..., Any]) -> Any:
            grp = click.group(*args, **kwargs)(fn)
            self._staged.add_command(grp)
            return grp

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
    """Replace the process-wide zoo (tests build one from in-test plugin objects); ``None`` resets."""
    global _current
    _current = zoo
