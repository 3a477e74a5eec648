"""The model contract suite: what every ``zoo.Model`` must do, checked on small random inputs.

Tasks rely on these properties without knowing the architecture: state carried across chunks
(truncated BPTT, generation), ``step`` for sampling, ``lengths`` for padded batches, gradients for
training, ``detach_state``/``reorder_state`` for TBPTT and beam search, safetensors files for
saving. A plugin author runs the whole suite from a test::

    import zoo.testing

    def test_contract():
        zoo.testing.check_model(MyModel, MyConfig(hidden_size=8), input_size=5)

or one check at a time (``zoo.testing.check_state_carry(MyModel, config)``; ``CHECKS`` maps
names to checks). Tests of a task or plugin also get the core's lower-level pieces from here (an
own ``Zoo`` installed with ``use``, ``recipe``/``make_task``/``make_network``, ``save_model_dir``/
``load_model_dir``, ``build_config``), so they never import the core's private modules.

The checks follow what the model declares (``zoo.Model``): a recurrent model gets every check
on its state; a stateless one (``carries_state = False``) must return no state, and the checks
of carrying, stepping, detaching and reordering a state do not apply to it (``applies``); a
finite-memory one (``memory = M``) also gets ``memory``: the state keeps zero_state's shapes
over more than 2M steps, the output at step M sees the input at step 0, and chunked and
step-by-step runs, where a ring buffer wraps, equal one run over the whole sequence. Task authors get ``TinyGRU``, a minimal backbone that lets a task be tested
without any model plugin installed. A model can also be named as registered (``check_model("lstm")``), its config
then built from the registered config class's defaults or from a dict of settings. Every check
builds fresh models, so checks are independent, and raises AssertionError saying what broke.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from zoo.artifacts import save_model_dir
from zoo.assemble import make_network, make_task, recipe
from zoo.config import build as build_config
from zoo.config import option
from zoo.devices import torch_threads
from zoo.loaded import load_model_dir
from zoo.model import Model, masked_scan
from zoo.plugins import Zoo, current, use
from zoo.state import State, tree_map

__all__ = [
    "CHECKS",
    "Case",
    "applies",
    "TinyGRU",
    "TinyGRUConfig",
    "Zoo",
    "build_config",
    "current",
    "load_model_dir",
    "make_network",
    "make_task",
    "recipe",
    "save_model_dir",
    "use",
    "check_detach_state",
    "check_determinism",
    "check_gradients",
    "check_internals",
    "check_lengths",
    "check_memory",
    "check_model",
    "check_output_shapes",
    "check_reorder_state",
    "check_save_load",
    "check_state_carry",
    "check_step",
    "make_case",
    "one_thread",
]


@dataclass
class TinyGRUConfig:
    hidden_size: int = option(16, "units of the single GRU layer")


class TinyGRU(Model):
    """One ``nn.GRU`` layer: a small, correct backbone for testing a task in isolation.

    Padded batches go through the core's generic ``masked_scan``.
    """

    def __init__(self, input_size: int, config: TinyGRUConfig) -> None:
        super().__init__(input_size, config)
        self.rnn = nn.GRU(input_size, config.hidden_size, batch_first=True)
        self.output_size = config.hidden_size

    def forward(self, x: Tensor, state: State | None = None, lengths: Tensor | None = None) -> tuple[Tensor, State]:
        if lengths is not None:
            return masked_scan(self, x, state, lengths)
        return self.rnn(x, state)

    def zero_state(self, batch_size: int, device: Any = None, dtype: torch.dtype | None = None) -> State:
        return torch.zeros(1, batch_size, self.output_size, device=device, dtype=dtype)


@dataclass(frozen=True)
class Case:
    """A model under test: class, config, and the shape, device and tolerance of its inputs."""

    model_cls: type[Model]
    config: Any
    input_size: int = 3
    batch_size: int = 3
    time: int = 7
    device: str = "cpu"
    seed: int = 0
    atol: float = 1e-5
    rtol: float = 1e-4

    def __post_init__(self) -> None:
        if self.batch_size < 2 or self.time < 4:
            raise ValueError("the contract checks need batch_size >= 2 and time >= 4")

    @property
    def name(self) -> str:
        return f"{self.model_cls.__module__}.{self.model_cls.__qualname__}"

    @property
    def stateless(self) -> bool:
        """The model declares it carries no state (``carries_state = False``)."""
        return not getattr(self.model_cls, "carries_state", True)

    @property
    def memory(self) -> int | None:
        """The finite memory M a built model declares, or None (recurrent or stateless)."""
        memory = getattr(self.build(), "memory", None)
        if memory is not None and (not isinstance(memory, int) or memory < 1):
            raise self.fail(f"memory must be None or a positive int, got {memory!r}")
        return memory

    def build(self, seed: int | None = None) -> Model:
        """A fresh model in eval mode (no dropout), initialised under ``seed``."""
        torch.manual_seed(self.seed if seed is None else seed)
        return self.model_cls(self.input_size, self.config).to(self.device).eval()

    def inputs(self, seed: int = 1, time: int | None = None) -> Tensor:
        """Random (batch, time, input_size) features, reproducible from ``seed``."""
        gen = torch.Generator().manual_seed(seed)
        shape = (self.batch_size, self.time if time is None else time, self.input_size)
        return torch.randn(shape, generator=gen).to(self.device)

    def fail(self, message: str) -> AssertionError:
        return AssertionError(f"{self.name}: {message}")


def make_case(model: type[Model] | str, config: Any = None, **options: Any) -> Case:
    """A Case from a class and config instance, or a registered name and optional settings."""
    if isinstance(model, str):
        component = current().model(model)
        if config is None or isinstance(config, Mapping):
            config = build_config(component.config, dict(config or {}), owner=f"model '{model}'")
        model = component.load()
    elif config is None or isinstance(config, Mapping):
        raise TypeError("pass the model class's config instance (settings dicts need a registered model name)")
    return Case(model, config, **options)


@contextmanager
def one_thread() -> Iterator[None]:
    """Run torch on one intra-op thread for the block, then restore the previous setting.

    The checks use tiny tensors, where extra threads only add overhead; on a busy machine with
    more threads than free cores, OpenMP waits made one small LSTM call take ~1 s instead of
    under 1 ms. Use it in your own tests of small models too.
    """
    with torch_threads(1):
        yield


# -- comparisons ---------------------------------------------------------------------------------


def _close(case: Case, actual: Any, expected: Any, what: str) -> None:
    """Tensors or states equal within the case's tolerance, else AssertionError naming ``what``."""
    shapes_a, shapes_e = _shapes(actual), _shapes(expected)
    if shapes_a != shapes_e:
        raise case.fail(f"{what}: shapes {shapes_a} != expected {shapes_e}")
    for a, e in zip(_leaves(actual), _leaves(expected), strict=True):
        try:
            torch.testing.assert_close(a, e, atol=case.atol, rtol=case.rtol)
        except AssertionError as exc:
            raise case.fail(f"{what}:\n{exc}") from None


