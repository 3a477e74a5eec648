"""``zoo train TASK MODEL``: the command line of the training engine.

The command reads TASK and MODEL from the arguments before building its options, so
``zoo train TASK MODEL --help`` lists every field of that task's and model's config, and each
field is also a native option (``--hidden-size 512`` is ``--set hidden_size=512``). No torch at
import time: ``zoo --help`` stays fast.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any

import click

from zoo.cli import complete, echo_json
from zoo.cli.params import FiniteFloat
from zoo.engine.settings import FIELDS, base_type, describe_default, flag
from zoo.errors import ZooError

_EXTRA, _NAMES = "zoo.train.fields", "zoo.train.names"
_FIELD_PREFIX = "field__"


def _peek_names(cmd: click.Command, args: list[str]) -> list[str]:
    """The first two positional arguments (TASK, MODEL), skipping option values."""
    takes_value = {o for p in cmd.params if isinstance(p, click.Option) and not p.is_flag for o in p.opts}
    found: list[str] = []
    tokens = iter(args)
    for token in tokens:
        if token == "--":
            found.extend(tokens)
            break
        if token.startswith("-"):
            if "=" not in token and token in takes_value:
                next(tokens, None)
            continue
        found.append(token)
        if len(found) == 2:
            break
    return found[:2]


def _field_options(task: str, model: str, taken: set[str]) -> list[click.Option]:
    """One ``--name VALUE`` option per config field of the task and the model."""
    from zoo.cli import get_zoo
    from zoo.config import fields_of

    registry = get_zoo()
    groups = [("task", fields_of(registry.task(task).config)), ("model", fields_of(registry.model(model).config))]
    task_model_defaults = _task_attr(task, "model_defaults")
    names = [f.name for _, fields in groups for f in fields]
    options = []
    for owner, fields in groups:
        for info in fields:
            flag = info.name.replace("_", "-")
            if f"--{flag}" in taken or names.count(info.name) > 1:
                flag = f"{owner}-{flag}"  # --model-dropout when the bare name is taken
            choices = f"; one of {', '.join(map(str, info.choices))}" if info.choices else ""
            default = f"default: {info.default!r}"
            if owner == "model" and info.name in task_model_defaults:
                default = f"default for {task}: {task_model_defaults[info.name]!r}, else {info.default!r}"
            options.append(click.Option(
                [f"--{flag}", f"{_FIELD_PREFIX}{owner}__{info.name}"],
                metavar=info.type_name.upper() if " " not in info.type_name else "VALUE",
                help=f"{info.help} [{info.type_name}; {default}{choices}]",
            ))
    return options


class TrainCommand(click.Command):
    """A command whose options depend on its TASK and MODEL arguments."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        names = _peek_names(self, args)
        ctx.meta[_NAMES] = names
        taken = {o for p in self.params for o in getattr(p, "opts", [])}
        ctx.meta[_EXTRA] = _field_options(names[0], names[1], taken) if len(names) == 2 else []
        return super().parse_args(ctx, args)

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        extra = ctx.meta.get(_EXTRA, [])
        return [*self.params, *extra, *super().get_params(ctx)[len(self.params):]]

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        extra = ctx.meta.get(_EXTRA, [])
        names = ctx.meta.get(_NAMES, [])
        base = [p.get_help_record(ctx) for p in super().get_params(ctx)
                if p not in extra and isinstance(p, click.Option)]
        with formatter.section("Training options"):
            formatter.write_dl([r for r in base if r])
        if len(names) < 2:
            formatter.write_paragraph()
            formatter.write_text("`zoo train TASK MODEL --help` also lists the settings of that task and model.")
            return
        for owner, name in (("task", names[0]), ("model", names[1])):
            rows = [p.get_help_record(ctx) for p in extra if p.name.startswith(f"{_FIELD_PREFIX}{owner}__")]
            with formatter.section(f"{owner.capitalize()} '{name}' settings (--NAME VALUE or --set name=value)"):
                formatter.write_dl([r for r in rows if r] or [("(none)", "")])
        defaults = _task_attr(names[0], "train_defaults")
        if defaults:
            formatter.write_paragraph()
            shown = ", ".join(f"{k}={v}" for k, v in defaults.items())
            formatter.write_text(f"Defaults of task '{names[0]}' (flags win): {shown}")


