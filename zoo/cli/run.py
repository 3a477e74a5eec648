"""``zoo run``: use a trained model on a user's input, streaming the answer to stdout."""

from __future__ import annotations

import sys

import click

from zoo.cli import complete
from zoo.cli.params import FiniteFloat
from zoo.errors import ZooError

# CLI flag -> RunOptions field; a task lists the fields it honours in Task.run_options.
_OPTION_FLAGS = {
    "length": "--length",
    "temperature": "--temperature",
    "top_k": "--top-k",
    "seed": "--seed",
    "beam": "--beam",
    "max_length": "--max-length",
}


@click.command("run")
@click.argument("ref", shell_complete=complete.refs)
@click.argument("text", required=False)
@click.option("--prompt", help="Input text (same as the TEXT argument).")
@click.option("--length", type=click.IntRange(min=0), help="How many tokens to generate.")
@click.option("--temperature", type=FiniteFloat(min=0.0, min_open=True), help="Sampling temperature.")
@click.option("--top-k", type=click.IntRange(min=1), help="Sample only among the K most likely tokens.")
@click.option("--seed", type=int, help="Random seed: the same seed gives the same output.")
@click.option("--beam", type=click.IntRange(min=1), help="Beam width for beam-search decoding.")
@click.option("--max-length", type=click.IntRange(min=1), help="Longest output to decode.")
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda, cuda:N, mps or auto.")
def run_cmd(ref: str, text: str | None, prompt: str | None, device: str, **given: object) -> None:
    """Run a trained model on TEXT: REF is a run/model directory, hf://OWNER/NAME[@REV] or a
    pretrained name from `zoo list pretrained`.

    \b
    zoo run runs/charlm-lstm-... --prompt "ROMEO:" --length 500 --temperature 0.8
    zoo run adder-gru "81+113"
    """
    try:
        _run(ref, text, prompt, device, given)
    except KeyboardInterrupt:  # Ctrl-C: stop quietly, like any Unix filter
        sys.exit(130)


def _run(ref: str, text: str | None, prompt: str | None, device: str, given: dict[str, object]) -> None:
    from zoo.devices import resolve_device
    from zoo.loading import load

    if text is not None and prompt is not None and text != prompt:
        raise ZooError("give the input either as TEXT or with --prompt, not both")
    text = text if text is not None else (prompt or "")
    loaded = load(ref, device=str(resolve_device(device)))
    options = loaded.run_options({k: v for k, v in given.items() if v is not None}, spell=_OPTION_FLAGS)
    out = sys.stdout
    wrote_newline = True
    for piece in loaded.task.run(loaded.net, text, options):
        out.write(piece)
        out.flush()
        wrote_newline = piece.endswith("\n") if piece else wrote_newline
    if not wrote_newline:
        out.write("\n")