def _equal(case: Case, actual: Any, expected: Any, what: str) -> None:
    """Bit-identical tensors or states (same code, same weights, same device)."""
    if _shapes(actual) != _shapes(expected) or not all(
        torch.equal(a, e) for a, e in zip(_leaves(actual), _leaves(expected), strict=True)
    ):
        _close(case, actual, expected, what)  # says where they differ
        raise case.fail(f"{what}: results are close but not identical")


def _leaves(state: State) -> list[Tensor]:
    out: list[Tensor] = []
    tree_map(out.append, state)
    return out


def _shapes(state: State) -> Any:
    return tree_map(lambda t: tuple(t.shape), state)


def _rows(model: Model, state: State, index: Tensor) -> State:
    """Batch rows of a state, selected here rather than by the model's own reorder_state."""
    return tree_map(lambda t: t.index_select(model.state_batch_dim, index.to(t.device)), state)


# -- the checks ----------------------------------------------------------------------------------


def _output_shapes(case: Case) -> None:
    model, x = case.build(), case.inputs()
    batch, time = x.shape[:2]
    size = model.output_size
    if not isinstance(size, int) or size < 1:
        raise case.fail(f"output_size must be a positive int (set it in __init__), got {size!r}")
    y, state = model(x)
    if not isinstance(y, Tensor) or tuple(y.shape) != (batch, time, size):
        got = tuple(y.shape) if isinstance(y, Tensor) else type(y).__name__
        raise case.fail(f"forward(x of shape {tuple(x.shape)}) must return outputs of shape "
                        f"{(batch, time, size)} (batch, time, output_size), got {got}")
    if y.dtype != x.dtype or not bool(torch.isfinite(y).all()):
        raise case.fail(f"outputs must be finite and of the input's dtype {x.dtype}, got {y.dtype}")
    if case.stateless:
        if state is not None:
            raise case.fail(f"a stateless model (carries_state = False) must return None as its state, "
                            f"got {type(state).__name__}")
        return
    if not _leaves(state):
        raise case.fail("forward must return a state (a tensor or a tuple/list/dict of tensors)")
    for leaf in _leaves(state):
        if leaf.dim() <= model.state_batch_dim or leaf.shape[model.state_batch_dim] != batch:
            raise case.fail(f"every state tensor needs the batch ({batch}) in dim state_batch_dim="
                            f"{model.state_batch_dim}; got shapes {_shapes(state)}")
    zero = model.zero_state(batch, device=x.device, dtype=x.dtype)
    if _shapes(zero) != _shapes(state):
        raise case.fail(f"zero_state({batch}) has shapes {_shapes(zero)} but forward returns {_shapes(state)}")
    wide = model.zero_state(batch, device=x.device, dtype=torch.float64)
    if any(leaf.is_floating_point() and leaf.dtype != torch.float64 for leaf in _leaves(wide)):
        raise case.fail("zero_state(..., dtype=torch.float64) must return float64 tensors")
    y_t, state_t = model.step(x[:, 0], zero)
    if tuple(y_t.shape) != (batch, size) or _shapes(state_t) != _shapes(state):
        raise case.fail(f"step(x_t of shape {tuple(x[:, 0].shape)}) must return ({batch}, {size}) and a "
                        f"state like forward's; got {tuple(y_t.shape)} and {_shapes(state_t)}")


