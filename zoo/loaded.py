"""A trained model in memory (``Loaded``), as ``zoo.load`` returns it, and how a model directory becomes one.

``Loaded`` is the object-level API the Hugging Face ecosystem expects: ``run``/``stream`` answer
inputs, ``evaluate`` re-measures the recorded metrics, ``save_pretrained(dir)`` writes a model
directory and ``push_to_hub(repo)`` shares it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zoo import assemble, provenance
from zoo.artifacts import check_weights, read_config, write_model_dir
from zoo.errors import ZooError
from zoo.layout import WEIGHTS
from zoo.plugins import Zoo, current

if TYPE_CHECKING:
    from torch import nn

    from zoo.evaluation import Evaluation
    from zoo.hub import PushResult
    from zoo.task import RunOptions, Task


@dataclass
class Loaded:
    """A trained model ready to use: its task (vocabulary restored), network and config."""

    task: Task
    net: nn.Module
    config: dict[str, Any]
    recipe: assemble.Recipe
    path: Path
    device: str = "cpu"

    def run(self, text: str, **options: Any) -> str:
        """The task's answer to ``text`` as one string (see ``zoo.RunOptions`` for options)."""
        return "".join(self.stream(text, **options))

    def stream(self, text: str, **options: Any) -> Iterator[str]:
        """The answer in pieces as the task produces them; options the task does not take are refused."""
        return self.task.run(self.net, text, self.run_options(options))

    def run_options(self, options: dict[str, Any], spell: dict[str, str] | None = None) -> RunOptions:
        """``options`` as RunOptions, refusing (one ZooError line) those this task does not honour.

        ``spell`` names each option as the caller's user knows it (the CLI's ``--beam``).
        """
        from zoo.task import RunOptions

        known = {f.name for f in fields(RunOptions)}
        unknown = sorted(k for k in options if k not in known)
        if unknown:
            raise ZooError(f"unknown run option(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        refused = [(spell or {}).get(k, k) for k in options if k not in self.task.run_options]
        if refused:
            raise ZooError(f"task '{self.recipe.task_name}' does not take {', '.join(refused)}")
        return RunOptions(**options)

    def evaluate(self, settings: list[str] | tuple[str, ...] = (), *, allow_download: bool = False,
                 tolerance: float | None = None) -> Evaluation:
        """Re-measure the metrics on the task's data prepared as at training time and compare them
        with the recorded ones (see ``zoo.evaluation``)."""
        from zoo.evaluation import evaluate_loaded

        return evaluate_loaded(self, str(self.path), settings=settings, allow_download=allow_download,
                               tolerance=tolerance)

    def save_pretrained(self, directory: str | os.PathLike[str]) -> Path:
        """Write this model as a model directory (weights, config.json, card) that ``zoo.load`` reads."""
        return write_model_dir(directory, self.config, self.net)

    def push_to_hub(self, repo_id: str, **options: Any) -> PushResult:
        """Save this model and commit it to the Hub repository ``repo_id`` (options: see ``zoo.push``).

        The card is made afresh for ``repo_id``; to upload a README written by hand, push its
        folder with ``zoo.push(folder, repo_id)``. A card edited on the Hub is kept either way.
        """
        import tempfile

        from zoo.hub import push

        with tempfile.TemporaryDirectory(prefix="seqzoo-push-") as tmp:
            return push(self.save_pretrained(Path(tmp) / "model"), repo_id, **options)


def load_model_dir(path: str | Path, device: str = "cpu", zoo: Zoo | None = None) -> Loaded:
    """Rebuild task and network from a local model directory and load its weights strictly."""
    zoo = zoo or current()
    path = Path(path)
    config = read_config(path)
    provenance.check(config, zoo, where=str(path))  # before torch is imported: a refusal is quick

    from safetensors import SafetensorError
    from safetensors.torch import load_model

    recipe = assemble.recipe_from_dict(config, zoo)
    task = assemble.make_task(recipe, zoo)
    task.load_state_dict(config.get("vocabulary", {}))
    weights = path / WEIGHTS
    if not weights.is_file():
        raise ZooError(f"{path}: no {WEIGHTS}")
    check_weights(weights)
    _check_fits(recipe, task, zoo, weights, device)
    net = assemble.make_network(recipe, task, zoo)
    try:
        load_model(net, str(weights), strict=True, device=str(device))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ZooError(f"{weights}: not a valid safetensors file ({exc})") from None
    except RuntimeError as exc:
        raise ZooError(f"{weights}: weights do not match the configured network ({str(exc).splitlines()[0]})") from None
    net.to(device).eval()
    return Loaded(task, net, config, recipe, path, str(device))


def _check_fits(recipe: assemble.Recipe, task: Task, zoo: Zoo, weights: Path, device: str) -> None:
    """Before building the real network: weights' shapes match the config, and it fits in memory."""
    import torch

    from zoo import sizing

    meta = sizing.meta_network(lambda: assemble.make_network(recipe, task, zoo))
    if meta is None:
        return
    sizing.check_shapes(meta, weights)
    count, size = sizing.parameter_bytes(meta)
    sizing.refuse_if_too_big(size, f"{count:,} parameters", torch.device(device),
                             "its config.json asks for a network larger than this machine holds")
