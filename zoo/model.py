"""The architecture contract: a sequence backbone mapping (batch, time, features) to outputs.

A Model knows nothing about tokens, vocabularies or losses; tasks wrap one or more backbones with
embeddings and heads. Models come from plugins (``register_models``) and are built by the core
as ``ModelClass(input_size, config)``.

Three kinds of sequence model fit, and each declares which it is, because tasks and the contract
suite (``zoo.testing``) rely on it:

- recurrent (the default): the state summarises the whole past;
- finite memory (``memory = M``): the state is a fixed-shape memory of the last M steps (a
  Transformer's keys and values in each layer, Transformer-XL style), however long the sequence;
- stateless (``carries_state = False``): no state at all; only tasks that never pass a state on
  (``Task.uses_state = False``) accept such a model.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from zoo.state import State, tree_map, zip_map


class Model(nn.Module):
    """Base class of every registered architecture.

    Subclasses set ``self.output_size`` and implement ``forward`` and ``zero_state``.
    State is a tensor or a tuple of tensors whose batch dimension is ``state_batch_dim``
    (torch's recurrent layout ``(layers, batch, hidden)`` by default).
    """

    state_batch_dim: int = 1

    carries_state: ClassVar[bool] = True
    """False for a stateless model: ``forward`` returns ``(y, None)`` and there is no
    ``zero_state`` or ``step``. Tasks whose ``uses_state`` is True refuse it with a clear error."""

    memory: int | None = None
    """None: the state summarises the whole past (a recurrent model). An int M: a finite-memory
    model whose state holds what it needs of the last M steps in fixed-shape tensors (a ring
    buffer with a validity mask), so each step costs O(M) however long the sequence, and step t
    sees step t-M directly. Usually set per instance from the config."""

    lr_scale: ClassVar[float] = 1.0
    """Multiplies a task's default learning rate (never one the user gives). Tasks tune theirs
    for recurrent networks; a Transformer trained with AdamW wants several times less."""

    def __init__(self, input_size: int, config: Any) -> None:
        super().__init__()
        self.input_size = input_size
        self.config = config
        self.output_size: int = 0

    def forward(
        self, x: Tensor, state: State | None = None, lengths: Tensor | None = None
    ) -> tuple[Tensor, State]:
        """Run over ``x`` of shape (batch, time, input_size) from ``state`` (zeros when None).

        Returns outputs (batch, time, output_size) and the state after the last step. With
        ``lengths`` (batch,), sequences are right-padded: the returned state is each sequence's
        state after its own last real step, and outputs past a sequence's length are zero.
        """
        raise NotImplementedError

    def zero_state(
        self, batch_size: int, device: torch.device | str | None = None, dtype: torch.dtype | None = None
    ) -> State:
        """The initial state for ``batch_size`` sequences."""
        raise NotImplementedError

    def detach_state(self, state: State) -> State:
        """Cut the autograd graph behind ``state`` (truncated BPTT)."""
        return tree_map(lambda t: t.detach(), state)

    def reorder_state(self, state: State, index: Tensor) -> State:
        """Select or repeat batch rows of ``state`` (beam search, batched sampling)."""
        return tree_map(lambda t: t.index_select(self.state_batch_dim, index), state)

    def step(self, x_t: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """One time step: ``x_t`` (batch, input_size) -> output (batch, output_size), new state."""
        y, state = self(x_t.unsqueeze(1), state)
        return y[:, 0], state

    def internals(self, x: Tensor, state: State | None = None) -> dict[str, Tensor] | None:
        """Optional, for ``zoo inspect``: what happens inside at every step of one sequence.

        ``x`` is (1, time, input_size) and ``state`` its initial state (zeros when None). Return
        named (time, units) tensors: ``"h"`` (required) the hidden state after each step, every
        layer's units side by side (layer 0 first); optionally ``"c"`` (a cell state, same units);
        and gates as ``"gate.NAME"``, values in [0, 1] (``gate.forget``...). Compute them once
        over the sequence (``zoo.testing.check_internals`` checks them against ``forward``).
        The default, None, means the model reports no internals: inspection shows predictions only.
        """
        return None


def masked_scan(model: Model, x: Tensor, state: State | None, lengths: Tensor) -> tuple[Tensor, State]:
    """Generic ``lengths`` support for any model: step through time, freezing finished rows.

    Slower than a fused packed-sequence path; models with one should use it instead.
    """
    batch, time, _ = x.shape
    if state is None:
        state = model.zero_state(batch, device=x.device, dtype=x.dtype)
    outputs = []
    lengths = lengths.to(x.device)
    for t in range(time):
        y_t, new_state = model.step(x[:, t], state)
        alive = (lengths > t).to(y_t.dtype)
        outputs.append(y_t * alive[:, None])
        dim = model.state_batch_dim

        def keep(new: Tensor, old: Tensor, alive: Tensor = alive, dim: int = dim) -> Tensor:
            shape = [1] * new.dim()
            shape[dim] = -1
            mask = alive.view(shape).to(new.dtype)
            return new * mask + old * (1 - mask)

        state = zip_map(keep, new_state, state)
    return torch.stack(outputs, dim=1), state


def last_valid(outputs: Tensor, lengths: Tensor | None = None) -> Tensor:
    """Each sequence's output at its own last real step: (batch, time, features) -> (batch, features).

    Many-to-one tasks (classify a whole sequence) read the backbone here. With right-padded rows,
    ``outputs[:, -1]`` would be a padding step (zeros for most models); ``lengths`` (batch,) says
    where each row really ends. Without ``lengths`` every row is ``time`` steps long.
    """
    batch, time = outputs.shape[0], outputs.shape[1]
    if lengths is None:
        return outputs[:, -1]
    lengths = torch.as_tensor(lengths, device=outputs.device).long()
    if lengths.shape != (batch,):
        raise ValueError(f"lengths must have shape ({batch},), got {tuple(lengths.shape)}")
    if bool((lengths < 1).any()) or bool((lengths > time).any()):
        raise ValueError(f"lengths must lie in [1, {time}], got {lengths.tolist()}")
    index = (lengths - 1).view(batch, 1, *([1] * (outputs.dim() - 2)))
    index = index.expand(batch, 1, *outputs.shape[2:])
    return outputs.gather(1, index).squeeze(1)


def unwrap(net: nn.Module) -> nn.Module:
    """The plain module behind DistributedDataParallel, DataParallel and torch.compile wrappers.

    Save, sample and inspect through the plain module: wrappers add prefixes to parameter names
    and synchronisation that only training wants.
    """
    from torch.nn.parallel import DataParallel, DistributedDataParallel

    while True:
        if isinstance(net, DistributedDataParallel | DataParallel):
            net = net.module
        elif hasattr(net, "_orig_mod") and isinstance(net._orig_mod, nn.Module):  # torch.compile
            net = net._orig_mod
        else:
            return net