def _state_carry(case: Case) -> None:
    model, x = case.build(), case.inputs()
    with torch.no_grad():
        y, state = model(x)
        y0, state0 = model(x, model.zero_state(x.shape[0], x.device, x.dtype))
        _close(case, y0, y, "forward from zero_state differs from forward with state=None")
        _close(case, state0, state, "state after forward from zero_state differs from state=None")
        cut = x.shape[1] // 2 - 1
        y1, carried = model(x[:, :cut])
        y2, final = model(x[:, cut:], carried)
    _close(case, torch.cat([y1, y2], dim=1), y,
           f"outputs over two chunks (steps 0-{cut - 1} then the rest, state carried) differ from the whole sequence")
    _close(case, final, state, "state after two chunks differs from the state after the whole sequence")


def _step(case: Case) -> None:
    model, x = case.build(), case.inputs()
    with torch.no_grad():
        y, state = model(x)
        outputs, carried = [], None
        for t in range(x.shape[1]):
            y_t, carried = model.step(x[:, t], carried)
            outputs.append(y_t)
    _close(case, torch.stack(outputs, dim=1), y, "step() one step at a time differs from forward over the sequence")
    _close(case, carried, state, "state after stepping through differs from forward's final state")


def _lengths(case: Case) -> None:
    model, x = case.build(), case.inputs()
    batch, time = x.shape[:2]
    pattern = [time - 2, time, 1, time - 1, 2]  # unsorted, with full and one-step rows
    lengths = torch.tensor([pattern[i % len(pattern)] for i in range(batch)])
    real = torch.arange(time, device=x.device)[None, :] < lengths.to(x.device)[:, None]
    padded = torch.where(real[..., None], x, 100 * case.inputs(seed=4))  # padding is loud garbage
    with torch.no_grad():
        start = None if case.stateless else model(case.inputs(seed=3, time=2))[1]  # a non-zero initial state
        y_full, s_full = model(x, start)
        y_all, s_all = model(x, start, lengths=torch.full((batch,), time))
        _close(case, y_all, y_full, "lengths all equal to the time dimension change the outputs")
        _close(case, s_all, s_full, "lengths all equal to the time dimension change the state")
        y, state = model(padded, start, lengths=lengths)
        for i, n in enumerate(lengths.tolist()):
            row = torch.tensor([i])
            y_i, s_i = model(x[i : i + 1, :n], None if start is None else _rows(model, start, row))
            _close(case, y[i, :n], y_i[0], f"with lengths, row {i} (length {n}) differs from running it alone")
            if bool(y[i, n:].ne(0).any()):
                raise case.fail(f"with lengths, outputs past row {i}'s length {n} must be zero")
            if not case.stateless:
                _close(case, _rows(model, state, row), s_i,
                       f"with lengths, the state of row {i} is not its state after its own last step ({n})")


