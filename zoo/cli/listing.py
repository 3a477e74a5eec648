"""``zoo list``, ``zoo info`` and ``zoo plugins``: what is installed. Never imports torch."""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import Any

import click

from zoo.cli import complete, echo_json, get_zoo
from zoo.errors import ZooError, did_you_mean

KINDS = ("tasks", "models", "pretrained")
_ALIASES = {"task": "tasks", "model": "models", **{k: k for k in KINDS}}


def _items(zoo: Any, kind: str) -> list[dict[str, Any]]:
    if kind == "tasks":
        return [c.describe() for c in zoo.tasks.values()]
    if kind == "models":
        return [c.describe() for c in zoo.models.values()]
    return [p.describe() for p in zoo.catalogue().values()]


def _metrics_text(metrics: dict[str, float]) -> str:
    return ", ".join(f"{k}={v:.4g}" for k, v in metrics.items())


@click.command("list")
@click.argument("args", nargs=-1, metavar="[tasks|models|pretrained] [PATTERN]")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def list_cmd(args: tuple[str, ...], as_json: bool) -> None:
    """List tasks, models and pretrained weights from every installed plugin.

    PATTERN is a shell-style wildcard on names (zoo list models 'g*'). --json prints one object
    {"tasks": [...], "models": [...], "pretrained": [...]} (only the asked kind when one is given),
    each item with at least name, summary and plugin.
    """
    if len(args) > 2:
        raise ZooError("expected at most a kind and a pattern")
    kinds, pattern = list(KINDS), "*"
    if args and args[0] in _ALIASES:
        kinds, pattern = [_ALIASES[args[0]]], (args[1] if len(args) > 1 else "*")
    elif len(args) == 2:
        raise ZooError(f"unknown kind '{args[0]}'{did_you_mean(args[0], KINDS)}; expected one of {', '.join(KINDS)}")
    elif args:
        pattern = args[0]
    zoo = get_zoo()
    result = {
        kind: sorted(
            (item for item in _items(zoo, kind) if fnmatch.fnmatchcase(item["name"], pattern)),
            key=lambda item: item["name"],
        )
        for kind in kinds
    }
    if as_json:
        echo_json({k: result.get(k, []) for k in KINDS} if len(kinds) == 3 else result)
        return
    for kind in kinds:
        click.echo(click.style(f"{kind}:", bold=True))
        rows = result[kind]
        if not rows:
            click.echo("  (none)")
        width = max((len(r["name"]) for r in rows), default=0)
        for row in rows:
            if kind == "pretrained":
                detail = f"{row['task']}/{row['model']}  {_metrics_text(row['metrics'])}  [{row['plugin']}]"
            else:
                detail = f"[{row['distribution'] or row['plugin']}]"
            click.echo(f"  {row['name']:<{width}}  {row['summary']}  {detail}")


def _looks_like_folder(name: str) -> bool:
    return Path(name).is_dir() or "/" in name or name.startswith(".")


@click.command("info")
@click.argument("name", shell_complete=complete.any_name)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def info_cmd(name: str, as_json: bool) -> None:
    """Everything known about a task, model or pretrained entry, with its config fields; or, for
    a run folder, its task, model, settings, metrics and progress."""
    zoo = get_zoo()
    tables = {"task": zoo.tasks, "model": zoo.models, "pretrained model": zoo.catalogue()}
    found = [table[name].describe() for table in tables.values() if name in table]
    if not found and _looks_like_folder(name):
        from zoo.runinfo import describe_run, run_lines

        info = describe_run(Path(name))
        if as_json:
            echo_json(info)
        else:
            click.echo("\n".join(run_lines(info)))
        return
    if not found:
        refused = [m for kind in ("task", "model", "pretrained") if (m := zoo.refusal(kind, name))]
        raise ZooError(refused[0]) if refused else _unknown_name(name, tables)
    if as_json:
        echo_json(found[0] if len(found) == 1 else {"matches": found})
        return
    for item in found:
        click.echo(click.style(f"{item['kind']} {item['name']}", bold=True) + f": {item['summary']}")
        for key in ("plugin", "distribution", "version", "origin", "target", "task", "model", "source",
                    "dataset", "license", "command"):
            if item.get(key):
                click.echo(f"  {key}: {item[key]}")
        if item.get("metrics"):
            click.echo(f"  metrics: {_metrics_text(item['metrics'])} (tolerance {item['tolerance']:g})")
        for fname, digest in item.get("files", {}).items():
            click.echo(f"  file: {fname} sha256 {digest}")
        if "config" in item:
            click.echo("  config:" if item["config"] else "  config: (no fields)")
            for f in item["config"]:
                choices = f" (one of {', '.join(map(str, f['choices']))})" if f["choices"] else ""
                click.echo(f"    {f['name']} ({f['type']}, default {f['default']!r}): {f['help']}{choices}")


def _unknown_name(name: str, tables: dict[str, dict[str, Any]]) -> ZooError:
    """``unknown task 'charml' (did you mean 'charlm'?)``: the kind is the closest name's kind."""
    every = {n: kind for kind, table in tables.items() for n in table}
    hint = did_you_mean(name, every)
    if hint:
        kind = every[hint.split("'")[1]]
        return ZooError(f"unknown {kind} '{name}'{hint}")
    return ZooError(f"unknown name '{name}': not a task, model or pretrained model (see `zoo list`)")


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def plugins_cmd(as_json: bool) -> None:
    """Installed plugins: distribution, version, hooks, what each registered, load errors."""
    zoo = get_zoo()
    records = [r.describe() for r in zoo.plugins]
    if as_json:
        echo_json({"plugins": records})
        return
    if not records:
        click.echo("no plugins installed")
    for r in records:
        head = f"{r['name']}  ({r['distribution'] or '?'} {r['version']})  [{r['status']}]"
        click.echo(click.style(head, bold=True, fg="red" if r["error"] else None))
        if r["hooks"]:
            click.echo(f"  hooks: {', '.join(r['hooks'])}")
        if r["registered"]:
            click.echo(f"  registered: {', '.join(r['registered'])}")
        if r["error"]:
            click.echo(f"  error: {r['error']}")
