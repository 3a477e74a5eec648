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
