"""The inspection contract: what a task and a model give ``zoo inspect``, and the one pass over it.

A task turns the user's text into :class:`Steps` (``Task.steps``): the token read at each step,
the network's prediction after it, the class that truly comes next, and a :class:`Probe` naming
the backbone to look inside. A model may report its internals (``Model.internals``): hidden
states, cell states, gates. :func:`trace` puts the two together into a :class:`Trace` of plain
float64 tensors that the reports (``zoo.inspect_report``, ``zoo.inspect_page``) read. The core
never learns which task or model it inspects.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

from zoo.errors import ZooError
from zoo.model import Model
from zoo.state import State

SCHEMA_VERSION = 1
"""Version of the ``zoo inspect --json`` record layout (docs/inspect.md); bumped on any change."""


@dataclass
class Probe:
    """The backbone whose units inspection shows, with the input it read for this sequence."""

    model: Model
    x: Tensor
    """(1, time, input_size): the backbone's input features, one row per step of ``Steps``."""
    state: State | None = None
    """Its initial state (None: zeros)."""


@dataclass
class Steps:
    """One pass of a network over a user's input, as a task reports it (``Task.steps``)."""

    inputs: list[str]
    """The token read at each step, as text (a character, a pair of bits, a word)."""
    logits: Tensor
    """(time, classes): the prediction made after each step."""
    classes: list[str]
    """The name of every output class (the vocabulary the prediction ranges over)."""
    targets: list[int | None]
    """The class that truly comes next at each step, None where the input does not say."""
    probe: Probe | None = None
    """The backbone to look inside, aligned with the steps; None when there is nothing to show."""

    def __post_init__(self) -> None:
        time = len(self.inputs)
        if self.logits.dim() != 2 or self.logits.shape != (time, len(self.classes)):
            raise ValueError(f"logits must be (time={time}, classes={len(self.classes)}), got {tuple(self.logits.shape)}")
        if len(self.targets) != time:
            raise ValueError(f"targets has {len(self.targets)} entries for {time} steps")
        if self.probe is not None and (self.probe.x.dim() != 3 or self.probe.x.shape[:2] != (1, time)):
            raise ValueError(f"probe.x must be (1, time={time}, features), got {tuple(self.probe.x.shape)}")


@dataclass
class Trace:
    """Everything the reports show, as float64 CPU tensors."""

    inputs: list[str]
    classes: list[str]
    probs: Tensor
    """(time, classes) softmax of the logits."""
    targets: list[int | None]
    internals: dict[str, Tensor] = field(default_factory=dict)
    """Name -> (time, units): ``h``, optionally ``c`` and ``gate.NAME`` (empty: none reported)."""

    @property
    def time(self) -> int:
        return len(self.inputs)

    @property
    def units(self) -> int:
        h = self.internals.get("h")
        return 0 if h is None else int(h.shape[1])

    @property
    def gates(self) -> dict[str, Tensor]:
        return {k.removeprefix("gate."): v for k, v in self.internals.items() if k.startswith("gate.")}

    def p_target(self, t: int) -> float | None:
        target = self.targets[t]
        return None if target is None else float(self.probs[t, target])


def internals_of(probe: Probe) -> dict[str, Tensor]:
    """The probe's model internals over its sequence, checked; empty when it reports none."""
    with torch.inference_mode():
        found = probe.model.internals(probe.x, probe.state)
    if found is None:
        return {}
    time = probe.x.shape[1]
    if "h" not in found:
        raise ValueError(f"{type(probe.model).__name__}.internals returned no 'h'")
    units = found["h"].shape[-1]
    out = {}
    for name, value in found.items():
        if value.shape != (time, units):
            raise ValueError(f"{type(probe.model).__name__}.internals['{name}'] is {tuple(value.shape)}, "
                             f"expected (time={time}, units={units})")
        out[name] = value.detach().to("cpu", torch.float64)
    return out


def trace(task: object, net: torch.nn.Module, text: str) -> Trace:
    """Run ``task.steps`` once over ``text`` and the probe's ``internals`` once over its input."""
    from zoo.devices import torch_threads

    was_training = net.training
    net.eval()
    # One sequence is a chain of small matrix-vector products: a second thread gains nothing, and
    # on a busy machine OpenMP's waiting made a 10k-step LSTM take 48 s instead of 0.8 s.
    try:
        with torch_threads(1):  # the internals too: they are one more pass over the sequence
            with torch.inference_mode():
                steps = task.steps(net, text)  # type: ignore[attr-defined]
            if not steps.inputs:
                raise ZooError("nothing to inspect: the input has no steps")
            internals = internals_of(steps.probe) if steps.probe is not None else {}
    finally:
        net.train(was_training)
    probs = torch.softmax(steps.logits.detach().to("cpu", torch.float64), dim=-1)
    return Trace(list(steps.inputs), list(steps.classes), probs, list(steps.targets), internals)
