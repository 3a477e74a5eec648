"""Resume state without pickle: tensors in safetensors files, everything else in JSON.

Layout inside a run directory::

    resume.json                          step, settings, schedule clock, RNG, file names
    checkpoint/model-00000100.safetensors    network weights
    checkpoint/state-00000100.safetensors    optimizer tensors, torch RNG, carried TBPTT state

The order of one checkpoint, each file written atomically (temporary file, fsync, rename):

1. ``state-STEP`` then ``model-STEP`` (the step's weights, serialized once);
2. ``resume.json`` naming them: the commit point;
3. older checkpoint files are deleted;
4. the caller publishes ``model.safetensors`` (a hard link to ``model-STEP``) and ``config.json``.

A process killed at any moment leaves ``resume.json`` naming a complete checkpoint, and the
published model and config at that step or the one before, never ahead of it.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, load_model, save_file, save_model

from zoo.artifacts import check_weights
from zoo.errors import ZooError
from zoo.fileio import read_document, write_atomic, write_json_atomic
from zoo.layout import CHECKPOINTS as FOLDER
from zoo.layout import RESUME, SAFETENSORS_METADATA, checkpoint_files
from zoo.sizing import check_shapes
from zoo.state import State

FORMAT = 1


# -- trees of tensors <-> flat safetensors keys --------------------------------------------
def flatten(tree: State, prefix: str, out: dict[str, torch.Tensor]) -> Any:
    """Store the tensors of ``tree`` under ``prefix.*`` keys; return a JSON spec of its shape."""
    if tree is None:
        return None
    if isinstance(tree, tuple | list):
        return {"seq": type(tree).__name__, "items": [flatten(t, f"{prefix}.{i}", out) for i, t in enumerate(tree)]}
    if isinstance(tree, dict):
        return {"dict": {k: flatten(v, f"{prefix}.{k}", out) for k, v in tree.items()}}
    out[prefix] = tree.detach().contiguous().cpu()
    return {"tensor": prefix}


def unflatten(spec: Any, tensors: dict[str, torch.Tensor]) -> State:
    if spec is None:
        return None
    if "seq" in spec:
        items = [unflatten(s, tensors) for s in spec["items"]]
        return tuple(items) if spec["seq"] == "tuple" else items
    if "dict" in spec:
        return {k: unflatten(v, tensors) for k, v in spec["dict"].items()}
    return tensors[spec["tensor"]]


# -- optimizer ------------------------------------------------------------------------------
def _optimizer_parts(opt: torch.optim.Optimizer, out: dict[str, torch.Tensor]) -> dict[str, Any]:
    sd = opt.state_dict()
    plain: dict[str, dict[str, Any]] = {}
    for idx, entry in sd["state"].items():
        for key, value in entry.items():
            if torch.is_tensor(value):
                out[f"optim.{idx}.{key}"] = value.detach().contiguous().cpu()
            else:
                plain.setdefault(str(idx), {})[key] = value
    groups = [{k: list(v) if isinstance(v, tuple) else v for k, v in g.items()} for g in sd["param_groups"]]
    return {"plain": plain, "param_groups": groups}


def _load_optimizer(opt: torch.optim.Optimizer, meta: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None:
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        if name.startswith("optim."):
            _, idx, key = name.split(".", 2)
            state.setdefault(int(idx), {})[key] = value
    for idx, entry in meta["plain"].items():
        state.setdefault(int(idx), {}).update(entry)
    fresh = opt.state_dict()["param_groups"]
    groups = []
    for saved, now in zip(meta["param_groups"], fresh, strict=True):
        groups.append({k: tuple(v) if isinstance(now.get(k), tuple) else v for k, v in saved.items()})
    opt.load_state_dict({"state": state, "param_groups": groups})


# -- random number generators -------------------------------------------------------------
def _rng_parts(out: dict[str, torch.Tensor]) -> dict[str, Any]:
    out["rng.torch"] = torch.get_rng_state()
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []
    for i, s in enumerate(cuda):
        out[f"rng.cuda.{i}"] = s
    version, internal, gauss = random.getstate()
    return {"python": [version, list(internal), gauss], "cuda_devices": len(cuda)}


def _load_rng(meta: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None:
    torch.set_rng_state(tensors["rng.torch"])
    if torch.cuda.is_available() and meta["cuda_devices"] == torch.cuda.device_count():
        torch.cuda.set_rng_state_all([tensors[f"rng.cuda.{i}"] for i in range(meta["cuda_devices"])])
    version, internal, gauss = meta["python"]
    random.setstate((version, tuple(internal), gauss))


# -- save / load -----------------------------------------------------------------------------
def save(
    run_dir: Path,
    *,
    step: int,
    net: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler | None,
    carry: State,
    facts: dict[str, Any],
) -> Path:
    """Write and commit one checkpoint for ``step``; return its weights file (call on rank 0)."""
    folder = run_dir / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    model_file, state_file = checkpoint_files(step)
    tensors: dict[str, torch.Tensor] = {}
    meta = {
        "optimizer": _optimizer_parts(optimizer, tensors),
        "rng": _rng_parts(tensors),
        "carry": flatten(carry, "carry", tensors),
        "scaler": scaler.state_dict() if scaler is not None and scaler.is_enabled() else None,
    }
    write_atomic(folder / state_file, lambda tmp: save_file(tensors, str(tmp)))
    write_atomic(folder / model_file, lambda tmp: save_model(net, str(tmp), metadata=SAFETENSORS_METADATA))
    record = {"format": FORMAT, "step": step, "files": {"model": model_file, "state": state_file}, **meta, **facts}
    write_json_atomic(run_dir / RESUME, record)
    prune(run_dir, record)
    return folder / model_file


def prune(run_dir: Path, record: dict[str, Any]) -> None:
    """Delete checkpoint files that ``resume.json`` does not name (superseded or half-made)."""
    folder = run_dir / FOLDER
    if not folder.is_dir():
        return
    keep = set(record["files"].values())
    for old in folder.iterdir():
        if old.name not in keep and old.is_file():
            old.unlink(missing_ok=True)


_RECORD_KEYS = {"step": int, "files": dict, "settings": dict, "optimizer": dict, "rng": dict, "elapsed": (int, float)}


def read(run_dir: Path) -> dict[str, Any]:
    """The resume record of a run directory, checked enough to give clear errors."""
    file = run_dir / RESUME
    if not run_dir.is_dir():
        raise ZooError(f"{run_dir}: no such run directory")
    record = read_document(file, missing=f"{run_dir}: nothing to resume (no {RESUME}; was it trained with zoo train?)")
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise ZooError(f"{file}: unsupported resume format")
    for key, kind in _RECORD_KEYS.items():
        if key not in record:
            raise ZooError(f"{file}: '{key}' is missing (a damaged resume file)")
        if not isinstance(record[key], kind) or isinstance(record[key], bool):
            expected = kind.__name__ if isinstance(kind, type) else "number"
            raise ZooError(f"{file}: '{key}' must be {'an object' if kind is dict else 'a ' + expected}")
    if record["step"] < 0:
        raise ZooError(f"{file}: 'step' must be zero or more")
    for key in ("model", "state"):
        name = record["files"].get(key)
        if not isinstance(name, str) or "/" in name or "\\" in name or name.startswith("."):
            raise ZooError(f"{file}: 'files.{key}' must name a file in {FOLDER}/")
        if not (run_dir / FOLDER / name).is_file():
            raise ZooError(f"{run_dir}: checkpoint file {name} is missing")
        check_weights(run_dir / FOLDER / name)
    return record


def restore(
    run_dir: Path,
    record: dict[str, Any],
    *,
    net: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler | None,
    device: torch.device,
) -> State:
    """Load weights, optimizer, scaler and RNG; return the carried state stacked over ranks."""
    from safetensors import SafetensorError

    folder = run_dir / FOLDER
    model_file, state_file = folder / record["files"]["model"], folder / record["files"]["state"]
    try:
        check_shapes(net, model_file)
        load_model(net, str(model_file), strict=True, device=str(device))
        tensors = load_file(str(state_file))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ZooError(f"{run_dir}: damaged checkpoint ({str(exc).splitlines()[0]})") from None
    except RuntimeError as exc:
        raise ZooError(f"{model_file}: does not match the network ({str(exc).splitlines()[0]})") from None
    try:
        _load_optimizer(optimizer, record["optimizer"], tensors)
        if scaler is not None and record.get("scaler"):
            scaler.load_state_dict(record["scaler"])
        _load_rng(record["rng"], tensors)
        return unflatten(record.get("carry"), tensors)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, RuntimeError) as exc:
        raise ZooError(f"{state_file}: damaged optimizer, RNG or carried state ({type(exc).__name__}: "
                       f"{str(exc).splitlines()[0] if str(exc) else ''})") from None
