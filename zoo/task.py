"""The task contract: data, encoding, network composition, loss, metrics and inference.

A Task is the unit a user trains (``zoo train TASK MODEL``). The core's engine drives every task
through the same few calls, so a char language model, a bit-serial adder, a pattern continuation
and an encoder-decoder all fit without special cases:

1. ``prepare(seed)`` loads or generates the data and builds the vocabulary (training, evaluation);
   ``load_state_dict(state)`` restores the vocabulary instead when only running a saved model.
2. ``build(backbone)`` composes one or more backbones (``backbone(input_size) -> zoo.Model``) with
   embeddings and heads into one ``nn.Module``.
3. ``batch(step, batch_size, shard)`` is a pure function of the step index: resuming a run at step
   N, or sharding it over ranks, needs no data-loader state.
4. ``loss(net, batch, state)`` runs the network by calling ``net(...)`` (it may be wrapped by
   DistributedDataParallel or torch.compile) and returns the mean loss and the token count.
5. ``evaluate(net, device)`` returns metrics, including ``primary_metric.name``, over all of the
   held-out data (the end of a run, ``zoo eval``); ``evaluate_bounded`` may return a cheaper
   estimate for the evaluations during training, whose cost must not grow with the corpus.
6. ``run(net, text, options)`` turns a user's input string into output text, streamed in pieces.
7. Optional: ``steps(net, text)`` runs the network once over an input for ``zoo inspect``, and
   ``sample_prompt()`` lets ``zoo train --sample-every`` show what ``run`` generates while training.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import torch
from torch import Tensor, nn

from zoo.inspection import Steps
from zoo.model import Model
from zoo.state import State

Backbone = Callable[[int], Model]
"""Builds a fresh backbone for a given input feature size (call it twice for two backbones)."""

Batch = dict[str, Tensor]
"""Named CPU tensors; the engine moves every tensor to the training device."""


@dataclass(frozen=True)
class Metric:
    """A task's primary metric: its name, whether lower or higher is better, and an optional target.

    Training stops early once an evaluation reaches ``target``.
    """

    name: str
    mode: Literal["min", "max"]
    target: float | None = None

    def better(self, a: float, b: float) -> bool:
        """Is ``a`` strictly better than ``b``?"""
        return a < b if self.mode == "min" else a > b

    def reached(self, value: float) -> bool:
        if self.target is None:
            return False
        return value <= self.target if self.mode == "min" else value >= self.target


@dataclass(frozen=True)
class Shard:
    """This process's share of a global batch under data parallelism (rank, world size)."""

    rank: int = 0
    world_size: int = 1

    def rows(self, batch_size: int) -> slice:
        """The contiguous rows of a global batch that belong to this rank."""
        if batch_size % self.world_size:
            raise ValueError(f"batch size {batch_size} is not divisible by world size {self.world_size}")
        per = batch_size // self.world_size
        return slice(self.rank * per, (self.rank + 1) * per)


@dataclass
class StepOutput:
    """What one training step's forward pass produced."""

    loss: Tensor
    tokens: int
    state: State | None = None


@dataclass(frozen=True)
class RunOptions:
    """Generic inference knobs from ``zoo run``; each task honours those in ``run_options``."""

    length: int | None = None
    temperature: float = 1.0
    top_k: int | None = None
    seed: int | None = None
    beam: int = 1
    max_length: int | None = None


