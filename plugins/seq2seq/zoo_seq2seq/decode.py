"""Inference: greedy decoding (batched) and beam search, both scored by summed log-probability.

A hypothesis's score is the sum of the log-probabilities of its tokens, the end token included
when it was produced. No length normalisation: that is what makes "beam search never returns a
worse sequence than greedy" a checkable promise, which ``beam_search`` keeps by construction.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from zoo_seq2seq.data import BOS, EOS
from zoo_seq2seq.network import Seq2SeqNet


@dataclass(frozen=True)
class Hypothesis:
    """Decoded token ids (ending in EOS when finished) and their summed log-probability."""

    tokens: tuple[int, ...]
    score: float

    @property
    def finished(self) -> bool:
        return bool(self.tokens) and self.tokens[-1] == EOS


@torch.no_grad()
def greedy(net: Seq2SeqNet, source: Tensor, lengths: Tensor, max_length: int) -> list[Hypothesis]:
    """The most likely next token at every step, for a whole batch at once."""
    memory, state = net.encode(source, lengths)
    batch = source.shape[0]
    token = torch.full((batch,), BOS, dtype=torch.long, device=source.device)
    done = torch.zeros(batch, dtype=torch.bool, device=source.device)
    scores = torch.zeros(batch, device=source.device)
    steps = []
    for _ in range(max_length):
        logits, state = net.decode_step(token, state, memory)
        log_probs = torch.log_softmax(logits.float(), dim=-1)
        token = log_probs.argmax(-1)
        scores += torch.where(done, 0.0, log_probs.gather(1, token[:, None])[:, 0])
        steps.append(token)
        done |= token == EOS
        if bool(done.all()):
            break
    rows = torch.stack(steps, dim=1).tolist()
    return [Hypothesis(_until_end(row), float(score)) for row, score in zip(rows, scores.tolist(), strict=True)]


def _until_end(row: list[int]) -> tuple[int, ...]:
    return tuple(row[: row.index(EOS) + 1]) if EOS in row else tuple(row)


@torch.no_grad()
def beam_search(net: Seq2SeqNet, source: Tensor, length: Tensor, beam: int, max_length: int) -> Hypothesis:
    """The best-scoring hypothesis found by a beam of width ``beam`` for one source (1, time).

    Each step extends every live hypothesis by every token and keeps the ``beam`` best that do
    not end; those that end are set aside. Scores only fall as hypotheses grow, so once the best
    finished score reaches the best live one nothing can overtake it and the search stops. A
    narrow beam can still prune the greedy path, so the greedy answer is kept as a candidate:
    the result is never worse than greedy, and ``beam=1`` is exactly greedy.
    """
    best_greedy = greedy(net, source, length, max_length)[0]
    if beam == 1:
        return best_greedy
    memory, state = net.encode(source, length)
    device = source.device
    alive: list[tuple[int, ...]] = [()]
    scores = torch.zeros(1, device=device)
    rows = torch.zeros(1, dtype=torch.long, device=device)
    finished: list[Hypothesis] = []
    for _ in range(max_length):
        last = torch.tensor([h[-1] if h else BOS for h in alive], dtype=torch.long, device=device)
        logits, state = net.decode_step(last, state, memory.select(rows))
        total = scores[:, None] + torch.log_softmax(logits.float(), dim=-1)
        top_scores, top_index = total.flatten().topk(min(2 * beam, total.numel()))
        vocab = total.shape[1]
        keep, keep_scores, next_alive = [], [], []
        for score, index in zip(top_scores.tolist(), top_index.tolist(), strict=True):
            parent, token = divmod(index, vocab)
            tokens = (*alive[parent], token)
            if token == EOS:
                finished.append(Hypothesis(tokens, score))
            elif len(next_alive) < beam:
                keep.append(parent)
                keep_scores.append(score)
                next_alive.append(tokens)
        if not next_alive:
            alive = []
            break
        index = torch.tensor(keep, dtype=torch.long, device=device)
        state = net.decoder.reorder_state(state, index)
        rows, scores, alive = rows[index], torch.tensor(keep_scores, device=device), next_alive
        if finished and max(h.score for h in finished) >= max(keep_scores):
            break
    candidates = [*finished, *(Hypothesis(t, s) for t, s in zip(alive, scores.tolist(), strict=False)), best_greedy]
    return max(candidates, key=lambda h: h.score)
