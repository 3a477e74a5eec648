"""Recurrent state as a small tree of tensors (a tensor, or tuples/lists/dicts of them).

The core never needs to know a model's state layout: it only maps functions over the leaves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

State = Any  # torch.Tensor | tuple[State, ...] | list[State] | dict[str, State] | None


def tree_map(fn: Callable[[Any], Any], state: State) -> State:
    """Apply ``fn`` to every tensor leaf of ``state``, keeping its structure."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(tree_map(fn, s) for s in state)
    if isinstance(state, list):
        return [tree_map(fn, s) for s in state]
    if isinstance(state, dict):
        return {k: tree_map(fn, v) for k, v in state.items()}
    return fn(state)


def detach(state: State) -> State:
    """Cut the graph behind a state: truncated back-propagation through time."""
    return tree_map(lambda t: t.detach(), state)


def zip_map(fn: Callable[[Any, Any], Any], a: State, b: State) -> State:
    """Apply ``fn`` to matching tensor leaves of two states of the same structure."""
    if a is None:
        return None
    if isinstance(a, tuple | list):
        return type(a)(zip_map(fn, x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return {k: zip_map(fn, a[k], b[k]) for k in a}
    return fn(a, b)


def mask_rows(state: State, keep: Any, batch_dim: int) -> State:
    """Zero the rows of ``state`` whose ``keep`` entry is 0 (sequences that restart from zeros).

    ``keep`` is a (batch,) tensor of 0/1; ``batch_dim`` is the model's ``state_batch_dim``.
    """

    def apply(t: Any) -> Any:
        shape = [1] * t.dim()
        shape[batch_dim] = -1
        return t * keep.view(shape).to(t.dtype)

    return tree_map(apply, state)
