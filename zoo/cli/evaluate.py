"""``zoo eval``: re-evaluate a trained model and check it reproduces its recorded metrics.

The task's data is prepared again from the recorded task config and training seed, the saved
weights are evaluated, and each recorded metric must agree within an absolute tolerance: the
registry entry's ``tolerance`` for a pretrained name, ``--tolerance`` (default 1e-4) otherwise.
"""

from __future__ import annotations

import json
import math
from typing import Any

import click

from zoo.cli import get_zoo
from zoo.cli.params import FiniteFloat
from zoo.errors import ZooError

DEFAULT_TOLERANCE = 1e-4


class NotReproduced(ZooError):
    """The model ran, but its metrics differ from the recorded ones: exit code 1."""

    exit_code = 1


def evaluate_ref(ref: str, device: str = "cpu", settings: tuple[str, ...] = (),
                 allow_download: bool = False) -> tuple[dict[str, float], Any]:
    """Load ``ref``, prepare its task's data as at training time and return (metrics, loaded).

    A URL recorded in the model's config.json is fetched only with ``allow_download`` or when
    ``settings`` give that setting (zoo/downloads.py).
    """
    from zoo import assemble
    from zoo import config as cfg
    from zoo.artifacts import load_model_dir
    from zoo.devices import resolve_device
    from zoo.downloads import require_consent
    from zoo.loading import resolve

    dev = resolve_device(device)
    loaded = load_model_dir(resolve(ref), device=str(dev))
    values: dict[str, Any] = {}
    if settings:  # e.g. data=PATH when the training corpus lives elsewhere on this machine
        task_cls = get_zoo().task(loaded.recipe.task_name).config
        values = cfg.split_settings(list(settings), {"task": task_cls})["task"]
        loaded.recipe.task_config = cfg.build(
            task_cls, {**cfg.to_dict(loaded.recipe.task_config), **values}, owner=f"task '{loaded.recipe.task_name}'")
        recorded_vocab = loaded.task.state_dict()
        loaded.task = assemble.make_task(loaded.recipe)
        loaded.task.load_state_dict(recorded_vocab)
    require_consent(ref, cfg.to_dict(loaded.recipe.task_config), values, allow_download)
    training = loaded.config.get("training", {})
    seed = int(training.get("seed", 0))
    recorded_vocab = loaded.task.state_dict()
    loaded.task.prepare(seed)
    if loaded.task.state_dict() != recorded_vocab:
        raise ZooError(f"{ref}: the re-prepared data gives a different vocabulary than the model was trained with")
    fingerprint = training.get("data_fingerprint")
    if fingerprint and loaded.task.fingerprint() != fingerprint:
        raise ZooError(f"{ref}: the data differs from the training data (fingerprint {fingerprint} -> "
                       f"{loaded.task.fingerprint()})")
    metrics = {k: float(v) for k, v in loaded.task.evaluate(loaded.net, dev).items()}
    return metrics, loaded


def compare(measured: dict[str, float], recorded: dict[str, float], tolerance: float) -> list[dict[str, Any]]:
    """One row per recorded metric: recorded, measured, absolute difference, within tolerance."""
    rows = []
    for name, want in recorded.items():
        got = measured.get(name)
        diff = abs(got - want) if got is not None else math.inf
        rows.append({"metric": name, "recorded": want, "measured": got, "diff": diff, "ok": diff <= tolerance})
    return rows


@click.command("eval")
@click.argument("ref")
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda, cuda:N, mps or auto.")
@click.option("--tolerance", type=FiniteFloat(min=0.0),
              help=f"Largest absolute difference accepted (default: the registry entry's, else {DEFAULT_TOLERANCE}).")
@click.option("--set", "settings", multiple=True, metavar="NAME=VALUE",
              help="Override a task setting, e.g. data=PATH when the corpus lives elsewhere.")
@click.option("--allow-download", is_flag=True,
              help="Let the model's config.json make seqzoo download its data from a URL it names.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def eval_cmd(ref: str, device: str, tolerance: float | None, settings: tuple[str, ...], allow_download: bool,
             as_json: bool) -> None:
    """Evaluate REF (a pretrained name, a model directory or hf://OWNER/NAME[@REV]) and compare
    with its recorded metrics. Exit code 1 when a metric is off by more than the tolerance.

    \b
    zoo eval adder-gru
    zoo eval runs/charlm-lstm-... --tolerance 0.01
    """
    zoo = get_zoo()
    entry = zoo.catalogue().get(ref)
    measured, loaded = evaluate_ref(ref, device, settings, allow_download)
    recorded = dict(entry.metrics) if entry else {k: float(v) for k, v in loaded.config.get("metrics", {}).items()
                                                  if isinstance(v, int | float) and k in measured}
    if tolerance is None:
        tolerance = entry.tolerance if entry else DEFAULT_TOLERANCE
    rows = compare(measured, recorded, tolerance)
    failed = [r for r in rows if not r["ok"]]
    if as_json:
        click.echo(json.dumps({"ref": ref, "tolerance": tolerance, "measured": measured, "comparison": rows,
                               "reproduced": not failed}, default=str))
    else:
        width = max((len(r["metric"]) for r in rows), default=6)
        for r in rows:
            got = "missing" if r["measured"] is None else f"{r['measured']:.6g}"
            mark = "ok" if r["ok"] else "DIFFERS"
            click.echo(f"{r['metric']:<{width}}  recorded {r['recorded']:.6g}  measured {got}  {mark}")
        extra = {k: v for k, v in measured.items() if k not in recorded}
        if extra:
            click.echo("also measured: " + ", ".join(f"{k}={v:.6g}" for k, v in extra.items()))
    if not recorded:
        raise ZooError(f"{ref}: no recorded metrics to compare with")
    if failed:
        worst = max(failed, key=lambda r: r["diff"])
        raise NotReproduced(f"{ref}: {worst['metric']} measured {worst['measured']} but {worst['recorded']} "
                            f"was recorded (tolerance {tolerance})")
    if not as_json:
        click.echo(f"reproduced within {tolerance:g}")
