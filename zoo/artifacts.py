"""The model directory: ``model.safetensors`` + ``config.json`` (+ a model card), saved and loaded.

This is the one format every run, push, pull and pretrained entry uses. Weights are only ever
read from safetensors; nothing is unpickled.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zoo import assemble
from zoo.errors import ZooError
from zoo.fileio import write_atomic, write_json_atomic
from zoo.plugins import Zoo, current

FORMAT_VERSION = 1
WEIGHTS = "model.safetensors"
CONFIG = "config.json"


def save_model_dir(
    path: str | Path,
    recipe: assemble.Recipe,
    task: Any,
    net: Any,
    *,
    training: dict[str, Any] | None = None,
    metrics: dict[str, float] | None = None,
    versions: dict[str, Any] | None = None,
) -> Path:
    """Write weights and config.json atomically into ``path`` (created if needed)."""
    from safetensors.torch import save_model

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    write_atomic(path / WEIGHTS, lambda tmp: save_model(_unwrap(net), str(tmp)))
    config = {
        "format_version": FORMAT_VERSION,
        **assemble.configs_as_dict(recipe),
        "vocabulary": task.state_dict(),
        "training": training or {},
        "metrics": metrics or {},
        "versions": versions or {},
    }
    write_json_atomic(path / CONFIG, config)
    return path


def _unwrap(net: Any) -> Any:
    """The plain module behind DistributedDataParallel or torch.compile wrappers."""
    while hasattr(net, "module") or hasattr(net, "_orig_mod"):
        net = getattr(net, "module", None) or net._orig_mod
    return net


def read_config(path: str | Path) -> dict[str, Any]:
    """Read and validate config.json of a model directory."""
    file = Path(path) / CONFIG
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ZooError(f"{path}: not a model directory (no {CONFIG})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ZooError(f"{file}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ZooError(f"{file}: expected a JSON object")
    version = data.get("format_version")
    if version != FORMAT_VERSION:
        raise ZooError(f"{file}: format_version {version!r} is not supported (expected {FORMAT_VERSION})")
    for section in ("task", "model"):
        part = data.get(section)
        if not isinstance(part, dict) or not isinstance(part.get("name"), str):
            raise ZooError(f"{file}: '{section}' must be an object with a 'name'")
        if not isinstance(part.get("config", {}), dict):
            raise ZooError(f"{file}: '{section}.config' must be an object")
    if not isinstance(data.get("vocabulary", {}), dict):
        raise ZooError(f"{file}: 'vocabulary' must be an object")
    return data


@dataclass
class Loaded:
    """A trained model ready to use: its task (vocabulary restored), network and config."""

    task: Any
    net: Any
    config: dict[str, Any]
    recipe: assemble.Recipe
    path: Path

    def run(self, text: str, **options: Any) -> str:
        """The task's answer to ``text`` as one string (see ``zoo.RunOptions`` for options)."""
        return "".join(self.stream(text, **options))

    def stream(self, text: str, **options: Any) -> Iterator[str]:
        from zoo.task import RunOptions

        return self.task.run(self.net, text, RunOptions(**options))


def load_model_dir(path: str | Path, device: str = "cpu", zoo: Zoo | None = None) -> Loaded:
    """Rebuild task and network from a local model directory and load its weights strictly."""
    from safetensors import SafetensorError
    from safetensors.torch import load_model

    zoo = zoo or current()
    path = Path(path)
    config = read_config(path)
    missing = _missing_plugins(config, zoo)
    if missing:
        raise ZooError(missing)
    recipe = assemble.recipe_from_dict(config, zoo)
    task = assemble.make_task(recipe, zoo)
    task.load_state_dict(config.get("vocabulary", {}))
    net = assemble.make_network(recipe, task, zoo)
    weights = path / WEIGHTS
    if not weights.is_file():
        raise ZooError(f"{path}: no {WEIGHTS}")
    try:
        load_model(net, str(weights), strict=True, device=str(device))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ZooError(f"{weights}: not a valid safetensors file ({exc})") from None
    except RuntimeError as exc:
        raise ZooError(f"{weights}: weights do not match the configured network ({str(exc).splitlines()[0]})") from None
    net.to(device).eval()
    return Loaded(task, net, config, recipe, path)


def _missing_plugins(config: dict[str, Any], zoo: Zoo) -> str | None:
    """Say which distribution to install when a model's task or architecture is unknown here."""
    dists = config.get("versions", {}).get("plugins", {})
    for section, table in (("task", zoo.tasks), ("model", zoo.models)):
        name = config[section]["name"]
        if name not in table:
            hint = config[section].get("distribution") or next(iter(dists), None)
            where = f"; install the distribution that provides it: pip install {hint}" if hint else ""
            return f"{section} '{name}' is not installed{where}"
    return None