class Task:
    """Base class of every registered task. Subclasses are built as ``TaskClass(config)``."""

    stateful: ClassVar[bool] = False
    """True when consecutive batches continue the same streams: the engine then carries the
    state returned by ``loss`` into the next step, detached (truncated BPTT)."""

    uses_state: ClassVar[bool] = True
    """True when the task passes a backbone's state on: across training windows (``stateful``),
    from an encoder to a decoder, or from step to step while generating. Only then does it need a
    model that carries state; set False for a task that runs every sequence whole from no state
    (a classifier, a tagger), and stateless models (``Model.carries_state = False``) fit it too."""

    train_defaults: ClassVar[dict[str, Any]] = {}
    """Engine settings that suit this task (batch_size, lr, steps, eval_every, ...); flags win."""

    model_defaults: ClassVar[dict[str, Any]] = {}
    """Backbone settings that suit this task (hidden_size, ...), applied only to fields the chosen
    model has and the user did not set."""

    run_options: ClassVar[frozenset[str]] = frozenset()
    """Names of the RunOptions fields ``run`` honours; others given on the command line are refused."""

    pipeline_tag: ClassVar[str | None] = None
    """The Hugging Face pipeline this task fits, if one does (``text-generation``,
    ``text-classification``...); the model card's YAML carries it so the Hub can file the model."""

    example_input: ClassVar[str] = ""
    """A real input to show in the model card's usage example (``zoo run REF "81+113"``)."""

    def __init__(self, config: Any) -> None:
        self.config = config

    # -- identity and data -------------------------------------------------------------
    @property
    def primary_metric(self) -> Metric:
        raise NotImplementedError

    def prepare(self, seed: int) -> None:
        """Load or generate the data and build the vocabulary. Raise ZooError on bad input."""
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """JSON-ready facts needed to rebuild the network and run it (vocabulary, sizes)."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what ``state_dict`` returned, without loading any data."""

    def fingerprint(self) -> str:
        """A short stable digest of the training data (recorded in config.json)."""
        return ""

    # -- network -------------------------------------------------------------------------
    def build(self, backbone: Backbone) -> nn.Module:
        raise NotImplementedError

    # -- training ------------------------------------------------------------------------
    def steps_per_epoch(self, batch_size: int) -> int | None:
        """Steps in one pass over the training data; None for endless generated data."""
        return None

    def batch(self, step: int, batch_size: int, shard: Shard) -> Batch:
        """The training batch for ``step`` (0-based); a pure function of (seed, step, shard)."""
        raise NotImplementedError

    def loss(self, net: nn.Module, batch: Batch, state: State | None) -> StepOutput:
        raise NotImplementedError

    @torch.no_grad()
    def evaluate(self, net: nn.Module, device: torch.device) -> dict[str, float]:
        """Metrics over all of the held-out data: the end of a run and ``zoo eval`` use these."""
        raise NotImplementedError

    def report_files(self) -> dict[str, bytes]:
        """Extra files about the latest evaluation (a confusion matrix, a plot) by file name.

        Written into the run folder beside the weights each time the run saves; the default adds none.
        """
        return {}

    @torch.no_grad()
    def evaluate_bounded(self, net: nn.Module, device: torch.device) -> dict[str, float] | None:
        """Metrics for an evaluation during training, on a bounded part of the held-out data, or
        None to use ``evaluate`` (the default: fine while the held-out data is small). Early
        stopping at the primary metric's target reads these; the run's final metrics are always
        ``evaluate``'s."""
        return None

    # -- inference -----------------------------------------------------------------------
    def run(self, net: nn.Module, text: str, options: RunOptions) -> Iterator[str]:
        """Answer a user's input. Yield output text in pieces (streamed to stdout)."""
        raise NotImplementedError

    # -- looking inside (optional) -------------------------------------------------------
    def steps(self, net: nn.Module, text: str) -> Steps:
        """For ``zoo inspect``: run ``net`` once over ``text`` and say, for every step, the token
        it read, its prediction (logits over ``classes``) and the class that truly comes next.

        Name the backbone to look inside with ``Steps.probe`` (the backbone, its input features
        for this sequence and its initial state). Raise ZooError for input the task cannot read.
        The default says the task does not support inspection.
        """
        from zoo.errors import ZooError

        raise ZooError(f"task {type(self).__name__} does not support zoo inspect (no Task.steps)")

    def sample_prompt(self) -> str | None:
        """The fixed prompt ``zoo train --sample-every N`` passes to ``run`` to show progress,
        or None (the default) when ``run`` does not generate."""
        return None

