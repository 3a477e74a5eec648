"""``zoo inspect``: look inside a trained model, step by step, in the terminal, as JSON or a page."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from zoo.cli import complete
from zoo.errors import ZooError


@click.command("inspect")
@click.argument("ref", shell_complete=complete.refs)
@click.argument("text", required=False)
@click.option("--text", "text_file", type=click.Path(dir_okay=False), help="Read the input from this file (UTF-8).")
@click.option("--top-k", type=click.IntRange(min=1), default=5, show_default=True, help="Predictions shown per step.")
@click.option("--states", is_flag=True, help="Add the hidden (and cell) state at each step.")
@click.option("--gates", is_flag=True, help="Add the gate activations at each step (LSTM, GRU...).")
@click.option("--json", "as_json", is_flag=True, help="One JSON record per step instead of the table.")
@click.option("--html", "html", type=click.Path(dir_okay=False), help="Write a self-contained page to this file.")
@click.option("--unit", type=int, help="Print the text coloured by this unit's activation.")
@click.option("--samples", is_flag=True, help="List the samples a run recorded while training (--sample-every).")
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda, cuda:N, mps or auto.")
def inspect_cmd(ref: str, text: str | None, text_file: str | None, top_k: int, states: bool, gates: bool,
                as_json: bool, html: str | None, unit: int | None, samples: bool, device: str) -> None:
    """Show what a trained model predicts at every step of TEXT, and what its units do.

    REF is what `zoo run` takes: a run directory, hf://OWNER/NAME[@REV] or a pretrained name.

    \b
    zoo inspect charlm-lstm "hello world"
    zoo inspect charlm-lstm --text play.txt --html page.html
    zoo inspect adder-gru "5+3" --states --gates
    zoo inspect runs/charlm-lstm-... --samples
    """
    from zoo.loading import resolve

    if samples:
        _print_samples(resolve(ref))
        return
    if text is not None and text_file is not None:
        raise ZooError("give the input either as TEXT or with --text FILE, not both")
    if text_file is not None:
        try:
            text = Path(text_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ZooError(f"--text {text_file}: cannot read it ({type(exc).__name__}: {exc})") from None
    if not text:
        raise ZooError("give some input: zoo inspect REF TEXT, or --text FILE")
    if html is not None:
        _check_writable(Path(html))

    from zoo.devices import resolve_device
    from zoo.inspect_report import coloured_text, records, summary_line, table
    from zoo.inspection import trace
    from zoo.loading import load
    from zoo.units import suggest

    loaded = load(ref, device=str(resolve_device(device)))
    result = trace(loaded.task, loaded.net, text)
    kind = loaded.recipe.model_name
    if (states or unit is not None) and not result.internals:
        raise ZooError(f"model '{kind}' reports no internals (no Model.internals): "
                       f"{'--states' if states else '--unit'} needs them; the prediction table works without")
    if gates and not result.gates:
        raise ZooError(f"model '{kind}' has no gates to show (--gates works for models that report them, such as lstm and gru)")
    if unit is not None and not 0 <= unit < result.units:
        raise ZooError(f"unit {unit} is out of range: this model has {result.units} units (0..{result.units - 1})")
    if html is not None:
        from zoo.fileio import write_text_atomic
        from zoo.inspect_page import page

        content = page(result, title=f"{loaded.recipe.task_name}-{kind}: {loaded.path.name}", unit=unit)
        try:
            write_text_atomic(Path(html), content)
        except OSError as exc:
            raise ZooError(f"--html {html}: cannot write it ({exc.strerror or exc})") from None
        click.echo(f"wrote {html} ({len(content.encode()) / 1024:.0f} KiB, {result.time} steps)", err=True)
        if not as_json:
            return
    out = sys.stdout
    if as_json:
        for record in records(result, top_k, states, gates):
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        return
    for line in table(result, top_k, states, gates):
        out.write(line + "\n")
    out.write(summary_line(result) + "\n")
    if unit is not None:
        out.write(f"\nunit {unit} (red positive, blue negative):\n{coloured_text(result, unit)}\n")
    if "h" in result.internals:
        found = suggest(result.internals["h"], result.inputs)
        out.write(f"\ninteresting units of {result.units} (see one with --unit N or --html FILE):\n")
        for s in found:
            out.write(f"  unit {s.unit:>4}: {s.reason}\n")


def _check_writable(path: Path) -> None:
    """Refuse an --html path that cannot be written before spending time on the model."""
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise ZooError(f"--html {path}: is a directory")
    if not parent.is_dir():
        raise ZooError(f"--html {path}: no such directory {parent}")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ZooError(f"--html {path}: not writable")


def _print_samples(run_dir: Path) -> None:
    """Each ``sample`` recorded in the run's metrics.jsonl, with its step."""
    metrics = run_dir / "metrics.jsonl"
    if not metrics.is_file():
        raise ZooError(f"{run_dir}: no metrics.jsonl (only training runs record samples)")
    found = 0
    for line in metrics.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and isinstance(record.get("sample"), str):
            found += 1
            click.echo(f"--- step {record.get('step')} ---\n{record['sample']}")
    if not found:
        raise ZooError(f"{run_dir}: no samples recorded (train with --sample-every N)")
