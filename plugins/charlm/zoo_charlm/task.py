"""The ``charlm`` task: model the next character of a text, then sample new text from it.

Training follows char-rnn: the training text is cut into B contiguous streams and step N feeds
window ``N mod windows_per_epoch`` of every stream, so the state the engine carries from one step
to the next is the true context of the next window (truncated back-propagation through time).
"""

from __future__ import annotations

import codecs
import math
import random
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from zoo import (
    Backbone,
    Batch,
    Metric,
    Probe,
    RunOptions,
    Shard,
    State,
    StepOutput,
    Steps,
    Task,
    ZooError,
    mask_rows,
    unwrap,
)
from zoo_charlm.config import CharLMConfig
from zoo_charlm.data import load_tokens

EVAL_STREAMS = 16
"""Validation runs as this many contiguous streams (fixed, so the metric does not depend on the
training batch size); each starts from a zero state and carries it to its end."""

EVAL_CHUNK = 512
ENWIK8_SPLIT = (0.9, 0.05)
"""Train and validation shares of ``split=enwik8``; the rest is the test split (90M/5M/5M)."""
DEFAULT_LENGTH = 500
TOY_STEPS_PER_EPOCH = 10
"""A text too short for a held-out split is one window: a pass over it would be one step, so one
"epoch" is this many steps (the default 10 epochs are then 100 updates, a few seconds)."""


