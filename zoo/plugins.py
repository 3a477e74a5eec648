"""Plugin discovery and loading with pluggy, each plugin in isolation.

Plugins are found through the ``zoo`` entry-point group (first-party plugins included). A plugin
that fails to import, fails validation, or raises in a hook is reported - a one-line warning on
stderr and its error in ``zoo plugins`` - and the rest of the zoo works. ``ZOO_STRICT_PLUGINS=1``
re-raises instead. ``ZOO_LOAD_PLUGINS=a,b`` loads only those plugins, ``ZOO_DISABLE_PLUGINS=a,b``
blocks those (by entry-point or distribution name).

Hooks are called through pluggy (one plugin at a time, with ``subset_hook_caller``), and their
list comes from ``zoo.hookspecs``. A name (task, model, pretrained entry or command) offered by
two plugins is refused for all of them, whatever the install order, while the rest of each
plugin stays loaded (status ``partial``); lookups of the name say which distributions clash and
which ``ZOO_DISABLE_PLUGINS=...`` resolves it. ``ZOO_STRICT_PLUGINS=1`` makes a clash an error.
"""

from __future__ import annotations

import dataclasses
import os
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
from zoo.commands import BUILTIN_COMMANDS
from zoo.diagnostics import logger
from zoo.errors import ZooError, unknown
from zoo.registry import Component, Kind, Provider

_log = logger(__name__)

ENTRY_POINT_GROUP = "zoo"
HOOKS: tuple[str, ...] = tuple(n for n, obj in vars(hookspecs).items() if hasattr(obj, "zoo_spec"))
"""Every hook, in the order ``zoo.hookspecs`` declares them (pluggy marks specs with ``zoo_spec``)."""


