"""The model directory: ``model.safetensors`` + ``config.json`` (+ a model card), saved and loaded.

This is the one format every run, push, pull and pretrained entry uses. Weights are only ever
read from safetensors; nothing is unpickled.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zoo import assemble
from zoo.errors import ZooError
from zoo.fileio import read_document, write_atomic, write_json_atomic
from zoo.layout import CONFIG, README, SAFETENSORS_METADATA, WEIGHTS

if TYPE_CHECKING:
    from torch import nn

    from zoo.plugins import Zoo
    from zoo.task import Task

FORMAT_VERSION = 1
_MAX_HEADER = 100 * 1024 * 1024  # safetensors' own limit on the JSON header


def save_model_dir(
    path: str | Path,
    recipe: assemble.Recipe,
    task: Task,
    net: nn.Module,
    *,
    training: dict[str, Any] | None = None,
    metrics: dict[str, float] | None = None,
    versions: dict[str, Any] | None = None,
    weights_file: Path | None = None,
) -> Path:
    """Write weights, config.json and the model card (README.md) atomically into ``path``.

    safetensors' model-aware ``save_model`` stores tied or shared tensors once and records the
    aliases, so ``load_model_dir`` can read them back strictly. ``weights_file``: an already
    written weights file of ``net`` (a training checkpoint's) to link instead of writing again.
    """
    config = {
        "format_version": FORMAT_VERSION,
        **assemble.configs_as_dict(recipe),
        "vocabulary": task.state_dict(),
        "training": training or {},
        "metrics": metrics or {},
        "versions": versions or library_versions(),
        "usage": {"pipeline_tag": task.pipeline_tag, "example_input": task.example_input},
    }
    path = write_model_dir(path, config, net, weights_file=weights_file)
    for name, data in (getattr(task, "report_files", dict)() or {}).items():
        if Path(name).name != name or name in (WEIGHTS, CONFIG, README):
            raise ValueError(f"report file name {name!r} must be a plain name other than the model files")
        write_atomic(path / name, lambda tmp, data=data: tmp.write_bytes(data))
    return path


def write_model_dir(path: str | Path, config: dict[str, Any], net: nn.Module, *,
                    weights_file: Path | None = None) -> Path:
    """Write ``net``'s weights, ``config`` as config.json and the card made from it into ``path``."""
    from safetensors.torch import save_model

    from zoo.card import write_card
    from zoo.model import unwrap

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    if weights_file is not None:
        write_atomic(path / WEIGHTS, lambda tmp: link_or_copy(weights_file, tmp))
    else:
        write_atomic(path / WEIGHTS, lambda tmp: save_model(unwrap(net), str(tmp), metadata=SAFETENSORS_METADATA))
    write_json_atomic(path / CONFIG, config)
    write_card(path, config)
    return path


def link_or_copy(source: Path, target: Path) -> None:
    """Make ``target`` a hard link to ``source`` (no second copy of the bytes), else a copy."""
    import os
    import shutil

    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def check_can_save() -> None:
    """Save a one-element tensor to bytes the way ``save_model_dir`` saves weights.

    Called before training starts: a dependency that saving needs and that is missing (numpy,
    which safetensors' torch path imports while saving) then fails in a second, as one line,
    instead of after the whole run, losing the trained weights.
    """
    import torch
    from safetensors.torch import save

    try:
        save({"probe": torch.zeros(1)})
    except ImportError as exc:
        missing = getattr(exc, "name", None) or str(exc)
        raise ZooError(f"cannot save models: {exc}; install it first (pip install {missing})") from None


def library_versions(recipe: assemble.Recipe | None = None, zoo: Zoo | None = None) -> dict[str, Any]:
    """Versions of what a model directory depends on, recorded in config.json: seqzoo, torch,
    safetensors and, given the recipe, the plugin distributions of its task and model."""
    from importlib import metadata

    out: dict[str, Any] = {}
    for dist in ("seqzoo", "torch", "safetensors"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    if recipe is not None:
        from zoo.plugins import current

        registry = zoo or current()
        out["plugins"] = {
            comp.provider.distribution: comp.provider.version
            for comp in (registry.task(recipe.task_name), registry.model(recipe.model_name))
            if comp.provider.distribution
        }
    return out


def read_config(path: str | Path) -> dict[str, Any]:
    """Read and validate config.json of a model directory."""
    file = Path(path) / CONFIG
    data = read_document(file, missing=f"{path}: not a model directory (no {CONFIG})")
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
    for section in ("vocabulary", "training", "metrics", "versions"):
        if not isinstance(data.get(section, {}), dict):
            raise ZooError(f"{file}: '{section}' must be an object")
    seed = data.get("training", {}).get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ZooError(f"{file}: 'training.seed' must be an integer")
    return data


def check_weights(file: str | Path) -> None:
    """Refuse an empty, truncated or non-safetensors weights file with a clear message.

    Runs before safetensors parses the file, and needs no torch: a download that saved an HTML
    error page, or stopped half-way, is named as such instead of surfacing as a parser error.
    """
    file = Path(file)
    try:
        size = file.stat().st_size
        with open(file, "rb") as fh:
            head = fh.read(8)
            n = int.from_bytes(head, "little") if len(head) == 8 else -1
            header = fh.read(n) if 0 < n <= min(_MAX_HEADER, size - 8) else b""
    except FileNotFoundError:
        raise ZooError(f"{file}: missing") from None
    except OSError as exc:
        raise ZooError(f"{file}: cannot be read ({exc.strerror})") from None
    if size == 0:
        raise ZooError(f"{file}: the file is empty (an interrupted download?)")
    if all(32 <= b < 127 or b in b"\t\r\n" for b in head):  # a real header length has zero high bytes
        raise ZooError(f"{file}: not a safetensors file (it holds text, perhaps an HTML error page)")
    if n < 0:
        raise ZooError(f"{file}: truncated ({size} bytes)")
    if n > _MAX_HEADER:
        raise ZooError(f"{file}: not a safetensors file")
    if n > size - 8:
        raise ZooError(f"{file}: truncated ({size} bytes, shorter than its own header)")
    try:
        entries = json.loads(header)
        end = max((int(e["data_offsets"][1]) for k, e in entries.items() if k != "__metadata__"), default=0)
    except (ValueError, UnicodeDecodeError, TypeError, KeyError, IndexError, AttributeError):
        raise ZooError(f"{file}: not a safetensors file (unreadable header)") from None
    expected = 8 + n + end
    if size < expected:
        raise ZooError(f"{file}: truncated ({size} of {expected} bytes)")
    if size > expected:
        raise ZooError(f"{file}: {size - expected} unexpected bytes after the tensors (corrupted file)")


def check_model_dir(path: str | Path, name: str | None = None) -> dict[str, Any]:
    """Validate a model directory without torch: config.json and the weights file's framing."""
    path = Path(path)
    config = read_config(path)
    weights = path / WEIGHTS
    if not weights.is_file():
        raise ZooError(f"{name or path}: no {WEIGHTS}")
    check_weights(weights)
    return config
