"""Real training: each model learns a task that needs memory across truncated-BPTT chunks."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from zoo_rnn.config import GRUConfig, LSTMConfig, RNNConfig
from zoo_rnn.models import GRU, LSTM, ElmanRNN

import zoo.testing

DELAY, CHUNK = 2, 5


def _bits(gen: torch.Generator, batch: int, time: int) -> torch.Tensor:
    return torch.randint(0, 2, (batch, time, 1), generator=gen).float() * 2 - 1


def _stream_accuracy(model, head, x: torch.Tensor, carry: bool) -> float:
    """Predict x_(t-DELAY) chunk by chunk, carrying the state between chunks or restarting it."""
    outputs, state = [], None
    with torch.no_grad():
        for start in range(0, x.shape[1], CHUNK):
            y, state = model(x[:, start : start + CHUNK], state if carry else None)
            outputs.append(head(y))
    guess = torch.cat(outputs, dim=1)[:, DELAY:] > 0
    return (guess == (x[:, :-DELAY] > 0)).float().mean().item()


@pytest.mark.parametrize(
    "model_cls, config",
    [
        (ElmanRNN, RNNConfig(hidden_size=16)),
        (ElmanRNN, RNNConfig(hidden_size=16, nonlinearity="identity")),
        (LSTM, LSTMConfig(hidden_size=16)),
        (GRU, GRUConfig(hidden_size=16)),
    ],
    ids=["rnn-tanh", "rnn-identity", "lstm", "gru"],
)
def test_learns_a_delay_across_truncated_bptt_chunks(model_cls, config) -> None:
    """Output the input from DELAY steps back; targets at a chunk's start need the carried state."""
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    model, head = model_cls(1, config), nn.Linear(config.hidden_size, 1)
    optimizer = torch.optim.Adam([*model.parameters(), *head.parameters()], lr=0.02)
    with zoo.testing.one_thread():
        state, previous = None, _bits(gen, 32, DELAY)
        for _ in range(200):
            x = _bits(gen, 32, CHUNK)
            target = torch.cat([previous, x], dim=1)[:, :CHUNK] > 0
            y, state = model(x, state)
            loss = nn.functional.binary_cross_entropy_with_logits(head(y), target.float())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            state, previous = model.detach_state(state), x[:, -DELAY:]
        x = _bits(gen, 64, 4 * CHUNK)
        carried, restarted = _stream_accuracy(model, head, x, True), _stream_accuracy(model, head, x, False)
    assert carried > 0.95
    # Restarting the state each chunk loses the DELAY positions after every boundary.
    assert carried - restarted > 0.05