@dataclass
class PluginRecord:
    """What ``zoo plugins`` reports about one plugin."""

    name: str
    distribution: str
    version: str
    module: str
    hooks: list[str] = field(default_factory=list)
    registered: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # "kind:name" -> why it was refused
    error: str | None = None
    status: str = "loaded"  # loaded | partial (some registrations refused) | failed | blocked

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "module": self.module,
            "status": self.status,
            "hooks": list(self.hooks),
            "registered": list(self.registered),
            "refused": dict(self.refused),
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
        self.contested: dict[tuple[str, str], list[Provider]] = {}
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
                staged = self._run_hooks(plugin, name, provider, record)
                self._commit(staged, record)
            except BaseException:
                self.pm.unregister(name=name)
                raise
        except Exception as exc:  # noqa: BLE001 - isolation is the point
            self._failed(record, exc)
        self.plugins.append(record)
        return record

    def _run_hooks(self, plugin: object, name: str, provider: Provider, record: PluginRecord) -> _Staged:
        """Call this plugin's hook implementations through pluggy, each with a staging argument."""
        staged = _Staged(provider)
        others = [p for p in self.pm.get_plugins() if p is not plugin]
        for hook in HOOKS:
            caller = getattr(self.pm.hook, hook)
            impls = [i for i in caller.get_hookimpls() if i.plugin_name == name]
            if not impls:
                continue
            if any(i.hookwrapper or i.wrapper for i in impls):
                raise ZooError(f"plugin '{name}': {hook} must be a plain hookimpl, not a wrapper")
            (argname,) = caller.spec.argnames  # every zoo hook takes exactly one argument
            self.pm.subset_hook_caller(hook, remove_plugins=others)(**{argname: staged.argument(hook)})
            record.hooks.append(hook)
        return staged

    def _failed(self, record: PluginRecord, exc: Exception) -> None:
        record.status = "failed"
        record.error = _describe_error(exc)
        if _strict():
            raise exc
        _log.warning("plugin '%s' failed to load: %s", record.name, record.error)

    def _commit(self, staged: _Staged, record: PluginRecord) -> None:
        """Apply a plugin's registrations; a name another plugin also offers is refused for both.

        A plugin that repeats one of its own names, or whose hooks failed, registers nothing (that
        is its own bug). A clash with another plugin, or with a built-in command, refuses only the
        contested name: the rest of both plugins stays loaded, whatever the loading order.
        """
        items: list[tuple[str, str, Any]] = [(c.kind, c.name, c) for c in staged.components]
        items += [("pretrained", e.name, e) for e in staged.pretrained]
        items += [("command", n, (cmd, staged.provider)) for n, cmd in staged.commands.items()]
        seen: set[tuple[str, str]] = set()
        for kind, item_name, _ in items:
            if (kind, item_name) in seen:
                raise ZooError(f"plugin '{record.name}' registers {kind} '{item_name}' twice")
            seen.add((kind, item_name))
        for kind, item_name, value in items:
            key = (kind, item_name)
            table = self._table(kind)
            if kind == "command" and item_name in BUILTIN_COMMANDS:
                self._refuse(record, f"{kind}:{item_name}",
                             f"plugin '{record.name}' adds command '{item_name}', a built-in command; refused")
            elif key in self.contested:
                self.contested[key].append(staged.provider)
                self._contest(key, record)
            elif item_name in table:
                self.contested[key] = [_provider(kind, table.pop(item_name)), staged.provider]
                self._contest(key, record)
            else:
                table[item_name] = value
                record.registered.append(f"{kind}:{item_name}")
        self._catalogue = None

    def _table(self, kind: str) -> dict[str, Any]:
        return {"task": self.tasks, "model": self.models, "pretrained": self._plugin_pretrained,
                "command": self._commands}[kind]

    def _contest(self, key: tuple[str, str], newcomer: PluginRecord) -> None:
        """Withdraw a contested name from every plugin offering it and say how to resolve it."""
        message = self.refusal(*key)
        assert message is not None
        if _strict():
            raise ZooError(message)
        label = f"{key[0]}:{key[1]}"
        plugins = {p.plugin for p in self.contested[key]}
        for rec in [*self.plugins, newcomer]:
            if rec.name in plugins and rec.status != "blocked":
                rec.registered = [r for r in rec.registered if r != label]
                rec.refused[label] = message
                _refresh(rec)
        _log.warning("%s", message)

    def _refuse(self, record: PluginRecord, label: str, message: str) -> None:
        record.refused[label] = message
        _refresh(record)
        _log.warning("%s", message)

    def refusal(self, kind: str, name: str) -> str | None:
        """Why ``name`` is refused (offered by several plugins), or None when it is not contested."""
        if not self.contested.get((kind, name)):
            return None
        # sorted, so the message is the same whatever order the plugins loaded in
        providers = sorted(self.contested[(kind, name)], key=lambda p: (p.distribution, p.plugin))
        who = ("both " if len(providers) == 2 else "") + " and ".join(f"{p} (plugin '{p.plugin}')" for p in providers)
        already = sorted(_names("ZOO_DISABLE_PLUGINS") or ())
        fixes = []
        for keep in providers:
            off = already + [p.plugin for p in providers if p is not keep and p.plugin not in already]
            fixes.append(f"ZOO_DISABLE_PLUGINS={','.join(off)} (keeps {keep.distribution or keep.plugin}'s)")
        return (f"{kind} '{name}' is provided by {who}, so none of them is used; "
                f"disable one: {' or '.join(fixes)}")

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
                _log.warning("%s names '%s', which is not an installed plugin", var, missing)

    def add_registries(self, paths: list[str]) -> None:
        """Read extra registry files (``zoo --registry``) after ``ZOO_REGISTRY``'s."""
        new = [p for p in paths if p not in self.registry_files]
        if new:
            self.registry_files.extend(new)
            self._catalogue = None

    # -- lookups ---------------------------------------------------------------------------
    def task(self, name: str) -> Component:
        if name not in self.tasks:
            raise ZooError(self.refusal("task", name) or str(unknown("task", name, self.tasks)))
        return self.tasks[name]

    def model(self, name: str) -> Component:
        if name not in self.models:
            raise ZooError(self.refusal("model", name) or str(unknown("model", name, self.models)))
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
        label = f"pretrained:{entry.name}"
        record.registered = [r for r in record.registered if r != label]
        self._refuse(record, label, f"plugin '{record.name}': pretrained '{entry.name}' is already defined in "
                                    f"{kept.origin}; dropped")

    def pretrained(self, name: str) -> Pretrained:
        catalogue = self.catalogue()
        if name not in catalogue:
            raise ZooError(self.refusal("pretrained", name) or str(unknown("pretrained model", name, catalogue)))
        return catalogue[name]

    @property
    def commands(self) -> dict[str, Any]:
        """Click commands added by plugins (``register_commands``), by command name."""
        return {name: cmd for name, (cmd, _) in self._commands.items()}


def _refresh(record: PluginRecord) -> None:
    """A plugin that loaded but had registrations refused is ``partial``, its error says why."""
    if record.status in ("loaded", "partial") and record.refused:
        record.status = "partial"
        record.error = "; ".join(record.refused.values())


def _provider(kind: str, value: Any) -> Provider:
    """Who registered a table entry (commands are stored as ``(command, provider)``)."""
    provider = value[1] if kind == "command" else value.provider
    assert provider is not None
    return provider


def _who(record: PluginRecord) -> str:
    return f"'{record.name}' ({record.distribution} {record.version})" if record.distribution else f"'{record.name}'"


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
