"""The model contract suite (zoo.testing): run over every installed model, and proven able to fail.

Every model registered by any installed plugin is checked here, one test per (model, check), with
its registered config's defaults. The second half builds a tiny correct model on the public API
and broken variants of it, each of which must be caught by the check that guards the property.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import torch
from torch import nn

import zoo
import zoo.plugins
import zoo.testing
from zoo.config import build
from zoo.plugins import Zoo, current

INSTALLED = current().models  # captured at collection: tests that swap the zoo cannot hide models


@pytest.mark.parametrize("check", list(zoo.testing.CHECKS))
@pytest.mark.parametrize("name", sorted(INSTALLED))
def test_installed_model_meets_contract(name: str, check: str) -> None:
    component = INSTALLED[name]
    config = build(component.config, {}, owner=f"model '{name}'")
    if not zoo.testing.applies(check, component.load(), config):
        pytest.skip(f"'{check}' does not apply to what model '{name}' declares")
    zoo.testing.CHECKS[check](component.load(), config)


# -- a small correct model, and models that break one rule each ----------------------------------


@dataclass
class TinyConfig:
    hidden_size: int = zoo.option(4, "units")


class TinyRNN(zoo.Model):
    """h_t = tanh(W x_t + U h_(t-1)) by hand, ``lengths`` through zoo.masked_scan."""

    def __init__(self, input_size: int, config: TinyConfig) -> None:
        super().__init__(input_size, config)
        self.cell = nn.RNNCell(input_size, config.hidden_size)
        self.output_size = config.hidden_size

    def zero_state(self, batch_size, device=None, dtype=None):
        return torch.zeros(1, batch_size, self.config.hidden_size, device=device, dtype=dtype)

    def forward(self, x, state=None, lengths=None):
        if lengths is not None:
            return zoo.masked_scan(self, x, state, lengths)
        h = self.initial(x, state)[0]
        outputs = []
        for t in range(x.shape[1]):
            h = self.cell(x[:, t], h)
            outputs.append(h)
        return torch.stack(outputs, dim=1), h[None]

    def initial(self, x, state):
        return self.zero_state(x.shape[0], x.device, x.dtype) if state is None else state


class ForgetsState(TinyRNN):
    def forward(self, x, state=None, lengths=None):
        return super().forward(x, None, lengths)


class IgnoresLengths(TinyRNN):
    def forward(self, x, state=None, lengths=None):
        return super().forward(x, state)


class StepIgnoresState(TinyRNN):
    def step(self, x_t, state=None):
        return super().step(x_t, None)


class KeepsHiddenState(TinyRNN):
    """Continues from its previous call when given no state: a classic stateful-layer bug."""

    def forward(self, x, state=None, lengths=None):
        if state is None and getattr(self, "last", None) is not None and self.last.shape[1] == x.shape[0]:
            state = self.last
        y, state = super().forward(x, state, lengths)
        self.last = state.detach()
        return y, state


class UnusedParameter(TinyRNN):
    def __init__(self, input_size, config):
        super().__init__(input_size, config)
        self.unused = nn.Parameter(torch.ones(3))


class DetachKeepsGraph(TinyRNN):
    def detach_state(self, state):
        return state


class ReorderIgnoresIndex(TinyRNN):
    def reorder_state(self, state, index):
        return state


class UnsavedWeights(TinyRNN):
    """A random buffer outside the state_dict: a saved file cannot reproduce the model."""

    def __init__(self, input_size, config):
        super().__init__(input_size, config)
        self.register_buffer("scale", torch.rand(config.hidden_size) + 0.5, persistent=False)

    def forward(self, x, state=None, lengths=None):
        y, state = super().forward(x, state, lengths)
        return y * self.scale, state


class WrongOutputSize(TinyRNN):
    def __init__(self, input_size, config):
        super().__init__(input_size, config)
        self.output_size = config.hidden_size + 1


class TinyConv(zoo.Model):
    """Stateless: y_t = tanh(A x_t + B x_(t-1)) within the sequence given, no state across calls."""

    carries_state = False

    def __init__(self, input_size: int, config: TinyConfig) -> None:
        super().__init__(input_size, config)
        self.now = nn.Linear(input_size, config.hidden_size)
        self.before = nn.Linear(input_size, config.hidden_size, bias=False)
        self.output_size = config.hidden_size

    def forward(self, x, state=None, lengths=None):
        previous = torch.cat([torch.zeros_like(x[:, :1]), x[:, :-1]], dim=1)
        y = torch.tanh(self.now(x) + self.before(previous))
        if lengths is not None:
            real = torch.arange(x.shape[1])[None, :] < lengths[:, None]
            y = y * real[..., None].to(y.dtype)
        return y, None


class TinyWindow(zoo.Model):
    """Finite memory M=3: y_t = tanh(W [x_(t-3) .. x_t]); the state is the last 3 inputs."""

    def __init__(self, input_size: int, config: TinyConfig) -> None:
        super().__init__(input_size, config)
        self.memory = 3
        self.mix = nn.Linear(4 * input_size, config.hidden_size)
        self.output_size = config.hidden_size

    def zero_state(self, batch_size, device=None, dtype=None):
        return torch.zeros(1, batch_size, self.memory, self.input_size, device=device, dtype=dtype)

    def forward(self, x, state=None, lengths=None):
        if lengths is not None:
            return zoo.masked_scan(self, x, state, lengths)
        if state is None:
            state = self.zero_state(x.shape[0], x.device, x.dtype)
        seen = torch.cat([state[0], x], dim=1)
        windows = seen.unfold(1, 4, 1).transpose(2, 3).flatten(2)  # (batch, time, 4 * input)
        return torch.tanh(self.mix(windows)), self.keep(seen)[None]

    def keep(self, seen):
        return seen[:, -self.memory :]


class StatelessReturnsState(TinyConv):
    def forward(self, x, state=None, lengths=None):
        y, _ = super().forward(x, state, lengths)
        return y, y[:, -1][None]


class GrowingMemory(TinyWindow):
    """Declares a finite memory but keeps every input: its state grows with the sequence."""

    def keep(self, seen):
        return seen[:, -self.memory :] if seen.shape[1] <= 7 else seen


class ShortOfItsMemory(TinyWindow):
    """Declares memory 3, yet its window sees only 2 steps back."""

    def __init__(self, input_size, config):
        super().__init__(input_size, config)
        with torch.no_grad():
            self.mix.weight[:, :input_size] = 0  # the oldest of the 4 inputs never counts


def test_a_correct_model_passes_every_check() -> None:
    zoo.testing.check_model(TinyRNN, TinyConfig(), input_size=2)


@pytest.mark.parametrize("model", [TinyConv, TinyWindow], ids=lambda m: m.__name__)
def test_stateless_and_finite_memory_models_pass_the_checks_that_apply(model: type) -> None:
    zoo.testing.check_model(model, TinyConfig(), input_size=2)


def test_checks_follow_the_declaration() -> None:
    applies = [name for name in zoo.testing.CHECKS if zoo.testing.applies(name, TinyRNN, TinyConfig())]
    assert applies == [name for name in zoo.testing.CHECKS if name not in ("memory", "internals")]
    stateless = [name for name in zoo.testing.CHECKS if zoo.testing.applies(name, TinyConv, TinyConfig())]
    assert stateless == ["output_shapes", "lengths", "determinism", "gradients", "save_load"]
    assert all(zoo.testing.applies(name, TinyWindow, TinyConfig()) for name in zoo.testing.CHECKS if name != "internals")
    assert zoo.testing.applies("internals", ReportsInternals, TinyConfig())  # only models that report them
    with pytest.raises(AssertionError, match="does not apply to a stateless model"):
        zoo.testing.check_state_carry(TinyConv, TinyConfig())
    with pytest.raises(AssertionError, match="applies only to a finite-memory model"):
        zoo.testing.check_memory(TinyRNN, TinyConfig())


@pytest.mark.parametrize(
    "broken, check, says",
    [
        (ForgetsState, "state_carry", "two chunks"),
        (IgnoresLengths, "lengths", "with lengths"),
        (StepIgnoresState, "step", "step()"),
        (KeepsHiddenState, "determinism", "calling the same model again"),
        (UnusedParameter, "gradients", "parameter 'unused' gets no gradient"),
        (DetachKeepsGraph, "detach_state", "require grad"),
        (ReorderIgnoresIndex, "reorder_state", "selects the wrong rows"),
        (UnsavedWeights, "save_load", "save/load round trip"),
        (WrongOutputSize, "output_shapes", "(batch, time, output_size)"),
        (StatelessReturnsState, "output_shapes", "must return None as its state"),
        (GrowingMemory, "memory", "a finite memory keeps a fixed shape"),
        (ShortOfItsMemory, "memory", "does not depend on the input at step 0"),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else None,
)
def test_each_check_catches_the_bug_it_guards(broken: type, check: str, says: str) -> None:
    correct = next(c for c in (TinyRNN, TinyConv, TinyWindow) if issubclass(broken, c))
    zoo.testing.CHECKS[check](correct, TinyConfig())  # the correct model passes this check...
    with pytest.raises(AssertionError) as info:
        zoo.testing.CHECKS[check](broken, TinyConfig())  # ...and the broken one fails it
    assert says in str(info.value)
    assert broken.__qualname__ in str(info.value)


def test_check_model_reports_every_failing_check_at_once() -> None:
    with pytest.raises(AssertionError) as info:
        zoo.testing.check_model(ForgetsState, TinyConfig())
    message = str(info.value)
    assert "ForgetsState fails" in message
    assert "[state_carry]" in message and "[step]" in message and "[save_load]" not in message


def test_check_model_can_skip_checks() -> None:
    with pytest.raises(AssertionError, match=r"UnusedParameter fails 1 of 9 .*\n\[gradients\]"):
        zoo.testing.check_model(UnusedParameter, TinyConfig())
    zoo.testing.check_model(UnusedParameter, TinyConfig(), skip=["gradients"])


def test_check_model_reports_a_crash_as_a_failure() -> None:
    class Crashes(TinyRNN):
        def reorder_state(self, state, index):
            raise RuntimeError("boom")

    with pytest.raises(AssertionError, match=r"\[reorder_state\] raised RuntimeError: boom"):
        zoo.testing.check_model(Crashes, TinyConfig())


class TinyPlugin:
    @zoo.hookimpl
    def register_models(self, register):
        register("tiny", TinyRNN, config=TinyConfig, summary="test model")


@pytest.fixture
def tiny_zoo():
    zoo.plugins.use(Zoo())
    current().add_plugin(TinyPlugin(), "tiny")
    yield current()
    zoo.plugins.use(None)


def test_models_are_named_as_registered_with_settings(tiny_zoo) -> None:
    zoo.testing.check_step("tiny", {"hidden_size": "3"}, time=5)
    zoo.testing.check_model("tiny")
    with pytest.raises(zoo.ZooError, match="unknown setting"):
        zoo.testing.check_step("tiny", {"hiden_size": 3})
    with pytest.raises(TypeError, match="config instance"):
        zoo.testing.check_model(TinyRNN)
    with pytest.raises(TypeError, match="config instance"):
        zoo.testing.check_model(TinyRNN, {"hidden_size": 3})
    with pytest.raises(ValueError, match="unknown checks"):
        zoo.testing.check_model(TinyRNN, TinyConfig(), skip=["speed"])


def test_the_tiny_backbone_offered_to_task_authors_honours_the_contract():
    zoo.testing.check_model(zoo.testing.TinyGRU, zoo.testing.TinyGRUConfig(hidden_size=4), input_size=3)


class ReportsInternals(TinyRNN):
    """Internals done right: the hidden states from one forward, and one made-up gate in [0, 1]."""

    def internals(self, x, state=None):
        y, _ = self(x, state)
        return {"h": y[0], "gate.open": torch.sigmoid(y[0])}


class InternalsForgetState(ReportsInternals):
    def internals(self, x, state=None):
        return super().internals(x, None)


class GateOutOfRange(ReportsInternals):
    def internals(self, x, state=None):
        found = super().internals(x, state)
        return {**found, "gate.open": found["h"] * 2}


class InternalsWrongShape(ReportsInternals):
    def internals(self, x, state=None):
        return {"h": self(x, state)[0]}  # (1, time, units): the batch dimension left in


@pytest.mark.parametrize(
    "broken, says",
    [(InternalsForgetState, "differ from forward's outputs"), (GateOutOfRange, "must lie in [0, 1]"),
     (InternalsWrongShape, "internals['h'] must be (time=7, units=4)")],
    ids=lambda v: v.__name__ if isinstance(v, type) else None,
)
def test_the_internals_check_catches_bad_internals(broken: type, says: str) -> None:
    zoo.testing.check_internals(ReportsInternals, TinyConfig())
    zoo.testing.check_internals(TinyRNN, TinyConfig())  # a model without internals has nothing to check
    with pytest.raises(AssertionError) as info:
        zoo.testing.check_internals(broken, TinyConfig())
    assert says in str(info.value)

