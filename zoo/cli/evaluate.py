"""``zoo eval``: re-evaluate a trained model and check it reproduces its recorded metrics.

The work is library code (``zoo.evaluate``, zoo/evaluation.py); this command parses and prints.
"""

from __future__ import annotations

import click

from zoo.cli import complete, echo_json, get_zoo
from zoo.cli.params import FiniteFloat
from zoo.evaluation import DEFAULT_TOLERANCE


@click.command("eval")
@click.argument("ref", shell_complete=complete.refs)
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
    from zoo.devices import resolve_device
    from zoo.loading import evaluate

    get_zoo()  # attaches --registry catalogues
    result = evaluate(ref, device=str(resolve_device(device)), settings=settings, allow_download=allow_download,
                      tolerance=tolerance)
    if as_json:
        echo_json({"ref": ref, "tolerance": result.tolerance, "measured": result.measured,
                   "comparison": result.rows, "reproduced": result.reproduced})
    else:
        width = max((len(r["metric"]) for r in result.rows), default=6)
        for r in result.rows:
            got = "missing" if r["measured"] is None else f"{r['measured']:.6g}"
            mark = "ok" if r["ok"] else "DIFFERS"
            click.echo(f"{r['metric']:<{width}}  recorded {r['recorded']:.6g}  measured {got}  {mark}")
        if result.extra:
            click.echo("also measured: " + ", ".join(f"{k}={v:.6g}" for k, v in result.extra.items()))
    result.check()
    if not as_json:
        click.echo(f"reproduced within {result.tolerance:g}")