def _engine_option(field: Any) -> dict[str, Any]:
    """click.option's arguments for one ``TrainSettings`` field: type, bounds and help from the field."""
    meta, name = field.metadata, field.name
    kind = base_type(name)
    text = f"{meta['help']} [engine default: {describe_default(name)}]"
    if kind is bool:
        return {"is_flag": True, "default": None, "help": meta["help"]}
    if meta.get("choices"):
        return {"type": click.Choice(meta["choices"]), "help": text}
    if name == "time":
        return {"metavar": meta["metavar"], "help": text}
    low, open_min = meta["min"], meta["open_min"]
    if kind is int:
        bounded = low is not None or meta["max"] is not None
        return {"type": click.IntRange(min=low, max=meta["max"]) if bounded else click.INT, "help": text}
    return {"type": FiniteFloat(min=low, min_open=open_min, max=meta["max"]), "help": text}


def engine_options(func: Any) -> Any:
    """Add one flag per field of ``zoo.engine.settings.TrainSettings``, in its order."""
    for field in reversed(FIELDS):
        func = click.option(flag(field.name), field.name, **_engine_option(field))(func)
    return func


def _task_attr(task: str, name: str) -> dict[str, Any]:
    """A task class's ``train_defaults`` or ``model_defaults`` (imports the plugin's torch code)."""
    from zoo.cli import get_zoo

    try:
        return dict(getattr(get_zoo().task(task).load(), name, {}))
    except Exception:  # noqa: BLE001 - help must render even if the plugin's code is broken
        return {}


@click.command("train", cls=TrainCommand)
@click.argument("task", required=False, shell_complete=complete.tasks)
@click.argument("model", required=False, shell_complete=complete.models)
@click.option("--set", "settings", multiple=True, metavar="NAME=VALUE",
              help="Task or model setting (repeatable); qualify clashes as task.NAME / model.NAME.")
@click.option("--device", default="auto", show_default=True, help="auto (cuda, mps, cpu), cpu, cuda, cuda:N or mps.")
@engine_options
@click.option("--out", type=click.Path(file_okay=False), help="Run directory [default: runs/TASK-MODEL-TIMESTAMP].")
@click.option("--resume", type=click.Path(file_okay=False), metavar="RUN_DIR", help="Continue an interrupted run.")
@click.option("--json", "as_json", is_flag=True, help="End with one JSON line: run_dir, metrics, steps...")
def train_cmd(task: str | None, model: str | None, settings: tuple[str, ...], as_json: bool, device: str,
              out: str | None, resume: str | None, **options: Any) -> None:
    """Train MODEL on TASK and save a run directory (weights, config, metrics, resume state).

    \b
    zoo train charlm lstm --steps 2000 --device cuda
    zoo train adder gru --hidden-size 64 --time 5m
    zoo train --resume runs/charlm-lstm-20260101-120000
    torchrun --nproc_per_node=4 -m zoo train charlm lstm --batch-size 256
    """
    import zoo
    from zoo.engine.signals import exit_on_second_signal

    exit_on_second_signal()  # a second Ctrl-C ends the command at once, even mid-step
    fields = {k: v for k, v in options.items() if k.startswith(_FIELD_PREFIX)}
    engine = {k: v for k, v in options.items() if not k.startswith(_FIELD_PREFIX) and v is not None and v is not False}
    if resume is None and not (task and model):
        raise ZooError("expected TASK and MODEL (see `zoo list`), or --resume RUN_DIR")
    extra = [f"{k[len(_FIELD_PREFIX):].replace('__', '.', 1)}={v}" for k, v in fields.items() if v is not None]
    # With --json, stdout holds only JSON: the engine's progress and log lines go to stderr.
    human = contextlib.redirect_stdout(sys.stderr) if as_json else contextlib.nullcontext()
    try:
        with human:
            result = zoo.train(task or "", model or "", settings=[*settings, *extra], device=device, out=out,
                               resume=resume, progress=True, **engine)
    except KeyboardInterrupt:  # before the loop took over the signal, or a second Ctrl-C
        click.echo("interrupted; nothing new was saved", err=True)
        sys.exit(130)
    if os.environ.get("RANK", "0") != "0":
        return
    metrics = ", ".join(f"{k}={v:.4g}" for k, v in result.metrics.items())
    if result.stopped == "interrupted":
        click.echo(f"interrupted at step {result.steps}; checkpoint saved in {result.run_dir}", err=True)
        click.echo(f"resume with: zoo train --resume {result.run_dir}", err=True)
    else:
        click.echo(f"done: {result.steps} steps in {result.seconds:.1f}s ({result.stopped}); {metrics}", err=as_json)
        click.echo(f"saved {result.run_dir}", err=as_json)
    if as_json:
        echo_json({"run_dir": str(result.run_dir), "metrics": result.metrics, "steps": result.steps,
                   "seconds": result.seconds, "stopped": result.stopped})
    sys.stdout.flush()
    if result.stopped == "interrupted":
        sys.exit(130)
