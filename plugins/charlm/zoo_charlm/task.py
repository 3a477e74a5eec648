"""The ``charlm`` task: model the next character of a text, then sample new text from it.

Training follows char-rnn: the training text is cut into B contiguous streams and step N feeds
window ``N mod windows_per_epoch`` of every stream, so the state the engine carries from one step
to the next is the true context of the next window (truncated back-propagation through time).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from zoo import (
    Backbone,
    Batch,
    Metric,
    RunOptions,
    Shard,
    State,
    StepOutput,
    Task,
    ZooError,
    mask_rows,
    unwrap,
)
from zoo_charlm.config import CharLMConfig
from zoo_charlm.data import load_text

EVAL_STREAMS = 16
"""Validation runs as this many contiguous streams (fixed, so the metric does not depend on the
training batch size); each starts from a zero state and carries it to its end."""

EVAL_CHUNK = 512
DEFAULT_LENGTH = 500


class CharLMNet(nn.Module):
    """Character input (embedding or one-hot) -> backbone -> linear head over the vocabulary."""

    def __init__(self, vocab_size: int, config: CharLMConfig, backbone: Backbone) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        self.embed = nn.Embedding(vocab_size, config.embedding_size) if config.input == "embedding" else None
        self.backbone = backbone(config.embedding_size if self.embed is not None else vocab_size)
        self.head = nn.Linear(self.backbone.output_size, vocab_size)

    def features(self, ids: Tensor) -> Tensor:
        if self.embed is not None:
            return self.embed(ids)
        return F.one_hot(ids, self.vocab_size).to(self.head.weight.dtype)

    def forward(self, ids: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """Logits (batch, time, vocab) for character ids (batch, time), and the state after them."""
        y, state = self.backbone(self.features(ids), state)
        return self.head(y), state

    def step(self, ids: Tensor, state: State | None) -> tuple[Tensor, State]:
        """One character per row: ids (batch,) -> logits (batch, vocab), new state."""
        y, state = self.backbone.step(self.features(ids), state)
        return self.head(y), state


class CharLMTask(Task):
    stateful = True
    train_defaults = {
        # Tuned for a 2-core CPU (docs/benchmarks.md, "charlm"): many small updates at a high rate
        # beat fewer large ones for the same characters seen. The budget is ten passes over the
        # text: about 40 s for the built-in corpus on 2 cores, and it scales with any other corpus.
        "batch_size": 32,
        "lr": 1e-2,
        "epochs": 10,
        "eval_every": 1000,
        "log_every": 50,
        "grad_clip": 1.0,
        "warmup": 50,
    }
    model_defaults = {"hidden_size": 256, "num_layers": 1, "forget_bias": None}
    """forget_bias None keeps torch's small random gate biases: a forget bias of 1 let the cell
    state of the carried streams grow large and cost 0.03-0.05 nats/char on tinyshakespeare."""
    run_options = frozenset({"length", "temperature", "top_k", "seed"})

    config: CharLMConfig

    def __init__(self, config: CharLMConfig) -> None:
        super().__init__(config)
        self.chars: str = ""
        self.index: dict[str, int] = {}
        self.train_ids = torch.empty(0, dtype=torch.long)
        self.val_ids = torch.empty(0, dtype=torch.long)
        self.seed = 0
        self._digest = ""

    @property
    def primary_metric(self) -> Metric:
        return Metric("val_loss", "min")

    # -- data and vocabulary -------------------------------------------------------------------
    def prepare(self, seed: int) -> None:
        import hashlib

        text = load_text(self.config.data)
        n_val = max(2, int(len(text) * self.config.val_fraction))
        n_train = len(text) - n_val
        if n_train < self.config.window + 1:
            raise ZooError(
                f"data: the text has {len(text)} characters, too short for one training window of "
                f"{self.config.window} (+1) characters plus {self.config.val_fraction:.0%} validation; "
                f"use a longer text or a smaller window (--set window=N)"
            )
        self._set_vocabulary("".join(sorted(set(text))))
        ids = self.encode(text)
        self.train_ids, self.val_ids = ids[:n_train], ids[n_train:]
        self.seed = seed
        self._digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    def _set_vocabulary(self, chars: str) -> None:
        self.chars = chars
        self.index = {c: i for i, c in enumerate(chars)}

    def encode(self, text: str) -> Tensor:
        """Character ids of ``text``; ZooError naming the first character not in the vocabulary."""
        unknown = [c for c in dict.fromkeys(text) if c not in self.index]
        if unknown:
            shown = ", ".join(repr(c) for c in unknown[:5]) + (", ..." if len(unknown) > 5 else "")
            which = f"character {shown} is" if len(unknown) == 1 else f"characters {shown} are"
            raise ZooError(
                f"{which} not in the model's vocabulary of {len(self.chars)} characters "
                f"(the characters of its training text)"
            )
        return torch.tensor([self.index[c] for c in text], dtype=torch.long)

    def state_dict(self) -> dict[str, Any]:
        return {"chars": self.chars}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        chars = state.get("chars")
        if not isinstance(chars, str) or not chars:
            raise ZooError("config.json: vocabulary.chars must be a non-empty string")
        self._set_vocabulary(chars)

    def fingerprint(self) -> str:
        return self._digest

    # -- network -------------------------------------------------------------------------------
    def build(self, backbone: Backbone) -> nn.Module:
        if not self.chars:
            raise ZooError("charlm: no vocabulary yet (call prepare or load_state_dict first)")
        return CharLMNet(len(self.chars), self.config, backbone)

    # -- training ------------------------------------------------------------------------------
    def _stream_layout(self, batch_size: int) -> tuple[int, int]:
        """(characters per stream, windows per epoch) for ``batch_size`` streams."""
        per_stream = len(self.train_ids) // batch_size
        windows = (per_stream - 1) // self.config.window
        if windows < 1:
            raise ZooError(
                f"charlm: {len(self.train_ids)} training characters cannot feed {batch_size} streams "
                f"of {self.config.window}-character windows; lower --batch-size or --set window=N"
            )
        return per_stream, windows

    def steps_per_epoch(self, batch_size: int) -> int | None:
        if self.config.batching == "random":
            return max(1, (len(self.train_ids) - 1) // (batch_size * self.config.window))
        return self._stream_layout(batch_size)[1]

    def batch(self, step: int, batch_size: int, shard: Shard) -> Batch:
        rows = shard.rows(batch_size)
        window = self.config.window
        if self.config.batching == "random":
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + step)
            high = len(self.train_ids) - window
            if high < 1:
                raise ZooError(f"charlm: the training text is shorter than one window of {window} (+1)")
            starts = torch.randint(0, high, (batch_size,), generator=g)[rows]
        else:
            per_stream, windows = self._stream_layout(batch_size)
            streams = torch.arange(batch_size)[rows]
            starts = streams * per_stream + (step % windows) * window
        pos = starts[:, None] + torch.arange(window + 1)
        chunk = self.train_ids[pos]
        out = {"x": chunk[:, :-1], "y": chunk[:, 1:]}
        if self.config.batching == "streams" and self.config.reset_every:
            out["keep"] = ((step + streams) % self.config.reset_every != 0).float()
        return out

    def loss(self, net: nn.Module, batch: Batch, state: State | None) -> StepOutput:
        if self.config.batching == "random":
            state = None
        elif state is not None and "keep" in batch:
            state = mask_rows(state, batch["keep"], unwrap(net).backbone.state_batch_dim)
        logits, state = net(batch["x"], state)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), batch["y"].reshape(-1))
        keep = state if self.config.batching == "streams" else None
        return StepOutput(loss=loss, tokens=batch["y"].numel(), state=keep)

    @torch.no_grad()
    def evaluate(self, net: nn.Module, device: torch.device) -> dict[str, float]:
        """Validation loss over every character of the validation split, evaluated statefully."""
        was_training = net.training
        net.eval()
        try:
            total, count = _stateful_nll(net, self.val_ids.to(device), EVAL_STREAMS)
        finally:
            net.train(was_training)
        nats = total / count
        return {"val_loss": nats, "val_bpc": nats / math.log(2)}

    # -- sampling ------------------------------------------------------------------------------
    def run(self, net: nn.Module, text: str, options: RunOptions) -> Iterator[str]:
        """Echo the prompt, then stream ``length`` sampled characters, one network step each."""
        prompt = self.encode(text) if text else self.encode(_primer(self.chars))
        length = DEFAULT_LENGTH if options.length is None else options.length
        seed = options.seed if options.seed is not None else random.randrange(2**62)
        device = next(net.parameters()).device
        generator = torch.Generator(device).manual_seed(seed)
        yield text
        for ids in generate(net, prompt[None].to(device), length, options.temperature, options.top_k, generator):
            yield self.chars[int(ids[0])]


def _primer(chars: str) -> str:
    """What an empty prompt starts from (not echoed): a newline, as at the start of a paragraph."""
    return "\n" if "\n" in chars else chars[0]


def generate(
    net: nn.Module,
    prompt: Tensor,
    length: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    generator: torch.Generator | None = None,
) -> Iterator[Tensor]:
    """Sample ``length`` characters for each row of ``prompt`` (streams, chars): yields (streams,)
    ids. The prompt runs once as a sequence; after that each character costs one ``step``."""
    if temperature <= 0:
        raise ZooError("temperature must be positive")
    with torch.inference_mode():
        logits, state = net(prompt, None)
        logits = logits[:, -1]
        for i in range(length):
            scaled = logits.float() / temperature
            if top_k is not None and top_k < scaled.shape[-1]:
                kth = torch.topk(scaled, top_k, dim=-1).values[:, -1:]
                scaled = scaled.masked_fill(scaled < kth, float("-inf"))
            ids = torch.multinomial(torch.softmax(scaled, dim=-1), 1, generator=generator)[:, 0]
            yield ids
            if i + 1 < length:
                logits, state = _one_step(net, ids, state)


def _one_step(net: nn.Module, ids: Tensor, state: State) -> tuple[Tensor, State]:
    """``net.step`` on the native CPU kernels: oneDNN's recurrent primitive (torch's CPU default)
    re-packs the weights on every call, which costs several times a single time step's work."""
    mkldnn = torch.backends.mkldnn
    before = mkldnn.enabled
    mkldnn.enabled = False
    try:
        return net.step(ids, state)
    finally:
        mkldnn.enabled = before


def _stateful_nll(net: nn.Module, ids: Tensor, streams: int) -> tuple[float, int]:
    """Summed negative log-likelihood of ``ids[1:]`` given everything before it in its stream.

    The text is cut into ``streams`` contiguous pieces run side by side; the characters left
    over by an uneven cut continue the last stream from its carried state.
    """
    targets = len(ids) - 1
    streams = max(1, min(streams, targets))
    per = targets // streams
    x = ids[: streams * per].view(streams, per)
    y = ids[1 : streams * per + 1].view(streams, per)
    total, state = 0.0, None
    for start in range(0, per, EVAL_CHUNK):
        logits, state = net(x[:, start : start + EVAL_CHUNK], state)
        total += _nll(logits, y[:, start : start + EVAL_CHUNK])
    rest = targets - streams * per
    if rest:
        last = unwrap(net).backbone.reorder_state(state, torch.tensor([streams - 1], device=ids.device))
        logits, _ = net(ids[streams * per : targets][None], last)
        total += _nll(logits, ids[streams * per + 1 :][None])
    return total, targets


def _nll(logits: Tensor, targets: Tensor) -> float:
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), targets.reshape(-1), reduction="sum").item()
