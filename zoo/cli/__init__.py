"""The ``zoo`` command line. Commands are imported lazily; none imports torch at start-up."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from zoo import __version__
from zoo.commands import BUILTIN_COMMANDS
from zoo.errors import ZooError

JSON_SCHEMA_VERSION = 1
"""Carried by every ``--json`` output as ``schema_version``; raised when a field changes meaning
or disappears, so scripts can tell which shape they read."""


def echo_json(data: dict[str, Any], err: bool = False) -> None:
    """One JSON object on one line, stamped with ``schema_version``."""
    import json

    click.echo(json.dumps({"schema_version": JSON_SCHEMA_VERSION, **data}, default=str), err=err)


class ZooGroup(click.Group):
    """Built-in commands load on demand; plugin commands load only when asked for."""

    def _builtin(self, name: str) -> click.Command | None:
        target = BUILTIN_COMMANDS.get(name)
        if target is None:
            return None
        module, _, attr = target.partition(":")
        try:
            return getattr(importlib.import_module(module), attr)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise  # a real bug in the command's module, not a command that is absent
            return None  # a command whose module is not in this build is simply absent

    def _plugin_commands(self) -> dict[str, click.Command]:
        from zoo.plugins import current

        return current().commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = [n for n in BUILTIN_COMMANDS if self._builtin(n) is not None]
        return names + sorted(self._plugin_commands())

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._builtin(cmd_name) or self._plugin_commands().get(cmd_name)

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            from zoo.errors import did_you_mean

            fail(f"unknown command '{name}'{did_you_mean(name, self.list_commands(ctx))}")
        return super().resolve_command(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ZooError as exc:
            fail(str(exc), exc.exit_code)

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        """As click's, except that a usage error (bad option, bad value, missing argument) is one
        ``error:`` line with a pointer to ``--help`` rather than the usage text, like every other
        user error. Exit codes are click's (2 for usage errors)."""
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            rv = super().main(*args, standalone_mode=False, **kwargs)
        except _NoArgsIsHelp as exc:  # plain `zoo`: show the help, as click does
            exc.show()
            sys.exit(exc.exit_code)
        except click.UsageError as exc:
            where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
            fail(exc.format_message().rstrip(".") + where, exc.exit_code)
        except click.ClickException as exc:
            fail(exc.format_message(), exc.exit_code)
        except click.Abort:
            fail("aborted", 1)
        except ZooError as exc:  # raised while resolving a command, before invoke
            fail(str(exc), exc.exit_code)
        sys.exit(rv if isinstance(rv, int) else 0)


_NoArgsIsHelp: type[Exception] = getattr(click.exceptions, "NoArgsIsHelpError", type("_Never", (Exception,), {}))


def fail(message: str, code: int = 2) -> None:
    """Print one ``error:`` line on stderr and exit (the CLI's only way to report user errors)."""
    first = message.strip().splitlines()[0] if message.strip() else "failed"
    click.echo(f"error: {first}", err=True)
    sys.exit(code)


@click.group(cls=ZooGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="seqzoo")
@click.option(
    "--registry", "registries", multiple=True, type=click.Path(dir_okay=False),
    help="Extra registry.toml file(s) of pretrained models (also ZOO_REGISTRY=path1:path2).",
)
@click.pass_context
def cli(ctx: click.Context, registries: tuple[str, ...]) -> None:
    """seqzoo: train, run, compare and share classic sequence models (RNN, LSTM, GRU)."""
    ctx.obj = {"registries": list(registries)}
    if registries:
        get_zoo(ctx)  # attach them now, so every command (run and train included) sees them


def get_zoo(ctx: click.Context | None = None) -> Any:
    """The loaded zoo, with any ``--registry`` files from the command line attached."""
    from zoo.plugins import current

    zoo = current()
    ctx = ctx or click.get_current_context(silent=True)
    root = ctx.find_root() if ctx else None
    if root is not None and root.obj:
        zoo.add_registries(root.obj.get("registries", []))
    return zoo


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    cli.main(args=argv, prog_name="zoo")