def _determinism(case: Case) -> None:
    first, second = case.build(seed=case.seed), case.build(seed=case.seed)
    params_a, params_b = first.state_dict(), second.state_dict()
    if params_a.keys() != params_b.keys() or not all(torch.equal(params_a[k], params_b[k]) for k in params_a):
        raise case.fail("two models built under the same seed have different weights "
                        "(initialise only from torch's global generator)")
    x, other = case.inputs(), case.inputs(seed=2)
    with torch.no_grad():
        y_a, s_a = first(x)
        y_b, s_b = second(x)
        first(other)  # a model must keep no hidden state between calls
        y_c, s_c = first(x)
    _equal(case, y_b, y_a, "same seed, same input: outputs differ")
    _equal(case, s_b, s_a, "same seed, same input: states differ")
    _equal(case, y_c, y_a, "calling the same model again on the same input changes its outputs (hidden state?)")
    _equal(case, s_c, s_a, "calling the same model again on the same input changes its state")


def _gradients(case: Case) -> None:
    model = case.build().train()
    x = case.inputs().requires_grad_()
    start = None
    if not case.stateless:
        start = tree_map(lambda t: t.detach().requires_grad_(t.is_floating_point()),
                         model(case.inputs(seed=3, time=2))[1])
    y, state = model(x, start)
    gen = torch.Generator().manual_seed(5)  # random weights: no symmetric cancellation

    def weighted(t: Tensor) -> Tensor:
        return (t * torch.randn(t.shape, generator=gen).to(t.device)).sum()

    loss = weighted(y) + sum(weighted(leaf) for leaf in _leaves(state) if leaf.is_floating_point())
    loss.backward()
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        if param.grad is None:
            raise case.fail(f"parameter '{name}' gets no gradient (is it used in forward?)")
        if not bool(torch.isfinite(param.grad).all()) or not bool(param.grad.ne(0).any()):
            raise case.fail(f"parameter '{name}' gets a zero or non-finite gradient")
    if x.grad is None or not bool(x.grad.ne(0).any()):
        raise case.fail("no gradient reaches the input x (embeddings before the model could not learn)")
    for leaf in _leaves(start):
        if leaf.requires_grad and (leaf.grad is None or not bool(leaf.grad.ne(0).any())):
            raise case.fail("no gradient reaches the initial state (an encoder feeding it could not learn)")


def _detach_state(case: Case) -> None:
    model = case.build()
    history = case.inputs(seed=3).requires_grad_()
    _, state = model(history)
    detached = model.detach_state(state)
    _equal(case, detached, state, "detach_state changed the state's values")
    if any(leaf.requires_grad for leaf in _leaves(detached)):
        raise case.fail("detach_state must return tensors that do not require grad")
    y, _ = model(case.inputs(), detached)
    y.sum().backward()
    if history.grad is not None:
        raise case.fail("after detach_state, gradients still flow back into earlier inputs")


def _reorder_state(case: Case) -> None:
    model, x = case.build(), case.inputs()
    batch = x.shape[0]
    index = torch.tensor([batch - 1, 0, 0, *range(1, batch)], device=x.device)  # permute and repeat
    with torch.no_grad():
        _, state = model(case.inputs(seed=3))
        picked = model.reorder_state(state, index)
        _close(case, picked, _rows(model, state, index), f"reorder_state(state, {index.tolist()}) selects the wrong rows")
        y_r, s_r = model(x[index], picked)
        y, s = model(x, state)
    _close(case, y_r, y[index], "running from a reordered state differs from reordering the outputs")
    _close(case, s_r, _rows(model, s, index), "running from a reordered state differs from reordering the final state")


def _save_load(case: Case) -> None:
    from safetensors.torch import load_model, save_model

    saved, x = case.build(), case.inputs()
    restored = case.build(seed=case.seed + 1)
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "model.safetensors")
        save_model(saved, path)
        try:
            load_model(restored, path, strict=True, device=str(case.device))
        except RuntimeError as exc:
            raise case.fail(f"safetensors load_model into a fresh model failed: {exc}") from None
    restored.eval()
    with torch.no_grad():
        y, state = saved(x)
        y2, state2 = restored(x)
    _equal(case, y2, y, "after a safetensors save/load round trip, outputs differ (weights kept outside state_dict?)")
    _equal(case, state2, state, "after a safetensors save/load round trip, the state differs")


