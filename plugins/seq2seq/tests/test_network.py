"""The network: padding changes nothing, attention weights are a distribution over real positions."""

from __future__ import annotations

import pytest
import torch
from zoo_seq2seq.data import PAD
from zoo_seq2seq.decode import beam_search, greedy
from zoo_seq2seq.network import Seq2SeqNet
from zoo_seq2seq.task import encode_batch

ATTENTIONS = ["none", "dot", "general", "additive"]
VOCAB = 12


def make_net(tiny, attention: str, seed: int = 0) -> Seq2SeqNet:
    torch.manual_seed(seed)
    return Seq2SeqNet(tiny(16), VOCAB, 8, attention).eval()


ROWS = [([3, 4, 5], [6, 7]), ([8, 9, 10, 11, 3, 4, 9], [5]), ([11], [3, 3, 3])]


@pytest.mark.parametrize("attention", ATTENTIONS)
def test_padding_changes_nothing(tiny, attention: str) -> None:
    """A source alone and the same source padded inside a batch: same encoding, logits, decode."""
    net = make_net(tiny, attention)
    batch = encode_batch(ROWS)
    assert (batch["source"][0, 3:] == PAD).all()  # row 0 really is padded
    with torch.no_grad():
        memory, state = net.encode(batch["source"], batch["source_lengths"])
        logits = net(batch["source"], batch["source_lengths"], batch["target_in"])
        batched = greedy(net, batch["source"], batch["source_lengths"], max_length=6)
        for i, row in enumerate(ROWS):
            alone = encode_batch([row])
            m1, s1 = net.encode(alone["source"], alone["source_lengths"])
            n = len(row[0])
            torch.testing.assert_close(m1.outputs[0], memory.outputs[i, :n], rtol=1e-5, atol=1e-6)
            assert (memory.outputs[i, n:] == 0).all()
            torch.testing.assert_close(s1[:, 0], state[:, i], rtol=1e-5, atol=1e-6)
            t = len(row[1]) + 1
            logits1 = net(alone["source"], alone["source_lengths"], alone["target_in"])
            torch.testing.assert_close(logits1[0], logits[i, :t], rtol=1e-5, atol=1e-5)
            assert greedy(net, alone["source"], alone["source_lengths"], max_length=6)[0].tokens == batched[i].tokens


@pytest.mark.parametrize("attention", ["dot", "general", "additive"])
def test_attention_weights_sum_to_one_over_real_positions(tiny, attention: str) -> None:
    net = make_net(tiny, attention)
    batch = encode_batch(ROWS)
    memory, state = net.encode(batch["source"], batch["source_lengths"])
    hidden, _ = net.decoder(net.target_embedding(batch["target_in"]), state)
    _, weights = net.readout(hidden, memory)
    lengths = batch["source_lengths"]
    assert weights.shape == (3, batch["target_in"].shape[1], batch["source"].shape[1])
    torch.testing.assert_close(weights.sum(-1), torch.ones(weights.shape[:2]))
    for i, n in enumerate(lengths.tolist()):
        assert (weights[i, :, n:] == 0).all() and (weights[i, :, :n] > 0).all()


@pytest.mark.parametrize("attention", ATTENTIONS)
def test_every_attention_variant_learns_a_batch(tiny, attention: str) -> None:
    """Each variant's parameters get gradients and a few steps fit a fixed batch."""
    net = make_net(tiny, attention).train()
    batch = encode_batch(ROWS)
    opt = torch.optim.Adam(net.parameters(), lr=0.05)

    def loss() -> torch.Tensor:
        logits = net(batch["source"], batch["source_lengths"], batch["target_in"])
        return torch.nn.functional.cross_entropy(logits.flatten(0, 1), batch["target_out"].flatten(), ignore_index=PAD)

    first = loss()
    first.backward()
    if net.attention is not None:
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in net.attention.parameters())
    for _ in range(25):
        opt.zero_grad()
        value = loss()
        value.backward()
        opt.step()
    with torch.no_grad():
        assert float(loss()) < 0.3 * float(first)


def test_teacher_forcing_below_one_feeds_predictions(tiny) -> None:
    """At ratio 0 the decoder sees its own argmax, so logits differ from teacher forcing, and
    they match a manual step-by-step run fed the same predictions."""
    net = make_net(tiny, "general").train()
    batch = encode_batch(ROWS)
    forced = net(batch["source"], batch["source_lengths"], batch["target_in"], teacher_forcing=1.0)
    free = net(batch["source"], batch["source_lengths"], batch["target_in"], teacher_forcing=0.0)
    assert forced.shape == free.shape
    torch.testing.assert_close(free[:, 0], forced[:, 0])  # first step starts from <s> either way
    memory, state = net.encode(batch["source"], batch["source_lengths"])
    token = batch["target_in"][:, 0]
    for t in range(free.shape[1]):
        logits, state = net.decode_step(token, state, memory)
        torch.testing.assert_close(logits, free[:, t])
        token = logits.argmax(-1)
    assert not torch.allclose(forced, free)


@pytest.mark.parametrize("model", ["rnn", "lstm", "gru"])
def test_first_party_backbones_ignore_padding_and_beam_search(model: str) -> None:
    """The installed rnn/lstm/gru (the LSTM's state is an (h, c) pair): padding changes neither
    the decoder's initial state nor the decode, and beam search reorders their states."""
    from zoo.testing import current

    if model not in current().models:
        pytest.skip(f"model '{model}' is not installed")
    component = current().model(model)
    model_cls, config = component.load(), component.config(hidden_size=16)
    torch.manual_seed(0)
    net = Seq2SeqNet(lambda n: model_cls(n, config), VOCAB, 8, "dot").eval()
    batch = encode_batch(ROWS)
    with torch.no_grad():
        _, state = net.encode(batch["source"], batch["source_lengths"])
        batched = greedy(net, batch["source"], batch["source_lengths"], max_length=6)
        for i, row in enumerate(ROWS):
            alone = encode_batch([row])
            _, single = net.encode(alone["source"], alone["source_lengths"])
            for part, whole in zip(_leaves(single), _leaves(state), strict=True):
                torch.testing.assert_close(part[:, 0], whole[:, i], rtol=1e-5, atol=1e-6)
            assert greedy(net, alone["source"], alone["source_lengths"], 6)[0].tokens == batched[i].tokens
            hyp = beam_search(net, alone["source"], alone["source_lengths"], 3, 6)
            assert hyp.score >= batched[i].score - 1e-5


def _leaves(state: object) -> list[torch.Tensor]:
    return list(state) if isinstance(state, tuple) else [state]  # type: ignore[arg-type]
