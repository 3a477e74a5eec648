"""Will it fit? Memory estimates and weight-shape checks made before anything large is allocated.

A network is first built on torch's ``meta`` device: every parameter has its shape and dtype but
no storage, so a config asking for ``hidden_size=1000000`` costs nothing to inspect. From it come
the parameter bytes, which are compared with the memory available, and the expected shape of each
tensor, which is compared with a weights file's header before the real network is built.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from zoo.errors import ZooError

OPTIMIZER_COPIES = {"adamw": 2, "adam": 2, "rmsprop": 1, "sgd": 1}
"""Tensors of parameter size each optimizer keeps (moments, momentum)."""
HEADROOM = 0.9
"""Refuse when the estimate exceeds this fraction of what is available."""


class _SkipRandomInit(TorchFunctionMode):
    """Random initialisers become no-ops: on the meta device there are no values to fill.

    Besides being wasted work, torch's meta ``normal_`` runs a Python decomposition that imports
    ``torch._dynamo`` (about 1.8 s of CPU), which every ``zoo run`` and ``zoo inspect`` would pay.
    """

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        if getattr(func, "__name__", "") in _RANDOM_INITS:
            target = args[0] if args else kwargs.get("tensor", kwargs.get("self"))
            if isinstance(target, torch.Tensor):
                return target
        return func(*args, **kwargs)


_RANDOM_INITS = frozenset({
    "normal_", "uniform_", "trunc_normal_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
    "kaiming_normal_", "orthogonal_", "sparse_", "random_", "bernoulli_", "exponential_", "geometric_",
    "cauchy_", "log_normal_",
})


def meta_network(build: Callable[[], nn.Module]) -> nn.Module | None:
    """``build()`` on the meta device, or None when the network cannot be built that way."""
    try:
        with torch.device("meta"), _SkipRandomInit():
            net = build()
    except Exception:  # noqa: BLE001 - a plugin's code may not support meta tensors; skip the estimate
        return None
    return net if isinstance(net, nn.Module) else None


def parameter_bytes(net: nn.Module) -> tuple[int, int]:
    """(number of parameters, their bytes), counting shared tensors once."""
    seen: dict[int, nn.Parameter] = {}
    for p in net.parameters():
        seen.setdefault(id(p), p)
    return sum(p.numel() for p in seen.values()), sum(p.numel() * p.element_size() for p in seen.values())


def available(device: torch.device) -> tuple[int | None, str]:
    """Bytes this process may still allocate on ``device`` and what they are called."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free), f"free memory on {device}"
    limits = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                limits.append(int(line.split()[1]) * 1024)
    except OSError:
        pass
    try:  # a container's cgroup v2 limit
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit.isdigit():
            used = int(Path("/sys/fs/cgroup/memory.current").read_text().strip())
            limits.append(int(limit) - used)
    except (OSError, ValueError):
        pass
    if not limits and hasattr(os, "sysconf"):
        try:
            limits.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (OSError, ValueError):
            pass
    return (min(limits) if limits else None), "available RAM"


def human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1000 or unit == "PB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1000
    return f"{n:.1f} PB"  # pragma: no cover


def refuse_if_too_big(need: int, what: str, device: torch.device, hint: str) -> None:
    """One clear error when ``need`` bytes will not fit on ``device``."""
    have, name = available(device)
    if have is not None and need > HEADROOM * have:
        raise ZooError(f"this needs about {human(need)} of memory ({what}) but only {human(have)} of {name} "
                       f"is left; {hint}")


def batch_row_bytes(batch: dict[str, Any]) -> tuple[int, int]:
    """(bytes, tokens) of a one-row batch: tokens is the largest tensor's element count."""
    tensors = [v for v in batch.values() if torch.is_tensor(v)]
    return sum(t.numel() * t.element_size() for t in tensors), max((t.numel() for t in tensors), default=1)


def activation_bytes_per_token(net: nn.Module) -> int:
    """A rough bound: every layer's output features per token, in fp32, kept for backward."""
    features = 0
    for module in net.modules():
        for p in module.parameters(recurse=False):
            if p.dim() >= 2:
                features += p.shape[1] if isinstance(module, nn.Embedding) else p.shape[0]
    return 2 * 4 * max(features, 1)  # forward values and their gradients


def training_estimate(meta: nn.Module, optimizer: str, batch_size: int, row: dict[str, Any]) -> tuple[int, str]:
    """Bytes a training run needs: weights, gradients, optimizer state, and a batch's activations."""
    count, weights = parameter_bytes(meta)
    copies = 2 + OPTIMIZER_COPIES.get(optimizer, 2)
    row_bytes, tokens = batch_row_bytes(row)
    per_row = row_bytes + tokens * activation_bytes_per_token(meta)
    total = weights * copies + batch_size * per_row
    what = (f"{count:,} parameters x {copies} for weights, gradients and {optimizer} state, plus activations "
            f"of {batch_size:,} rows")
    return total, what


def header_shapes(file: Path) -> dict[str, list[int]]:
    """Tensor name -> shape from a safetensors header (the file's framing is already checked)."""
    with open(file, "rb") as fh:
        n = int.from_bytes(fh.read(8), "little")
        header = json.loads(fh.read(n))
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        shape = entry.get("shape") if isinstance(entry, dict) else None
        if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) for d in shape):
            raise ZooError(f"{file}: tensor '{name}' has no valid shape in the header")
        out[name] = shape
    return out


def check_shapes(net: nn.Module, file: Path) -> None:
    """Every tensor in ``file`` that ``net`` also has must have the shape ``net`` expects."""
    try:
        shapes = header_shapes(file)
    except (OSError, ValueError, UnicodeDecodeError, AttributeError):
        raise ZooError(f"{file}: not a safetensors file (unreadable header)") from None
    expected = {k: list(v.shape) for k, v in net.state_dict().items()}
    for name, shape in shapes.items():
        if name in expected and expected[name] != shape:
            raise ZooError(f"{file}: tensor '{name}' has shape {shape} but the config expects {expected[name]}")
