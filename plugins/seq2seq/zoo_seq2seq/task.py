"""The ``seq2seq`` task: learn to map source strings to target strings, character by character."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F

import zoo
from zoo_seq2seq.config import Seq2SeqConfig
from zoo_seq2seq.data import ALPHABETS, BOS, EOS, PAD, SPECIALS, Pairs, Vocab, load_pairs
from zoo_seq2seq.decode import beam_search, greedy
from zoo_seq2seq.network import Seq2SeqNet, unwrap

EVAL_BATCH = 500


class Seq2SeqTask(zoo.Task):
    """Encoder-decoder over characters; exact-match on held-out pairs is what counts."""

    train_defaults: ClassVar[dict[str, Any]] = {
        "batch_size": 64,
        "lr": 3e-3,
        "steps": 5000,
        "eval_every": 100,
        "log_every": 50,
        "grad_clip": 1.0,
    }
    model_defaults: ClassVar[dict[str, Any]] = {"hidden_size": 128}
    run_options: ClassVar[frozenset[str]] = frozenset({"beam", "max_length"})
    pipeline_tag: ClassVar[str | None] = "text2text-generation"
    _EXAMPLES: ClassVar[dict[str, str]] = {"antonyms": "king", "reverse": "hello", "addition": "123+45",
                                           "dates": "November 23, 2026"}

    @property  # type: ignore[override]
    def example_input(self) -> str:  # the built-in data sets' own examples; a user's file has none
        return self._EXAMPLES.get(self.config.data, "")

    def __init__(self, config: Seq2SeqConfig) -> None:
        super().__init__(config)
        self.pairs: Pairs | None = None
        self.vocab: Vocab | None = None
        self.max_source = 0
        self.max_target = 0
        self.seed = 0

    @property
    def primary_metric(self) -> zoo.Metric:
        return zoo.Metric("exact_match", "max", self.config.target)

    # -- data and vocabulary -----------------------------------------------------------------
    def prepare(self, seed: int) -> None:
        self.seed = seed
        self.pairs = load_pairs(self.config, seed)
        self.vocab = Vocab(set(self.pairs.chars()) | set(ALPHABETS.get(self.config.data, "")))
        self.max_source, self.max_target = self.pairs.longest()

    def state_dict(self) -> dict[str, Any]:
        return {"chars": self._vocab().chars, "max_source": self.max_source, "max_target": self.max_target}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        try:
            self.vocab = Vocab(state["chars"])
            self.max_source, self.max_target = int(state["max_source"]), int(state["max_target"])
        except (KeyError, TypeError, ValueError) as exc:
            raise zoo.ZooError(f"seq2seq vocabulary in config.json is incomplete or malformed ({exc})") from None

    def fingerprint(self) -> str:
        return self._pairs().digest()

    def _vocab(self) -> Vocab:
        if self.vocab is None:
            raise RuntimeError("call prepare() or load_state_dict() first")
        return self.vocab

    def _pairs(self) -> Pairs:
        if self.pairs is None:
            raise RuntimeError("call prepare() first")
        return self.pairs

    # -- network -------------------------------------------------------------------------------
    def build(self, backbone: zoo.Backbone) -> nn.Module:
        return Seq2SeqNet(backbone, len(self._vocab()), self.config.embedding_size, self.config.attention)

    # -- training ------------------------------------------------------------------------------
    def steps_per_epoch(self, batch_size: int) -> int | None:
        return -(-len(self._pairs().train) // batch_size)

    def batch(self, step: int, batch_size: int, shard: zoo.Shard) -> dict[str, Tensor]:
        """Rows ``step * batch_size ...`` of an endless stream of per-epoch shuffles of training."""
        train, vocab = self._pairs().train, self._vocab()
        n = len(train)
        positions = range(step * batch_size, (step + 1) * batch_size)[shard.rows(batch_size)]
        pairs = [train[int(_epoch_order(self.seed, pos // n, n)[pos % n])] for pos in positions]
        return encode_batch([(vocab.encode(s), vocab.encode(t)) for s, t in pairs])

    def loss(self, net: nn.Module, batch: dict[str, Tensor], state: Any) -> zoo.StepOutput:
        logits = net(batch["source"], batch["source_lengths"], batch["target_in"], self.config.teacher_forcing)
        target = batch["target_out"]
        loss = F.cross_entropy(logits.flatten(0, 1).float(), target.flatten(), ignore_index=PAD)
        return zoo.StepOutput(loss=loss, tokens=int((target != PAD).sum()))

    # -- evaluation ----------------------------------------------------------------------------
    @torch.no_grad()
    def evaluate(self, net: nn.Module, device: torch.device) -> dict[str, float]:
        """Greedy exact-match and token accuracy, and teacher-forced loss, on the held-out pairs."""
        return self._evaluate(net, device, self._pairs().held_out)

    @torch.no_grad()
    def evaluate_bounded(self, net: nn.Module, device: torch.device) -> dict[str, float] | None:
        """During training, at most ``eval_pairs`` held-out pairs, evenly spaced over them (a big
        file's held-out share can be 100,000 pairs); None (all of them) when there are fewer."""
        held, cap = self._pairs().held_out, self.config.eval_pairs
        if not cap or len(held) <= cap:
            return None
        picked = [held[int(i)] for i in np.linspace(0, len(held) - 1, cap).round().astype(int)]
        return {**self._evaluate(net, device, picked), "eval_pairs": float(cap)}

    @torch.no_grad()
    def _evaluate(self, net: nn.Module, device: torch.device, held: Sequence[tuple[str, str]]) -> dict[str, float]:
        model = unwrap(net)
        was_training = model.training
        model.eval()
        vocab = self._vocab()
        exact = correct = tokens = 0
        loss_sum = 0.0
        for start in range(0, len(held), EVAL_BATCH):
            chunk = held[start : start + EVAL_BATCH]
            rows = [(vocab.encode(s), vocab.encode(t)) for s, t in chunk]
            batch = {k: v.to(device) for k, v in encode_batch(rows).items()}
            logits = model(batch["source"], batch["source_lengths"], batch["target_in"])
            loss_sum += float(F.cross_entropy(
                logits.flatten(0, 1).float(), batch["target_out"].flatten(), ignore_index=PAD, reduction="sum"
            ))
            longest = max(len(t) for _, t in rows) + 1
            for (_, gold), hyp in zip(rows, greedy(model, batch["source"], batch["source_lengths"], longest),
                                      strict=True):
                want = [*gold, EOS]
                exact += list(hyp.tokens) == want
                correct += sum(a == b for a, b in zip(hyp.tokens, want, strict=False))
                tokens += len(want)
        model.train(was_training)
        return {
            "exact_match": exact / len(held),
            "token_accuracy": correct / tokens,
            "val_loss": loss_sum / tokens,
        }

    # -- inference -----------------------------------------------------------------------------
    def run(self, net: nn.Module, text: str, options: zoo.RunOptions) -> Iterator[str]:
        """Decode ``text`` greedily, or by beam search with ``--beam N``; yield the answer."""
        vocab, model = self._vocab(), unwrap(net)
        if not text:
            raise zoo.ZooError("empty input: give a source string, e.g. zoo run MODEL king")
        if len(text) > self.max_source:
            raise zoo.ZooError(
                f"input is {len(text)} characters long; this model reads at most {self.max_source}"
            )
        if options.beam < 1:
            raise zoo.ZooError(f"beam must be at least 1, got {options.beam}")
        ids = vocab.encode(text)
        max_length = options.max_length or 2 * self.max_target + 2
        device = next(model.parameters()).device
        source = torch.tensor([ids], dtype=torch.long, device=device)
        length = torch.tensor([len(ids)], dtype=torch.long, device=device)
        was_training = model.training
        model.eval()
        try:
            best = beam_search(model, source, length, options.beam, max_length)
        finally:
            model.train(was_training)
        yield vocab.decode(best.tokens)


    def steps(self, net: nn.Module, text: str) -> zoo.Steps:
        """One step per decoder step. ``SOURCE => TARGET`` scores the given target (teacher
        forcing: the true next character and the loss at each step); a plain ``SOURCE`` feeds
        the decoder its own greedy answer, with no truth to score."""
        source_text, arrow, target_text = text.partition(" => ")
        vocab, model = self._vocab(), unwrap(net)
        if not source_text:
            raise zoo.ZooError("empty input: give a source string, or SOURCE => TARGET")
        device = next(model.parameters()).device
        ids = vocab.encode(source_text)
        source = torch.tensor([ids], dtype=torch.long, device=device)
        length = torch.tensor([len(ids)], dtype=torch.long)
        if arrow:
            answer, targets = vocab.encode(target_text), [*vocab.encode(target_text), EOS]
        else:
            answer = [t for t in greedy(model, source, length, 2 * self.max_target + 2)[0].tokens if t != EOS]
            targets = [None] * (len(answer) + 1)
        memory, state = model.encode(source, length)
        feed = torch.tensor([[BOS, *answer]], dtype=torch.long, device=device)
        x = model.target_embedding(feed)
        hidden, _ = model.decoder(x, state)
        logits = model.readout(hidden, memory)[0][0]
        names = [*SPECIALS, *vocab.chars]
        return zoo.Steps([names[i] for i in feed[0].tolist()], logits, names, targets,
                         zoo.Probe(model.decoder, x, state))


@lru_cache(maxsize=4)
def _epoch_order(seed: int, epoch: int, n: int) -> Tensor:
    """The shuffled order of the training pairs in one epoch: a function of (seed, epoch) only
    (a tensor, not a list: a million-pair file would otherwise hold a million Python ints)."""
    generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return torch.randperm(n, generator=generator)


def encode_batch(rows: Sequence[tuple[list[int], list[int]]]) -> dict[str, Tensor]:
    """Right-padded tensors: source, its lengths, start+target (decoder input), target+end (labels)."""
    sources = [torch.tensor(s, dtype=torch.long) for s, _ in rows]
    target_in = [torch.tensor([BOS, *t], dtype=torch.long) for _, t in rows]
    target_out = [torch.tensor([*t, EOS], dtype=torch.long) for _, t in rows]
    pad = torch.nn.utils.rnn.pad_sequence
    return {
        "source": pad(sources, batch_first=True, padding_value=PAD),
        "source_lengths": torch.tensor([len(s) for s, _ in rows], dtype=torch.long),
        "target_in": pad(target_in, batch_first=True, padding_value=PAD),
        "target_out": pad(target_out, batch_first=True, padding_value=PAD),
    }
