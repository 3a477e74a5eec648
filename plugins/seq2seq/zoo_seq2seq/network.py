"""The encoder-decoder network: embeddings, two backbones, optional attention and a linear head.

The encoder reads the padded source with ``lengths``, so each row's final state (which becomes
the decoder's initial state) and its outputs ignore padding. The decoder is the same architecture
with its own weights. With attention, each decoder output queries the encoder outputs (padding
masked out) and the context is mixed into the output before the head - Luong's "attentional
hidden state" ``tanh(W [context; h])``, with dot, general (Luong) or additive (Bahdanau) scores.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

import zoo
from zoo_seq2seq.data import BOS, PAD

AttentionKind = str  # "none" | "dot" | "general" | "additive"


@dataclass
class Memory:
    """What the decoder may look at: encoder outputs, their attention keys and the padding mask."""

    outputs: Tensor  # (batch, source_time, hidden)
    keys: Tensor  # (batch, source_time, hidden): outputs projected once for the chosen score
    mask: Tensor  # (batch, source_time) bool, True at real (non-pad) positions

    def select(self, index: Tensor) -> Memory:
        """Rows ``index`` (beam search repeats and reorders sources)."""
        return Memory(self.outputs[index], self.keys[index], self.mask[index])


class Attention(nn.Module):
    """Scores of a decoder query against every source position, softmaxed over real positions."""

    def __init__(self, kind: AttentionKind, size: int) -> None:
        super().__init__()
        if kind not in ("dot", "general", "additive"):
            raise ValueError(f"unknown attention {kind!r}")
        self.kind = kind
        if kind == "general":
            self.weight = nn.Linear(size, size, bias=False)
        if kind == "additive":
            self.query = nn.Linear(size, size, bias=False)
            self.key = nn.Linear(size, size)
            self.score = nn.Linear(size, 1, bias=False)

    def keys(self, outputs: Tensor) -> Tensor:
        """Project the encoder outputs once per source, not once per decoder step."""
        if self.kind == "general":
            return self.weight(outputs)
        if self.kind == "additive":
            return self.key(outputs)
        return outputs

    def forward(self, query: Tensor, memory: Memory) -> tuple[Tensor, Tensor]:
        """Context (batch, time, hidden) and weights (batch, time, source_time) for queries (batch, time, hidden)."""
        if self.kind == "additive":
            mixed = torch.tanh(self.query(query)[:, :, None, :] + memory.keys[:, None, :, :])
            scores = self.score(mixed).squeeze(-1)
        else:
            scores = query @ memory.keys.transpose(1, 2)
        scores = scores.masked_fill(~memory.mask[:, None, :], float("-inf"))
        weights = torch.softmax(scores, dim=-1)
        return weights @ memory.outputs, weights


class Seq2SeqNet(nn.Module):
    """Encoder and decoder backbones around shared-vocabulary character embeddings."""

    def __init__(
        self, backbone: Callable[[int], zoo.Model], vocab_size: int, embedding_size: int, attention: AttentionKind
    ) -> None:
        super().__init__()
        self.source_embedding = nn.Embedding(vocab_size, embedding_size, padding_idx=PAD)
        self.target_embedding = nn.Embedding(vocab_size, embedding_size, padding_idx=PAD)
        self.encoder = backbone(embedding_size)
        self.decoder = backbone(embedding_size)
        hidden = self.decoder.output_size
        if self.encoder.output_size != hidden:
            raise ValueError("encoder and decoder backbones must have the same output size")
        self.attention = Attention(attention, hidden) if attention != "none" else None
        self.combine = nn.Linear(2 * hidden, hidden) if self.attention is not None else None
        self.head = nn.Linear(hidden, vocab_size)
        never = torch.zeros(vocab_size, dtype=torch.bool)
        never[[PAD, BOS]] = True  # targets never contain them, so decoding may never produce them
        self.register_buffer("never", never, persistent=False)

    def encode(self, source: Tensor, lengths: Tensor) -> tuple[Memory, Any]:
        """Read right-padded ``source`` (batch, time); returns the memory and the decoder's initial state."""
        outputs, state = self.encoder(self.source_embedding(source), None, lengths)
        mask = torch.arange(source.shape[1], device=source.device)[None, :] < lengths.to(source.device)[:, None]
        keys = self.attention.keys(outputs) if self.attention is not None else outputs
        return Memory(outputs, keys, mask), state

    def readout(self, hidden: Tensor, memory: Memory) -> tuple[Tensor, Tensor | None]:
        """Logits (batch, time, vocab) from decoder outputs, and the attention weights (or None)."""
        weights = None
        if self.attention is not None and self.combine is not None:
            context, weights = self.attention(hidden, memory)
            hidden = torch.tanh(self.combine(torch.cat([context, hidden], dim=-1)))
        return self.head(hidden).masked_fill(self.never, float("-inf")), weights

    def decode_step(self, token: Tensor, state: Any, memory: Memory) -> tuple[Tensor, Any]:
        """One decoder step from the previous tokens (batch,): logits (batch, vocab) and the new state."""
        hidden, state = self.decoder.step(self.target_embedding(token), state)
        logits, _ = self.readout(hidden[:, None], memory)
        return logits[:, 0], state

    def forward(
        self, source: Tensor, source_lengths: Tensor, target_in: Tensor, teacher_forcing: float = 1.0
    ) -> Tensor:
        """Training logits (batch, target_time, vocab) for ``target_in`` = start token + target.

        With ``teacher_forcing`` < 1 in training mode, each row's next input is, with probability
        1 - teacher_forcing, the decoder's own previous prediction instead of the true token.
        """
        memory, state = self.encode(source, source_lengths)
        if not self.training or teacher_forcing >= 1.0:
            hidden, _ = self.decoder(self.target_embedding(target_in), state)
            return self.readout(hidden, memory)[0]
        token, steps = target_in[:, 0], []
        for t in range(target_in.shape[1]):
            logits, state = self.decode_step(token, state, memory)
            steps.append(logits)
            if t + 1 < target_in.shape[1]:
                gold = torch.rand(token.shape, device=token.device) < teacher_forcing
                token = torch.where(gold, target_in[:, t + 1], logits.argmax(-1))
        return torch.stack(steps, dim=1)


def unwrap(net: nn.Module) -> Seq2SeqNet:
    """The Seq2SeqNet behind DistributedDataParallel or torch.compile wrappers."""
    plain = zoo.unwrap(net)
    if not isinstance(plain, Seq2SeqNet):
        raise TypeError(f"expected a seq2seq network, got {type(plain).__name__}")
    return plain
