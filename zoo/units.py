"""Which units are worth a look: correlation with simple text features, saturation, gate use.

The features are read from the step tokens alone (no task knowledge): inside double quotes,
inside brackets, position in the line, just after a newline, at a space. On character-level
text they find the classic quote- and line-length cells; on other inputs they are mostly
constant and drop out (a constant feature correlates with nothing).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

SATURATED = 0.9
"""|h| above this counts as a saturated unit; a gate below 1 - this or above this is saturated."""
LEFT, RIGHT = 0.1, 0.9


@dataclass(frozen=True)
class Suggestion:
    """A unit worth looking at, with a one-line reason and a score for ranking."""

    unit: int
    reason: str
    score: float


def text_features(inputs: list[str]) -> dict[str, Tensor]:
    """Per-step feature values (float64, one per step) computed from the input tokens."""
    quote = bracket = position = 0
    values: dict[str, list[float]] = {
        "inside quotes": [], "inside brackets": [], "position in line": [], "after a newline": [], "at a space": [],
    }
    previous = ""
    for token in inputs:
        if token == '"':
            quote ^= 1
        if token in "([{" and token:
            bracket += 1
        values["inside quotes"].append(float(quote))
        values["inside brackets"].append(float(bracket > 0))
        if token in ")]}" and token and bracket:
            bracket -= 1
        position = 0 if previous == "\n" else position + 1
        values["position in line"].append(float(position))
        values["after a newline"].append(float(previous == "\n"))
        values["at a space"].append(float(token == " "))
        previous = token
    if "\n" not in inputs:  # one line: "position in line" is just the step number, which any drift tracks
        del values["position in line"], values["after a newline"]
    return {name: torch.tensor(v, dtype=torch.float64) for name, v in values.items()}


def correlations(h: Tensor, feature: Tensor, centred: tuple[Tensor, Tensor] | None = None) -> Tensor:
    """Pearson correlation of every unit (columns of ``h``, time x units) with ``feature``; 0 where
    either is constant. ``centred``: ``h`` minus its mean and that's column norms, if known."""
    hc, norms = centred if centred is not None else _centred(h)
    fc = feature - feature.mean()
    denominator = norms * fc.norm()
    r = (fc @ hc) / denominator.clamp(min=1e-12)
    return torch.where(denominator > 1e-12, r, torch.zeros_like(r))


def _centred(h: Tensor) -> tuple[Tensor, Tensor]:
    hc = h - h.mean(0)
    return hc, hc.norm(dim=0)


def saturation(h: Tensor) -> Tensor | None:
    """Share of steps each unit spends at |h| > SATURATED; None for unbounded units (|h| > 1)."""
    if h.numel() == 0 or float(h.abs().max()) > 1.0 + 1e-6:
        return None
    return (h.abs() > SATURATED).double().mean(0)


def suggest(h: Tensor, inputs: list[str], limit: int = 8) -> list[Suggestion]:
    """The most interesting units, best first: those that track a text feature, then saturated ones."""
    found: dict[int, Suggestion] = {}
    centred = _centred(h)
    for name, feature in text_features(inputs).items():
        r = correlations(h, feature, centred)
        for unit in r.abs().argsort(descending=True)[:limit].tolist():
            score = abs(float(r[unit]))
            if score >= 0.2 and (unit not in found or found[unit].score < score):
                found[unit] = Suggestion(unit, f"tracks '{name}' (r = {float(r[unit]):+.2f})", score)
    ranked = sorted(found.values(), key=lambda s: -s.score)[: max(1, limit - limit // 4)]
    share = saturation(h)
    if share is not None:
        taken = {s.unit for s in ranked}
        for unit in share.argsort(descending=True).tolist():
            if len(ranked) >= limit or float(share[unit]) < 0.5:
                break
            if unit not in taken:
                ranked.append(Suggestion(unit, f"saturated (|h| > {SATURATED}) on {float(share[unit]):.0%} of steps",
                                         float(share[unit])))
    if not ranked and h.shape[1]:
        spread = h.std(0) if h.shape[0] > 1 else h.abs()[0]
        unit = int(spread.argmax())
        ranked.append(Suggestion(unit, f"varies most over the input (std {float(spread[unit]):.2f})", float(spread[unit])))
    return ranked


def gate_saturation(gates: dict[str, Tensor]) -> dict[str, tuple[Tensor, Tensor]]:
    """Per gate, each unit's share of steps left-saturated (< 0.1) and right-saturated (> 0.9)."""
    return {name: ((g < LEFT).double().mean(0), (g > RIGHT).double().mean(0)) for name, g in gates.items()}
