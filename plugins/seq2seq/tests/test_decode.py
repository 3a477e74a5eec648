"""Decoding: beam 1 is greedy, wider beams never score worse than greedy, scores are honest."""

from __future__ import annotations

import pytest
import torch
from zoo_seq2seq.data import BOS, EOS, PAD
from zoo_seq2seq.decode import Hypothesis, beam_search, greedy
from zoo_seq2seq.network import Seq2SeqNet

VOCAB = 6  # pad, start, end and three symbols: few tokens make greedy and beam disagree often


def sequence_score(net: Seq2SeqNet, source: torch.Tensor, tokens: tuple[int, ...]) -> float:
    """Sum of log-probabilities of ``tokens`` under teacher forcing: an independent recount."""
    target_in = torch.tensor([[BOS, *tokens[:-1]]])
    logits = net(source, torch.tensor([source.shape[1]]), target_in)
    log_probs = torch.log_softmax(logits[0], dim=-1)
    return float(log_probs[torch.arange(len(tokens)), torch.tensor(tokens)].sum())


def random_case(tiny, seed: int, attention: str) -> tuple[Seq2SeqNet, torch.Tensor]:
    torch.manual_seed(seed)
    net = Seq2SeqNet(tiny(8), VOCAB, 4, attention).eval()
    with torch.no_grad():  # sharpen the head so sequences end and probabilities are uneven
        net.head.weight.mul_(6.0)
        net.head.bias[EOS] += 1.0
    source = torch.randint(3, VOCAB, (1, int(torch.randint(1, 6, ()))))
    return net, source


@pytest.mark.parametrize("attention", ["none", "additive"])
def test_beam_one_is_greedy(tiny, attention: str) -> None:
    for seed in range(10):
        net, source = random_case(tiny, seed, attention)
        length = torch.tensor([source.shape[1]])
        assert beam_search(net, source, length, 1, 8) == greedy(net, source, length, 8)[0]


@pytest.mark.parametrize("attention", ["none", "general"])
def test_wider_beams_never_score_worse_than_greedy(tiny, attention: str) -> None:
    found_better = 0
    for seed in range(40):
        net, source = random_case(tiny, seed, attention)
        length = torch.tensor([source.shape[1]])
        best_greedy = greedy(net, source, length, 8)[0]
        with torch.no_grad():
            assert best_greedy.score == pytest.approx(sequence_score(net, source, best_greedy.tokens), abs=1e-4)
            for beam in (2, 3, 5):
                hyp = beam_search(net, source, length, beam, 8)
                assert hyp.score == pytest.approx(sequence_score(net, source, hyp.tokens), abs=1e-4)
                assert hyp.score >= best_greedy.score - 1e-5
                assert len(hyp.tokens) <= 8 and EOS not in hyp.tokens[:-1]
                assert not {PAD, BOS} & set(hyp.tokens + best_greedy.tokens)  # never emitted
                found_better += hyp.score > best_greedy.score + 1e-4
    assert found_better > 0  # the cases are hard enough for beam search to matter


def test_beam_search_finds_the_best_short_sequence_exhaustively(tiny) -> None:
    """With a beam as wide as all live prefixes, the search is exact over sequences of <= 3 tokens."""
    net, source = random_case(tiny, 3, "dot")
    length = torch.tensor([source.shape[1]])
    symbols = [3, 4, 5]
    candidates = [(EOS,)] + [(a, EOS) for a in symbols] + [(a, b, EOS) for a in symbols for b in symbols]
    candidates += [(a, b, c) for a in symbols for b in symbols for c in symbols]  # truncated at 3
    with torch.no_grad():
        best = max((Hypothesis(c, sequence_score(net, source, c)) for c in candidates), key=lambda h: h.score)
    assert beam_search(net, source, length, 9, 3).tokens == best.tokens
