"""Resume state without pickle: tensors in safetensors files, everything else in JSON.

Layout inside a run directory::

    resume.json                          step, settings, schedule clock, RNG, file names
    checkpoint/model-00000100.safetensors    network weights
    checkpoint/state-00000100.safetensors    optimizer tensors, torch RNG, carried TBPTT state

Each file is written atomically and the step's files come before ``resume.json`` names them, so
a process killed at any moment leaves the previous complete checkpoint in place.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, load_model, save_file, save_model

from zoo.errors import ZooError
from zoo.fileio import write_atomic, write_json_atomic
from zoo.layout import CHECKPOINTS as FOLDER
from zoo.layout import RESUME, checkpoint_files
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
) -> None:
    """Write one complete checkpoint for ``step`` (call on rank 0; ``carry`` stacked over ranks)."""
    folder = run_dir / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    model_file, state_file = checkpoint_files(step)
    write_atomic(folder / model_file, lambda tmp: save_model(net, str(tmp)))
    tensors: dict[str, torch.Tensor] = {}
    meta = {
        "optimizer": _optimizer_parts(optimizer, tensors),
        "rng": _rng_parts(tensors),
        "carry": flatten(carry, "carry", tensors),
        "scaler": scaler.state_dict() if scaler is not None and scaler.is_enabled() else None,
    }
    write_atomic(folder / state_file, lambda tmp: save_file(tensors, str(tmp)))
    record = {"format": FORMAT, "step": step, "files": {"model": model_file, "state": state_file}, **meta, **facts}
    write_json_atomic(run_dir / RESUME, record)
    for old in folder.iterdir():  # earlier checkpoints are superseded only once resume.json moved on
        if old.name not in (model_file, state_file):
            old.unlink(missing_ok=True)


def read(run_dir: Path) -> dict[str, Any]:
    """The resume record of a run directory, checked enough to give clear errors."""
    file = run_dir / RESUME
    if not run_dir.is_dir():
        raise ZooError(f"{run_dir}: no such run directory")
    try:
        record = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ZooError(f"{run_dir}: nothing to resume (no {RESUME}; was it trained with zoo train?)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ZooError(f"{file}: not valid JSON ({exc})") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise ZooError(f"{file}: unsupported resume format")
    for key in ("model", "state"):
        if not (run_dir / FOLDER / record["files"][key]).is_file():
            raise ZooError(f"{run_dir}: checkpoint file {record['files'][key]} is missing")
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
    folder = run_dir / FOLDER
    load_model(net, str(folder / record["files"]["model"]), strict=True, device=str(device))
    tensors = load_file(str(folder / record["files"]["state"]))
    _load_optimizer(optimizer, record["optimizer"], tensors)
    if scaler is not None and record.get("scaler"):
        scaler.load_state_dict(record["scaler"])
    _load_rng(record["rng"], tensors)
    return unflatten(record.get("carry"), tensors)
