"""minLSTM and minGRU (Feng et al. 2024, "Were RNNs All We Needed?", arXiv:2410.01201).

Both drop the previous state from every gate, so each layer is a linear recurrence
h_t = a_t * h_(t-1) + b_t whose coefficients depend on the input alone:

    minGRU:   z_t = sigmoid(W_z x_t),  a_t = 1 - z_t,  b_t = z_t * g(W_h x_t)
    minLSTM:  f_t = sigmoid(W_f x_t),  i_t = sigmoid(W_i x_t),  a_t = f_t / (f_t + i_t),
              b_t = i_t / (f_t + i_t) * g(W_h x_t)

where g(x) = x + 0.5 for x >= 0 and sigmoid(x) otherwise keeps the candidate state positive.
Training runs the whole window at once as a parallel scan in log space (the paper's appendix):
with A_t = sum_(s<=t) log a_s, h_t = exp(A_t + logcumsumexp_(s<=t)(log b_s - A_s)) + exp(A_t) h_0,
where every term is a sum of logarithms, so long windows neither underflow nor overflow. The
initial state enters through its own term, so it may have any sign. The scan runs in blocks of
``SCAN_BLOCK`` steps, each starting from the previous block's last state: in float32, A_t's
rounding grows with its size (|A_t| reaches several hundred over 512 steps, an error of 5e-5),
and blocks of 64 keep it near 1e-6 at the price of time/64 sequential pieces. ``step`` runs the
recurrence itself, one O(1) update per token, for sampling; both give the same outputs (tests:
1e-5 over 512 steps).
"""

from __future__ import annotations

from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from zoo import Model
from zoo_modern.config import MinRNNConfig


def g(x: Tensor) -> Tensor:
    """The paper's positive candidate activation: continuous, x + 0.5 above zero, sigmoid below."""
    return torch.where(x >= 0, x + 0.5, torch.sigmoid(x))


def log_g(x: Tensor) -> Tensor:
    """log g(x), computed without taking the log of a small sigmoid."""
    return torch.where(x >= 0, torch.log(F.relu(x) + 0.5), -F.softplus(-x))


SCAN_BLOCK = 64


def log_scan(log_a: Tensor, log_b: Tensor, h0: Tensor) -> Tensor:
    """All h_t of h_t = a_t h_(t-1) + b_t (b_t > 0) over dim 1, from h0 (batch, hidden), in log space."""
    a_star = torch.cumsum(log_a, dim=1)
    return torch.exp(a_star + torch.logcumsumexp(log_b - a_star, dim=1)) + torch.exp(a_star) * h0.unsqueeze(1)


def blocked_scan(log_a: Tensor, log_b: Tensor, h0: Tensor, block: int = SCAN_BLOCK) -> Tensor:
    """``log_scan`` over blocks of ``block`` steps, each from the last state of the one before."""
    if log_a.shape[1] <= block:
        return log_scan(log_a, log_b, h0)
    pieces, h = [], h0
    for start in range(0, log_a.shape[1], block):
        piece = log_scan(log_a[:, start : start + block], log_b[:, start : start + block], h)
        pieces.append(piece)
        h = piece[:, -1]
    return torch.cat(pieces, dim=1)


class MinGRULayer(nn.Module):
    """One minGRU layer: one linear map gives the update gate's logit and the candidate."""

    gates: ClassVar[int] = 2

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.proj = nn.Linear(input_size, self.gates * hidden_size)

    def coefficients(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """log a_t and log b_t for inputs x (..., input_size)."""
        k, pre = self.proj(x).chunk(2, dim=-1)
        return -F.softplus(k), -F.softplus(-k) + log_g(pre)  # log(1 - z), log(z * g)

    def forward(self, x: Tensor, h0: Tensor) -> Tensor:
        log_a, log_b = self.coefficients(x)
        return blocked_scan(log_a, log_b, h0)

    def step(self, x_t: Tensor, h: Tensor) -> Tensor:
        k, pre = self.proj(x_t).chunk(2, dim=-1)
        z = torch.sigmoid(k)
        return (1 - z) * h + z * g(pre)


class MinLSTMLayer(MinGRULayer):
    """One minLSTM layer: forget and input gates normalised to sum to one, and the candidate."""

    gates = 3

    def coefficients(self, x: Tensor) -> tuple[Tensor, Tensor]:
        k_f, k_i, pre = self.proj(x).chunk(3, dim=-1)
        diff = F.softplus(-k_f) - F.softplus(-k_i)  # log(i / f)
        return -F.softplus(diff), -F.softplus(-diff) + log_g(pre)  # log f', log(i' * g)

    def step(self, x_t: Tensor, h: Tensor) -> Tensor:
        k_f, k_i, pre = self.proj(x_t).chunk(3, dim=-1)
        f, i = torch.sigmoid(k_f), torch.sigmoid(k_i)
        return f / (f + i) * h + i / (f + i) * g(pre)


class _MinRNN(Model):
    """Stacked layers; state (num_layers, batch, hidden) like torch's recurrent layers."""

    layer_class: ClassVar[type[MinGRULayer]]

    def __init__(self, input_size: int, config: MinRNNConfig) -> None:
        super().__init__(input_size, config)
        sizes = [input_size] + [config.hidden_size] * config.num_layers
        self.layers = nn.ModuleList(self.layer_class(i, o) for i, o in zip(sizes[:-1], sizes[1:], strict=True))
        self.dropout = nn.Dropout(config.dropout)
        self.output_size = config.hidden_size

    def zero_state(
        self, batch_size: int, device: torch.device | str | None = None, dtype: torch.dtype | None = None
    ) -> Tensor:
        weight = self.layers[0].proj.weight
        return torch.zeros(
            self.config.num_layers, batch_size, self.config.hidden_size,
            device=device if device is not None else weight.device, dtype=dtype or weight.dtype,
        )

    def forward(self, x: Tensor, state: Tensor | None = None, lengths: Tensor | None = None) -> tuple[Tensor, Tensor]:
        batch, time, _ = x.shape
        if state is None:
            state = self.zero_state(batch, x.device, x.dtype)
        alive = None
        if lengths is not None:
            lengths = torch.as_tensor(lengths).to(x.device)
            alive = torch.arange(time, device=x.device)[None, :] < lengths[:, None]
        finals = []
        for i, layer in enumerate(self.layers):
            if i:
                x = self.dropout(x)
            if alive is not None:  # padding is after the real steps and the scan is causal,
                x = x * alive[..., None].to(x.dtype)  # but keep its garbage out of the exponentials
            x = layer(x, state[i])
            finals.append(_last(x, state[i], lengths))
        if alive is not None:
            x = x * alive[..., None].to(x.dtype)
        return x, torch.stack(finals)

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


def _last(h: Tensor, h0: Tensor, lengths: Tensor | None) -> Tensor:
    """Each row's state after its own last real step; a length of 0 keeps the initial state."""
    if lengths is None or h.shape[1] == 0:
        return h[:, -1] if h.shape[1] else h0
    index = (lengths - 1).clamp(min=0).view(-1, 1, 1).expand(-1, 1, h.shape[-1])
    last = h.gather(1, index).squeeze(1)
    return torch.where((lengths > 0)[:, None], last, h0)


class MinGRU(_MinRNN):
    """Stacked minGRU layers."""

    layer_class = MinGRULayer


class MinLSTM(_MinRNN):
    """Stacked minLSTM layers (the paper's version: no separate cell state, h only)."""

    layer_class = MinLSTMLayer