class CharLMNet(nn.Module):
    """Character input (embedding or one-hot) -> backbone -> linear head over the vocabulary
    (or, with ``head=none``, the backbone's outputs themselves as the scores)."""

    def __init__(self, vocab_size: int, config: CharLMConfig, backbone: Backbone) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        self.embed = nn.Embedding(vocab_size, config.embedding_size) if config.input == "embedding" else None
        self.backbone = backbone(config.embedding_size if self.embed is not None else vocab_size)
        self.head: nn.Module = nn.Linear(self.backbone.output_size, vocab_size)
        self.drop = nn.Dropout(config.io_dropout)
        normed = config.output_norm and config.head != "none"  # head=none: the raw outputs are the scores
        self.norm: nn.Module = nn.LayerNorm(self.backbone.output_size) if normed else nn.Identity()
        self.tied = config.head == "tied"
        if self.tied:
            if self.embed is None:
                raise ZooError("head=tied shares the embedding matrix: it needs input=embedding")
            self.head = nn.Linear(self.backbone.output_size, config.embedding_size, bias=False)
            self.head_bias = nn.Parameter(torch.zeros(vocab_size))
            # the embedding is now also the output matrix: unit-variance rows would start the
            # scores far from uniform (an initial loss of 9 nats instead of ln(vocab))
            nn.init.normal_(self.embed.weight, std=config.embedding_size**-0.5)
        if config.head == "none":
            if self.backbone.output_size != vocab_size:
                raise ZooError(
                    f"head=none: the backbone's outputs are the character scores, so its output size "
                    f"({self.backbone.output_size}) must equal the vocabulary size; add --set hidden_size={vocab_size}"
                )
            self.head = nn.Identity()

    def features(self, ids: Tensor) -> Tensor:
        if self.embed is not None:
            return self.drop(self.embed(ids))
        return self.drop(F.one_hot(ids, self.vocab_size).to(next(self.backbone.parameters()).dtype))

    def forward(self, ids: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """Logits (batch, time, vocab) for character ids (batch, time), and the state after them."""
        y, state = self.backbone(self.features(ids), state)
        return self.scores(y), state

    def step(self, ids: Tensor, state: State | None) -> tuple[Tensor, State]:
        """One character per row: ids (batch,) -> logits (batch, vocab), new state."""
        y, state = self.backbone.step(self.features(ids), state)
        return self.scores(y), state

    def scores(self, y: Tensor) -> Tensor:
        """Character scores from the backbone's outputs."""
        y = self.head(self.drop(self.norm(y)))
        return F.linear(y, self.embed.weight, self.head_bias) if self.tied else y


class CharLMTask(Task):
    stateful = True
    train_defaults = {
        # Tuned for a 2-core CPU (docs/benchmarks.md, "charlm"): many small updates at a high rate
        # beat fewer large ones for the same characters seen. The budget is ten passes over the
        # text: about 40 s for the built-in corpus on 2 cores, and it scales with any other corpus.
        "batch_size": 32,
        "lr": 1e-2,
        # with output_norm, these took tinyshakespeare from 1.494 to 1.44 nats/char at equal
        # compute (mean of 3 seeds; docs/benchmarks.md, "charlm quality at nanoGPT's time")
        "weight_decay": 0.1,
        "min_lr_ratio": 0.03,
        "epochs": 10,
        "eval_every": 1000,
        "log_every": 50,
        "grad_clip": 1.0,
        "warmup": 50,
        # Four samples over the default budget (~2,000 steps on the built-in corpus), each a
        # 500-character generation: well under 2% of the run (bench/sample_overhead.py).
        "sample_every": 500,
    }
    model_defaults = {"hidden_size": 256, "num_layers": 1, "forget_bias": None}
    """forget_bias None keeps torch's small random gate biases: a forget bias of 1 let the cell
    state of the carried streams grow large and cost 0.03-0.05 nats/char on tinyshakespeare."""
    run_options = frozenset({"length", "temperature", "top_k", "seed"})
    pipeline_tag = "text-generation"
    example_input = "ROMEO:"

    config: CharLMConfig

    def __init__(self, config: CharLMConfig) -> None:
        super().__init__(config)
        self.chars: str = ""
        self.index: dict[str, int] = {}
        empty = np.empty(0, dtype=np.uint8)
        self.train_ids: np.ndarray = empty
        """Training ids: a view of the memory-mapped token cache (uint8/uint16), never copied."""
        self.val_ids: np.ndarray = empty
        self.test_ids: np.ndarray = empty
        self.seed = 0
        self._digest = ""
        self.window = config.window
        self.toy = False
        """True for a text too short for a held-out split: trained and evaluated on all of it."""

    @property
    def primary_metric(self) -> Metric:
        return Metric("val_loss", "min")

    # -- data and vocabulary -------------------------------------------------------------------
    def prepare(self, seed: int) -> None:
        c = self.config
        tokens = load_tokens(c.data, extensions=c.extensions, max_file_mb=c.max_file_mb, on_bad_file=c.on_bad_file,
                             units=c.units)
        ids = tokens.ids
        n = len(ids)
        if c.split == "enwik8":
            n_train, n_val = int(n * ENWIK8_SPLIT[0]), int(n * ENWIK8_SPLIT[1])
        else:
            n_val = max(2, int(n * c.val_fraction))
            n_train = n - n_val
        held = "5% validation and 5% test" if c.split == "enwik8" else f"{c.val_fraction:.0%} validation"
        self._set_vocabulary(tokens.chars)
        if n_train < c.window + 1 or n_val < 2:
            if n < 2:
                raise ZooError(f"data: the text has {n} character; a language model needs at least 2")
            # A toy text (the lecture's "hihello"): no held-out split, train and evaluate on all of it.
            self.toy, self.window = True, min(c.window, n - 1)
            self.train_ids = self.val_ids = ids
            self.test_ids = ids[:0]
            print(f"charlm: the text has {n} characters, too short for {c.window}-character windows plus "
                  f"{held}: training on all of it in windows of {self.window} and evaluating on the "
                  f"training text (no held-out split)", file=sys.stderr, flush=True)
        else:
            self.train_ids = ids[:n_train]
            self.val_ids = ids[n_train : n_train + n_val]
            self.test_ids = ids[n_train + n_val :] if c.split == "enwik8" else ids[:0]
        self.seed = seed
        self._digest = tokens.sha256[:16]

    def _set_vocabulary(self, chars: str) -> None:
        self.chars = chars
        self.index = {c: i for i, c in enumerate(chars)}

    def encode(self, text: str) -> Tensor:
        """Character ids of ``text`` (with ``units=bytes``, the ids of its UTF-8 bytes); ZooError
        naming the first characters not in the vocabulary."""
        if self.config.units == "bytes":
            return self._ids(text.encode("utf-8").decode("latin-1"), "byte")
        return self._ids(text, "character")

    def _ids(self, symbols: str, unit: str) -> Tensor:
        """Ids of vocabulary symbols (characters, or bytes as the characters U+0000-U+00FF)."""
        unknown = [c for c in dict.fromkeys(symbols) if c not in self.index]
        if unknown and unit == "byte":
            shown = ", ".join(f"0x{ord(c):02x}" for c in unknown[:5]) + (", ..." if len(unknown) > 5 else "")
            raise ZooError(f"byte(s) {shown} of the input are not in the model's vocabulary of "
                           f"{len(self.chars)} bytes (the bytes of its training text)")
        if unknown:
            shown = ", ".join(repr(c) for c in unknown[:5]) + (", ..." if len(unknown) > 5 else "")
            which = f"character {shown} is" if len(unknown) == 1 else f"characters {shown} are"
            raise ZooError(
                f"{which} not in the model's vocabulary of {len(self.chars)} characters "
                f"(the characters of its training text)"
            )
        return torch.tensor([self.index[c] for c in symbols], dtype=torch.long)

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
        if self.toy:
            return TOY_STEPS_PER_EPOCH
        if self.config.batching == "random":
            return max(1, (len(self.train_ids) - 1) // (batch_size * self.config.window))
        return self._stream_layout(batch_size)[1]

    def batch(self, step: int, batch_size: int, shard: Shard) -> Batch:
        rows = shard.rows(batch_size)
        window = self.window
        if self.toy or self.config.batching == "random":
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + step)
            high = len(self.train_ids) - window
            if high < 1:
                raise ZooError(f"charlm: the training text is shorter than one window of {window} (+1)")
            starts = torch.randint(0, high, (batch_size,), generator=g)[rows].numpy()
        else:
            per_stream, windows = self._stream_layout(batch_size)
            streams = torch.arange(batch_size)[rows]
            starts = streams.numpy() * per_stream + (step % windows) * window
        # a few hundred characters gathered from the memory map: the cost does not grow with the corpus
        chunk = torch.from_numpy(self.train_ids[starts[:, None] + np.arange(window + 1)].astype(np.int64))
        out = {"x": chunk[:, :-1], "y": chunk[:, 1:]}
        if self.streams and self.config.reset_every:
            out["keep"] = ((step + streams) % self.config.reset_every != 0).float()
        return out

    @property
    def streams(self) -> bool:
        """Whether batches continue contiguous streams (state carried from step to step)."""
        return self.config.batching == "streams" and not self.toy

    def loss(self, net: nn.Module, batch: Batch, state: State | None) -> StepOutput:
        if not self.streams:
            state = None
        elif state is not None and "keep" in batch:
            state = mask_rows(state, batch["keep"], unwrap(net).backbone.state_batch_dim)
        logits, state = net(batch["x"], state)
        x, y = logits, batch["y"]
        if self.config.loss == "last":  # only the character after the window counts
            x, y = logits[:, -1:], y[:, -1:]
        loss = F.cross_entropy(x.reshape(-1, x.shape[-1]).float(), y.reshape(-1))
        return StepOutput(loss=loss, tokens=y.numel(), state=state if self.streams else None)

    @torch.no_grad()
    def evaluate(self, net: nn.Module, device: torch.device) -> dict[str, float]:
        """Loss over every character of the validation split (and the test split of
        ``split=enwik8``), evaluated statefully: the end of a run and ``zoo eval``."""
        metrics = self._metrics(net, device, "val", self.val_ids, None)
        if len(self.test_ids) > 1:
            metrics.update(self._metrics(net, device, "test", self.test_ids, None))
        return metrics

    @torch.no_grad()
    def evaluate_bounded(self, net: nn.Module, device: torch.device) -> dict[str, float] | None:
        """Evaluation during training: at most ``val_chars`` validation characters, so its cost
        does not grow with the corpus. None (the full evaluation) when the split is that small.

        The bounded pass runs the same 16 streams as the full one, each cut to its first
        ``val_chars / 16`` characters: 16 pieces evenly spaced over the split rather than one
        contiguous prefix, so a corpus whose end differs from its start (a directory of files,
        a dump sorted by topic) is sampled throughout, at the price of 16 zero-state starts.
        """
        cap = self.config.val_chars
        if not cap or (len(self.val_ids) - 1 <= cap and len(self.test_ids) <= 1):
            return None
        per_stream = max(1, cap // EVAL_STREAMS)
        metrics = self._metrics(net, device, "val", self.val_ids, per_stream)
        metrics["val_chars"] = float(min(len(self.val_ids) - 1, per_stream * EVAL_STREAMS))
        return metrics

    def _metrics(self, net: nn.Module, device: torch.device, name: str, ids: np.ndarray,
                 per_stream: int | None) -> dict[str, float]:
        was_training = net.training
        net.eval()
        try:
            total, count = _stateful_nll(net, ids, 1 if self.toy else EVAL_STREAMS, device, per_stream)
        finally:
            net.train(was_training)
        nats = total / count
        return {f"{name}_loss": nats, f"{name}_bpc": nats / math.log(2)}

    # -- sampling ------------------------------------------------------------------------------
    def run(self, net: nn.Module, text: str, options: RunOptions) -> Iterator[str]:
        """Echo the prompt, then stream ``length`` sampled characters, one network step each."""
        prompt = self.encode(text) if text else self._ids(_primer(self.chars), "symbol")
        length = DEFAULT_LENGTH if options.length is None else options.length
        seed = options.seed if options.seed is not None else random.randrange(2**62)
        device = next(net.parameters()).device
        generator = torch.Generator(device).manual_seed(seed)
        yield text
        # units=bytes: sampled bytes become text as soon as they complete a UTF-8 character
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace") if self.config.units == "bytes" else None
        for ids in generate(net, prompt[None].to(device), length, options.temperature, options.top_k, generator):
            symbol = self.chars[int(ids[0])]
            yield symbol if decoder is None else decoder.decode(symbol.encode("latin-1"))
        if decoder is not None:
            yield decoder.decode(b"", final=True)


    # -- inspection and samples during training ------------------------------------------------
    def steps(self, net: nn.Module, text: str) -> Steps:
        """Each character of ``text``, the prediction after it and the character that follows."""
        ids = self.encode(text)
        model = unwrap(net)
        device = next(model.parameters()).device
        x = model.features(ids[None].to(device))
        y, _ = model.backbone(x, None)
        targets: list[int | None] = [*ids[1:].tolist(), None]
        return Steps(list(text), model.scores(y)[0], list(self.chars), targets, Probe(model.backbone, x))

    def sample_prompt(self) -> str | None:
        """Samples during training start from nothing (a newline), like ``zoo run`` without a prompt."""
        return ""


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


def _stateful_nll(net: nn.Module, ids: np.ndarray, streams: int, device: torch.device,
                  per_stream: int | None = None) -> tuple[float, int]:
    """Summed negative log-likelihood of ``ids[1:]`` given everything before it in its stream,
    and the number of characters scored.

    The text is cut into ``streams`` contiguous pieces run side by side; the characters left
    over by an uneven cut continue the last stream from its carried state. With ``per_stream``,
    only each piece's first ``per_stream`` characters are scored (and no leftover). The ids are
    read from ``ids`` (a memory map) one chunk at a time, so memory stays bounded.
    """
    targets = len(ids) - 1
    streams = max(1, min(streams, targets))
    per = targets // streams
    limit = per if per_stream is None else min(per, per_stream)
    offsets = np.arange(streams)[:, None] * per
    total, state = 0.0, None
    for start in range(0, limit, EVAL_CHUNK):
        pos = offsets + np.arange(start, min(start + EVAL_CHUNK, limit) + 1)
        window = _tensor(ids[pos], device)
        logits, state = net(window[:, :-1], state)
        total += _nll(logits, window[:, 1:])
    if limit < per:
        return total, streams * limit
    rest = targets - streams * per
    if rest:
        last = unwrap(net).backbone.reorder_state(state, torch.tensor([streams - 1], device=device))
        tail = _tensor(ids[streams * per :][None], device)
        logits, _ = net(tail[:, :-1], last)
        total += _nll(logits, tail[:, 1:])
    return total, targets


def _tensor(ids: np.ndarray, device: torch.device) -> Tensor:
    return torch.from_numpy(np.asarray(ids, dtype=np.int64)).to(device)


def _nll(logits: Tensor, targets: Tensor) -> float:
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), targets.reshape(-1), reduction="sum").item()
