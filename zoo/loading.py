"""``zoo.load(ref)`` and ``zoo.evaluate(ref)``: one entry point for every way of naming a trained model.

``resolve`` is the one place a reference becomes a local folder, with one precedence, for
``zoo run``, ``zoo eval``, ``zoo pull``, ``zoo info`` and the Python API alike.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from zoo.errors import ZooError
from zoo.loaded import Loaded, load_model_dir
from zoo.plugins import Zoo, current

if TYPE_CHECKING:
    from zoo.evaluation import Evaluation

Ref = str | os.PathLike[str]
"""A model directory (str or Path), ``hf://OWNER/NAME[@REV]`` or a pretrained name."""


def resolve(ref: Ref, zoo: Zoo | None = None) -> Path:
    """A local model directory for ``ref``, in this order: ``hf://OWNER/NAME[@REV]`` (downloaded),
    an existing directory, a pretrained name (fetched and checked)."""
    zoo = zoo or current()
    if isinstance(ref, os.PathLike):
        path = Path(ref).expanduser()
        if path.is_dir():
            return path
        raise ZooError(f"{ref}: " + ("not a model directory" if path.exists() else "no such model directory"))
    if ref.startswith("hf://"):
        from zoo import hub

        return hub.pull(ref)
    path = Path(ref).expanduser()
    if path.is_dir():
        return path
    if ref in zoo.catalogue():
        from zoo import hub

        return hub.fetch_pretrained(zoo.pretrained(ref))
    if path.exists():
        raise ZooError(f"{ref}: not a model directory")
    if "/" in ref or ref.startswith("."):
        hint = f" (a Hub repository is written hf://{ref})" if ref.count("/") == 1 and not ref.startswith(".") else ""
        raise ZooError(f"{ref}: no such model directory{hint}")
    zoo.pretrained(ref)  # raises: unknown pretrained model 'x' (did you mean ...)
    raise AssertionError("unreachable")


def load(ref: Ref, device: str = "cpu") -> Loaded:
    """Load a trained model from a directory (str or Path), ``hf://OWNER/NAME[@REV]`` or a registry name."""
    return load_model_dir(resolve(ref), device=device)


def evaluate(ref: Ref, *, device: str = "cpu", settings: list[str] | tuple[str, ...] = (),
             allow_download: bool = False, tolerance: float | None = None) -> Evaluation:
    """Re-measure a model's metrics and compare them with the recorded ones (``zoo eval`` in Python).

    For a pretrained name the registry entry's metrics and tolerance are the reference, else the
    metrics in the model's config.json. ``result.check()`` raises when they differ.
    """
    from zoo.evaluation import evaluate_loaded

    entry = current().catalogue().get(ref) if isinstance(ref, str) else None
    loaded = load(ref, device=device)
    return evaluate_loaded(loaded, str(ref), settings=settings, allow_download=allow_download,
                           tolerance=tolerance, entry=entry)
