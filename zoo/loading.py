"""``zoo.load(ref)``: one entry point for every way of naming a trained model."""

from __future__ import annotations

from pathlib import Path

from zoo.artifacts import Loaded, load_model_dir
from zoo.errors import ZooError
from zoo.plugins import Zoo, current


def resolve(ref: str, zoo: Zoo | None = None) -> Path:
    """A local model directory for ``ref``: a path, ``hf://OWNER/NAME[@REV]`` or a registry name."""
    zoo = zoo or current()
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
        raise ZooError(f"{ref}: no such model directory")
    zoo.pretrained(ref)  # raises: unknown pretrained model 'x' (did you mean ...)
    raise AssertionError("unreachable")


def load(ref: str, device: str = "cpu") -> Loaded:
    """Load a trained model from a directory, ``hf://OWNER/NAME[@REV]`` or a registry name."""
    return load_model_dir(resolve(ref), device=device)
