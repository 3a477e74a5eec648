"""``zoo inspect`` output: JSON records, the per-step terminal table, a unit's activation as colour.

Record layout (``schema_version`` 1, documented in docs/inspect.md), one per step::

    {"schema_version": 1, "step": 0, "input": "h", "target": "e", "p_target": 0.31, "loss": 1.17,
     "top": [{"token": "e", "p": 0.31}, ...], "states": {"h": [...], "c": [...]},
     "gates": {"input": [...], ...}}

``target``, ``p_target`` and ``loss`` are null where the input does not say what comes next;
``states`` and ``gates`` are present only when asked for.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import torch
from torch import Tensor

from zoo.inspection import SCHEMA_VERSION, Trace

FULL_VECTOR_UNITS = 16
"""Networks with at most this many units print whole state vectors; larger ones a summary."""


def show(token: str) -> str:
    """A token as one printable cell: control characters escaped, a space as the visible ␣."""
    if token == " ":
        return "\u2423"
    return "".join(repr(c)[1:-1] if not c.isprintable() else c for c in token)


def tops(trace: Trace, k: int) -> list[list[tuple[int, float]]]:
    """The ``k`` most likely (class, probability) pairs of every step, best first, in one topk."""
    values, index = trace.probs.topk(min(k, len(trace.classes)), dim=-1)
    return [list(zip(i, v, strict=True)) for i, v in zip(index.tolist(), values.tolist(), strict=True)]


def loss(p: float | None) -> float | None:
    """-log p, finite even where the model gave the true token no probability at all."""
    return None if p is None else -math.log(max(p, 1e-300))


def records(trace: Trace, top_k: int = 5, states: bool = False, gates: bool = False) -> Iterator[dict[str, Any]]:
    """One JSON-ready record per step (see the module docstring)."""
    state_keys = [k for k in ("h", "c") if k in trace.internals]
    best = tops(trace, top_k)
    for t in range(trace.time):
        p = trace.p_target(t)
        target = trace.targets[t]
        record: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "step": t,
            "input": trace.inputs[t],
            "target": None if target is None else trace.classes[target],
            "p_target": p,
            "loss": loss(p),
            "top": [{"token": trace.classes[i], "p": q} for i, q in best[t]],
        }
        if states:
            record["states"] = {k: trace.internals[k][t].tolist() for k in state_keys}
        if gates:
            record["gates"] = {name: g[t].tolist() for name, g in trace.gates.items()}
        yield record


def _vector(v: Tensor) -> str:
    return " ".join(f"{x:+.3f}" for x in v.tolist())


def _summary(v: Tensor, most: int = 3) -> str:
    order = v.abs().argsort(descending=True)[:most].tolist()
    return f"|v|={float(v.norm()):.2f}  most active: " + "  ".join(f"{u}:{float(v[u]):+.2f}" for u in order)


def _gate_summary(g: Tensor) -> str:
    return f"mean {float(g.mean()):.2f}  <0.1: {float((g < 0.1).double().mean()):.0%}  >0.9: {float((g > 0.9).double().mean()):.0%}"


def table(trace: Trace, top_k: int = 5, states: bool = False, gates: bool = False) -> Iterator[str]:
    """The per-step table, one line per step (plus state and gate lines when asked for)."""
    width = max(5, *(len(show(x)) for x in trace.inputs))
    twidth = max(4, *(len(show(c)) for c in trace.classes))
    yield f"{'step':>5}  {'input':<{width}}  {'next':<{twidth}}  {'p(next)':>7}  {'loss':>6}  top {top_k}"
    full = trace.units <= FULL_VECTOR_UNITS
    best = tops(trace, top_k)
    for t in range(trace.time):
        target = trace.targets[t]
        p = trace.p_target(t)
        nll = loss(p)
        cells = "  ".join(f"{show(trace.classes[i])} {q:.3f}" for i, q in best[t])
        yield (f"{t:>5}  {show(trace.inputs[t]):<{width}}  "
               f"{'' if target is None else show(trace.classes[target]):<{twidth}}  "
               f"{'' if p is None else f'{p:.3f}':>7}  {'' if nll is None else f'{nll:.3f}':>6}  {cells}")
        pad = " " * 7
        if states:
            for key in ("h", "c"):
                if key in trace.internals:
                    v = trace.internals[key][t]
                    yield f"{pad}{key}: {_vector(v) if full else _summary(v)}"
        if gates:
            for name, g in trace.gates.items():
                yield f"{pad}{name} gate: {_vector(g[t]) if full else _gate_summary(g[t])}"


def colour(value: float, scale: float) -> tuple[int, int, int]:
    """Activation -> RGB: white at 0, red for positive, blue for negative, full at ``scale``."""
    a = max(-1.0, min(1.0, value / scale)) if scale > 0 else 0.0
    fade = round(255 * (1 - abs(a)))
    return (255, fade, fade) if a >= 0 else (fade, fade, 255)


def coloured_text(trace: Trace, unit: int) -> str:
    """The input with each token's background coloured by ``unit``'s activation (ANSI 24-bit)."""
    h = trace.internals["h"][:, unit]
    scale = float(h.abs().max()) or 1.0
    out = []
    for token, value in zip(trace.inputs, h.tolist(), strict=True):
        r, g, b = colour(value, scale)
        shown = token if token not in ("\n", "\r") else "\u21b5"
        out.append(f"\x1b[48;2;{r};{g};{b}m\x1b[38;2;0;0;0m{shown}\x1b[0m" + ("\n" if token == "\n" else ""))
    return "".join(out)


def summary_line(trace: Trace) -> str:
    """Mean loss and accuracy of the top prediction over the steps that have a target."""
    scored = [t for t in range(trace.time) if trace.targets[t] is not None]
    if not scored:
        return f"{trace.time} steps (no targets in the input: no loss)"
    index = torch.tensor(scored)
    target = torch.tensor([trace.targets[t] for t in scored])
    p = trace.probs[index, target]
    nll = float((-p.clamp(min=1e-300).log()).mean())
    hit = float((trace.probs[index].argmax(-1) == target).double().mean())
    return f"{trace.time} steps, {len(scored)} scored: mean loss {nll:.3f} nats, top-1 accuracy {hit:.1%}"