def _internals(case: Case) -> None:
    """Only for models that override ``Model.internals`` (``zoo inspect``); others pass."""
    model = case.build()
    if type(model).internals is Model.internals:
        return
    x = case.inputs()[:1]
    time = x.shape[1]
    with torch.no_grad():
        _, start = model(case.inputs(seed=3, time=2)[:1])  # a non-zero initial state
        y, _ = model(x, start)
        found = model.internals(x, start)
        cut = time // 2
        _, middle = model(x[:, :cut], start)
        first, second = model.internals(x[:, :cut], start), model.internals(x[:, cut:], middle)
    if not isinstance(found, dict) or not isinstance(found.get("h"), Tensor):
        raise case.fail("internals(x, state) must return a dict with 'h', a (time, units) tensor")
    units = found["h"].shape[-1]
    for name, value in found.items():
        if not isinstance(value, Tensor) or tuple(value.shape) != (time, units):
            got = tuple(value.shape) if isinstance(value, Tensor) else type(value).__name__
            raise case.fail(f"internals['{name}'] must be (time={time}, units={units}) like 'h', got {got}")
        if not bool(torch.isfinite(value).all()):
            raise case.fail(f"internals['{name}'] has non-finite values")
        if name.startswith("gate.") and not (bool((value >= 0).all()) and bool((value <= 1).all())):
            raise case.fail(f"internals['{name}'] is a gate: its values must lie in [0, 1]")
        if name not in ("h", "c") and not name.startswith("gate."):
            raise case.fail(f"internals key '{name}' is none of 'h', 'c', 'gate.NAME'")
    if units < model.output_size:
        raise case.fail(f"internals['h'] has {units} units, fewer than output_size={model.output_size}")
    _close(case, found["h"][:, units - model.output_size :], y[0],
           "the last output_size units of internals['h'] (the top layer) differ from forward's outputs")
    if set(first) != set(found) or set(second) != set(found):
        raise case.fail("internals returns different keys for different inputs")
    for name in found:
        _close(case, torch.cat([first[name], second[name]]), found[name],
               f"internals['{name}'] over two chunks (state carried) differ from the whole sequence")


def _memory(case: Case) -> None:
    memory = case.memory
    if memory is None:
        raise case.fail("check_memory applies only to a finite-memory model (memory = M)")
    model, time = case.build(), 2 * memory + 3
    x = case.inputs(time=time)
    early = x.clone()
    early[:, 0] += 1 + case.inputs(seed=6, time=1)[:, 0]  # change only the first input
    with torch.no_grad():
        y, state = model(x)
        y_early, _ = model(early)
        if not bool(torch.isclose(y_early[:, memory], y[:, memory], atol=case.atol, rtol=case.rtol).logical_not().any()):
            raise case.fail(f"declares memory {memory}, but the output at step {memory} does not depend on "
                            f"the input at step 0 (declare the memory the model really has)")
        zero = model.zero_state(x.shape[0], x.device, x.dtype)
        if _shapes(zero) != _shapes(state):
            raise case.fail(f"after {time} steps the state has shapes {_shapes(state)}, not zero_state's "
                            f"{_shapes(zero)} (a finite memory keeps a fixed shape)")
        cuts = [0, 1, memory + 1, memory + 3, time]  # chunks of 1, M, 2 and the rest: the memory wraps
        pieces, carried = [], None
        for a, b in zip(cuts[:-1], cuts[1:], strict=True):
            y_c, carried = model(x[:, a:b], carried)
            pieces.append(y_c)
        stepped, s_step = [], None
        for t in range(time):
            y_t, s_step = model.step(x[:, t], s_step)
            stepped.append(y_t)
    _close(case, torch.cat(pieces, dim=1), y, f"over {time} steps (memory {memory}), outputs of chunks "
           f"{cuts} with the state carried differ from the whole sequence")
    _close(case, carried, state, f"over {time} steps (memory {memory}), the state after chunks differs from the whole sequence's")
    _close(case, torch.stack(stepped, dim=1), y, f"over {time} steps (memory {memory}), step() differs from forward")
    _close(case, s_step, state, f"over {time} steps (memory {memory}), the state after step() differs from forward's")


