"""minGRU: the GRU with its gates computed from the input alone (Feng et al. 2024,
"Were RNNs All We Needed?", arXiv:2410.01201).

    z_t = sigmoid(W_z x_t)            h~_t = g(W_h x_t)            h_t = (1 - z_t) h_{t-1} + z_t h~_t

Because neither z_t nor h~_t depends on h_{t-1}, a whole sequence is one linear recurrence
h_t = a_t h_{t-1} + b_t that a parallel scan computes in log space (the paper's Algorithm 4);
``step`` runs the same recurrence one token at a time for generation. ``g`` keeps h~ positive
(x + 0.5 for x >= 0, sigmoid(x) otherwise) so its logarithm exists.

What it gives up: the update is positive-diagonal in h, so a single layer cannot flip a bit
of its state on a 1 and keep it on a 0 - exactly what the parity task needs (see README.md).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

import zoo
from zoo_mingru.config import MinGRUConfig


def _g(x: Tensor) -> Tensor:
    return torch.where(x >= 0, x + 0.5, torch.sigmoid(x))


def _log_g(x: Tensor) -> Tensor:
    return torch.where(x >= 0, torch.log(F.relu(x) + 0.5), -F.softplus(-x))


class MinGRULayer(nn.Module):
    """One minGRU layer: a single linear map gives both the gate and the candidate state."""

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.proj = nn.Linear(input_size, 2 * hidden_size)

    def forward(self, x: Tensor, h0: Tensor) -> Tensor:
        """All states h_1..h_T for x (batch, time, input) from h0 (batch, hidden), by parallel scan."""
        k, pre = self.proj(x).chunk(2, dim=-1)
        log_a = -F.softplus(k)  # log(1 - z)
        log_b = -F.softplus(-k) + _log_g(pre)  # log(z * h~)
        a_star = torch.cumsum(log_a, dim=1)  # log of prod_{s<=t} a_s
        scan = torch.exp(a_star + torch.logcumsumexp(log_b - a_star, dim=1))
        return scan + torch.exp(a_star) * h0.unsqueeze(1)

    def gate(self, x: Tensor) -> Tensor:
        """The update gate z_t for every step (it reads only the input)."""
        return torch.sigmoid(self.proj(x).chunk(2, dim=-1)[0])

    def step(self, x_t: Tensor, h: Tensor) -> Tensor:
        k, pre = self.proj(x_t).chunk(2, dim=-1)
        z = torch.sigmoid(k)
        return (1 - z) * h + z * _g(pre)


class MinGRU(zoo.Model):
    """Stacked minGRU layers; state is (num_layers, batch, hidden) like torch's recurrent layers."""

    def __init__(self, input_size: int, config: MinGRUConfig) -> None:
        super().__init__(input_size, config)
        sizes = [input_size] + [config.hidden_size] * config.num_layers
        self.layers = nn.ModuleList(MinGRULayer(i, o) for i, o in zip(sizes[:-1], sizes[1:], strict=True))
        self.dropout = nn.Dropout(config.dropout)
        self.output_size = config.hidden_size

    def zero_state(self, batch_size, device=None, dtype=None) -> Tensor:
        dtype = dtype or self.layers[0].proj.weight.dtype
        return torch.zeros(self.config.num_layers, batch_size, self.config.hidden_size, device=device, dtype=dtype)

    def forward(self, x: Tensor, state: Tensor | None = None, lengths: Tensor | None = None) -> tuple[Tensor, Tensor]:
        batch, time, _ = x.shape
        if state is None:
            state = self.zero_state(batch, x.device, x.dtype)
        finals = []
        for i, layer in enumerate(self.layers):
            if i:
                x = self.dropout(x)
            x = layer(x, state[i])
            finals.append(self._last(x, state[i], lengths))
        if lengths is not None:
            alive = torch.arange(time, device=x.device)[None, :] < lengths.to(x.device)[:, None]
            x = x * alive.unsqueeze(-1).to(x.dtype)
        return x, torch.stack(finals)

    @staticmethod
    def _last(h: Tensor, h0: Tensor, lengths: Tensor | None) -> Tensor:
        """Each row's state after its own last real step (the scan is causal, so padding after
        it changes nothing before it); a length of 0 keeps the initial state."""
        if lengths is None:
            return h[:, -1]
        lengths = lengths.to(h.device)
        index = (lengths - 1).clamp(min=0).view(-1, 1, 1).expand(-1, 1, h.shape[-1])
        last = h.gather(1, index).squeeze(1)
        return torch.where((lengths > 0).unsqueeze(-1), last, h0)

    def internals(self, x: Tensor, state: Tensor | None = None) -> dict[str, Tensor]:
        """For ``zoo inspect``: every layer's states and update gates, from one scan per layer."""
        if state is None:
            state = self.zero_state(x.shape[0], x.device, x.dtype)
        hs, gates = [], []
        for i, layer in enumerate(self.layers):
            gates.append(layer.gate(x)[0])
            x = layer(x, state[i])
            hs.append(x[0])
        return {"h": torch.cat(hs, dim=-1), "gate.update": torch.cat(gates, dim=-1)}

    def step(self, x_t: Tensor, state: Tensor | None = None) -> tuple[Tensor, Tensor]:
        if state is None:
            state = self.zero_state(x_t.shape[0], x_t.device, x_t.dtype)
        new = []
        for i, layer in enumerate(self.layers):
            if i:
                x_t = self.dropout(x_t)
            x_t = layer.step(x_t, state[i])
            new.append(x_t)
        return x_t, torch.stack(new)
