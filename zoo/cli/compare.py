"""``zoo compare`` and ``zoo plot``. torch and matplotlib are imported inside the commands only."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from zoo.cli import complete, echo_json
from zoo.errors import ZooError


@click.command("compare")
@click.argument("task", shell_complete=complete.tasks)
@click.argument("models", nargs=-1, shell_complete=complete.models)
@click.option("--time", "time_budget", help="Wall-clock budget per run, e.g. 20s or 2m.")
@click.option("--steps", type=click.IntRange(min=1), help="Training steps per run.")
@click.option("--seeds", type=click.IntRange(min=1), default=1, show_default=True,
              help="Train each model with seeds 0..K-1; the leaderboard shows mean and spread.")
@click.option("--set", "settings", multiple=True, metavar="NAME=VALUE",
              help="Task or model setting applied to every run (repeatable).")
@click.option("--vary", multiple=True, metavar="NAME=V1,V2",
              help="Train every model with each value of a task, model or engine setting (repeatable: "
                   "every combination); rows and curves are labelled by setting.")
@click.option("--out", type=click.Path(file_okay=False), help="Folder for the runs, compare.json and curves.png.")
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda, cuda:N, mps or auto.")
@click.option("--threads", type=click.IntRange(min=0), default=1, show_default=True,
              help="torch CPU threads per run (0: torch's default). One keeps timings steady on a busy machine.")
@click.option("--no-plot", is_flag=True, help="Skip curves.png (no matplotlib needed).")
@click.option("--json", "as_json", is_flag=True, help="End with compare.json's content on one line.")
def compare_cmd(task: str, models: tuple[str, ...], time_budget: str | None, steps: int | None, seeds: int,
                settings: tuple[str, ...], vary: tuple[str, ...], out: str | None, device: str, threads: int,
                no_plot: bool, as_json: bool) -> None:
    """Train MODELS (default: every installed model) on TASK under the same budget and seeds, then
    print a leaderboard and write compare.json and curves.png.

    \b
    zoo compare count
    zoo compare adder gru lstm --time 20s --seeds 3
    zoo compare charlm lstm --vary input=onehot,embedding --steps 300
    """
    from zoo import compare, layout, plot
    from zoo.devices import resolve_device

    if time_budget and steps:
        raise ZooError("give either --time or --steps, not both")
    if not no_plot:
        plot.require_matplotlib()  # fail before training, not after
    comparison, folder = compare.compare(
        task, models, seeds=seeds, steps=steps, time=time_budget, settings=settings, out=out,
        device=str(resolve_device(device)), threads=threads or None, echo=lambda line: click.echo(line, err=True),
        vary=vary,
    )
    click.echo(compare.leaderboard(comparison))
    click.echo(f"runs and {layout.COMPARISON} in {folder}")
    if not no_plot:
        png = plot.draw(compare.curves_panels(comparison), folder / layout.CURVES,
                        title=f"zoo compare {task}")
        click.echo(f"learning curves: {png}")
    if as_json:
        echo_json(comparison.as_dict())
    if comparison.interrupted:
        click.echo("interrupted: the leaderboard covers the runs that finished before it", err=True)
        sys.exit(130)


@click.command("plot")
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(file_okay=False))
@click.option("--metric", "metrics", multiple=True,
              help="Metric to plot (repeatable, one panel each). Default: loss and the first evaluation metric.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default="curves.png", show_default=True,
              help="PNG file to write.")
def plot_cmd(run_dirs: tuple[str, ...], metrics: tuple[str, ...], output: str) -> None:
    """Learning curves of one or more runs from their metrics.jsonl, side by side per metric.

    \b
    zoo plot runs/adder-gru-* runs/adder-lstm-* --metric accuracy -o adder.png
    """
    from zoo import compare, plot

    if not output.lower().endswith(".png"):
        raise ZooError(f"{output}: the output must be a .png file")
    plot.require_matplotlib()
    runs = [(d, compare.read_metrics(d)) for d in run_dirs]
    names = metrics or _default_metrics([r for _, records in runs for r in records])
    known = {m for _, records in runs for m in compare.metric_names(records)}
    for name in names:
        if name not in known:
            raise ZooError(f"no run logged metric '{name}'; logged: {', '.join(sorted(known)) or 'nothing'}")
    labels = _labels([d for d, _ in runs])
    panels = []
    for name in names:
        series = []
        for (_, records), label in zip(runs, labels, strict=True):
            xs, ys = compare.curve(records, name)
            if xs:
                series.append(plot.Series(label, xs, ys))
        panels.append((name, series))
    click.echo(f"wrote {plot.draw(panels, output)}")


def _default_metrics(records: list[dict]) -> list[str]:
    """``loss`` plus the first metric the evaluations logged."""
    from zoo import compare

    every = compare.metric_names(records)
    evaluated = compare.metric_names([r for r in records if r.get("kind") == "eval"])
    chosen = (["loss"] if "loss" in every else []) + [m for m in evaluated if m != "loss"][:1]
    if not chosen:
        raise ZooError("these runs logged no metrics yet")
    return chosen


def _labels(run_dirs: list[str]) -> list[str]:
    """``task/model``, made unique by the folder name when two runs share it."""
    from zoo import compare

    labels = [compare.run_label(d) for d in run_dirs]
    return [f"{lab} ({Path(d).name})" if labels.count(lab) > 1 else lab for lab, d in zip(labels, run_dirs, strict=True)]