def applies(check: str, model: type[Model] | str | Case, config: Any = None, **options: Any) -> bool:
    """Does check ``check`` (a key of ``CHECKS``) apply to what the model declares?"""
    if check not in CHECKS:
        raise ValueError(f"unknown check {check!r}; valid: {', '.join(CHECKS)}")
    case = model if isinstance(model, Case) else make_case(model, config, **options)
    if check in _STATE_CHECKS:
        return not case.stateless
    if check == "memory":
        return not case.stateless and case.memory is not None
    if check == "internals":
        return case.model_cls.internals is not Model.internals
    return True


def _public(check: Callable[[Case], None], doc: str) -> Callable[..., None]:
    name = check.__name__.lstrip("_")

    def run(model: type[Model] | str | Case, config: Any = None, **options: Any) -> None:
        case = model if isinstance(model, Case) else make_case(model, config, **options)
        if name in _STATE_CHECKS and case.stateless:
            raise case.fail(f"check '{name}' does not apply to a stateless model (see zoo.testing.applies)")
        with one_thread():
            check(case)

    run.__name__ = run.__qualname__ = "check_" + name
    run.__doc__ = doc + "\n\nArguments as ``check_model`` (or one ``Case``); raises AssertionError."
    return run


check_output_shapes = _public(_output_shapes, "Outputs are (batch, time, output_size); zero_state and step agree with forward.")
check_state_carry = _public(_state_carry, "Two chunks with the carried state equal the whole sequence; None means zero_state.")
check_step = _public(_step, "step() through the sequence equals forward over it, outputs and final state.")
check_lengths = _public(_lengths, "With lengths, each row equals running it alone, outputs past its length are zero.")
check_determinism = _public(_determinism, "Same seed, same weights and outputs; no hidden state between calls.")
check_gradients = _public(_gradients, "Gradients reach every parameter, the input and the initial state.")
check_detach_state = _public(_detach_state, "detach_state keeps values and cuts the graph to earlier inputs.")
check_reorder_state = _public(_reorder_state, "reorder_state selects and repeats batch rows of the state.")
check_save_load = _public(_save_load, "A safetensors save_model/load_model round trip gives identical results.")
check_internals = _public(_internals, "Model.internals (if overridden): h, c, gates per step, consistent with forward.")
check_memory = _public(_memory, "A finite memory M: fixed-shape state; step M sees step 0; chunks and steps over 2M+3 steps equal one run.")

CHECKS: dict[str, Callable[..., None]] = {
    "output_shapes": check_output_shapes,
    "state_carry": check_state_carry,
    "step": check_step,
    "lengths": check_lengths,
    "determinism": check_determinism,
    "gradients": check_gradients,
    "detach_state": check_detach_state,
    "reorder_state": check_reorder_state,
    "save_load": check_save_load,
    "internals": check_internals,
    "memory": check_memory,
}

_STATE_CHECKS = frozenset({"state_carry", "step", "detach_state", "reorder_state"})
"""Checks of what a model does with its state: they do not apply to a stateless model."""


def check_model(
    model: type[Model] | str, config: Any = None, *, skip: Iterable[str] = (), **options: Any
) -> None:
    """Run every contract check and raise one AssertionError listing each failure.

    ``model`` is a ``zoo.Model`` subclass with its ``config`` instance, or a registered model
    name (``config`` then None for the defaults, or a dict of settings). ``options`` set the
    ``Case``: ``input_size``, ``batch_size``, ``time``, ``device``, ``seed``, ``atol``, ``rtol``.
    ``skip`` names checks (keys of ``CHECKS``) to leave out; checks that do not apply to what
    the model declares (``applies``) are left out too.
    """
    skip = set(skip)
    unknown = skip - CHECKS.keys()
    if unknown:
        raise ValueError(f"unknown checks {sorted(unknown)}; valid: {', '.join(CHECKS)}")
    case = make_case(model, config, **options)
    failures: list[str] = []
    first: BaseException | None = None
    ran = 0
    for name, check in CHECKS.items():
        if name in skip or not applies(name, case):
            continue
        ran += 1
        try:
            check(case)
        except AssertionError as exc:
            failures.append(f"[{name}] {str(exc).removeprefix(case.name + ': ')}")
            first = first or exc
        except Exception as exc:  # noqa: BLE001 - a crash is a failed check too
            failures.append(f"[{name}] raised {type(exc).__name__}: {exc}")
            first = first or exc
    if failures:
        raise AssertionError(
            f"{case.name} fails {len(failures)} of {ran} model contract checks:\n" + "\n".join(failures)
        ) from first
