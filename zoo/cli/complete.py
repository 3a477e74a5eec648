"""Shell completion of task, model and pretrained names (click's ``shell_complete``).

Torch-free like ``zoo list``: the names come from the plugins' registrations and the catalogue.
Enable it with ``eval "$(_ZOO_COMPLETE=bash_source zoo)"`` (zsh_source, fish_source for the others).
"""

from __future__ import annotations

from collections.abc import Iterable

import click
from click.shell_completion import CompletionItem


def _names(names: Iterable[str], incomplete: str, help: str) -> list[CompletionItem]:
    return [CompletionItem(n, help=help) for n in sorted(names) if n.startswith(incomplete)]


def _zoo():  # noqa: ANN202 - zoo.plugins.Zoo, imported late to keep this module light
    from zoo.plugins import current

    return current()


def tasks(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    return _names(_zoo().tasks, incomplete, "task")


def models(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    return _names(_zoo().models, incomplete, "model")


def refs(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """A pretrained name, else a folder (a path is completed by the shell)."""
    if "/" in incomplete or incomplete.startswith((".", "~")):
        return [CompletionItem(incomplete, type="dir")]
    found = _names(_zoo().catalogue(), incomplete, "pretrained")
    return found or [CompletionItem(incomplete, type="dir")]


def any_name(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """``zoo info``: a task, a model, a pretrained name or a run folder."""
    zoo = _zoo()
    found = (_names(zoo.tasks, incomplete, "task") + _names(zoo.models, incomplete, "model")
             + _names(zoo.catalogue(), incomplete, "pretrained"))
    return found or [CompletionItem(incomplete, type="dir")]
