"""Elman RNN, LSTM and GRU backbones on torch's fused recurrent layers (cuDNN on a GPU).

Each model keeps its weights in one ``nn.RNN``/``nn.LSTM``/``nn.GRU`` (``self.rnn``), so the
state_dict layout is torch's own: ``rnn.weight_ih_l0``, ``rnn.bias_hh_l1``... The state is torch's
``(num_layers, batch, hidden)`` tensor, or an ``(h, c)`` tuple of them for the LSTM.
"""

from __future__ import annotations

import functools
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from zoo import Model, State, tree_map, zip_map
from zoo_rnn.config import LSTMConfig, RecurrentConfig, RNNConfig


class _Recurrent(Model):
    """Shared body of the three models: building the fused layer, state, ``lengths`` handling."""

    layer_class: ClassVar[type[nn.RNNBase]]
    state_parts: ClassVar[int] = 1  # tensors in the state: 1 (h) or 2 (h, c)

    def __init__(self, input_size: int, config: RecurrentConfig, **layer_args: Any) -> None:
        super().__init__(input_size, config)
        self.rnn = self.layer_class(
            input_size,
            config.hidden_size,
            num_layers=config.num_layers,
            bias=config.bias,
            batch_first=True,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
            **layer_args,
        )
        self.output_size = config.hidden_size

    def zero_state(
        self, batch_size: int, device: torch.device | str | None = None, dtype: torch.dtype | None = None
    ) -> State:
        weight = self.rnn.weight_ih_l0
        shape = (self.config.num_layers, batch_size, self.config.hidden_size)
        zeros = [
            torch.zeros(shape, device=device if device is not None else weight.device, dtype=dtype or weight.dtype)
            for _ in range(self.state_parts)
        ]
        return zeros[0] if self.state_parts == 1 else tuple(zeros)

    def forward(
        self, x: Tensor, state: State | None = None, lengths: Tensor | None = None
    ) -> tuple[Tensor, State]:
        if lengths is None:
            return self._scan(x, state)
        lengths = _check_lengths(lengths, x)
        if bool((lengths == x.shape[1]).all()):
            return self._scan(x, state)  # nothing padded: skip packing
        if state is None:
            state = self.zero_state(x.shape[0], x.device, x.dtype)
        live = lengths > 0
        if bool(live.all()):
            return self._scan_padded(x, state, lengths)
        # Packed sequences reject empty rows: run the others, empty rows keep their state.
        if not bool(live.any()):
            return x.new_zeros(x.shape[0], x.shape[1], self.output_size), state
        rows = live.nonzero().squeeze(1).to(x.device)
        y_live, state_live = self._scan_padded(x[rows], self.reorder_state(state, rows), lengths[live])
        y = y_live.new_zeros(x.shape[0], x.shape[1], self.output_size).index_copy(0, rows, y_live)
        dim = self.state_batch_dim
        state = zip_map(lambda old, new: old.index_copy(dim, rows, new.to(old.dtype)), state, state_live)
        return y, state

    def _scan(self, x: Tensor, state: State | None) -> tuple[Tensor, State]:
        """Full sequences, every row ``x.shape[1]`` steps long."""
        return self._fused(x, state)

    def _scan_padded(self, x: Tensor, state: State, lengths: Tensor) -> tuple[Tensor, State]:
        """Right-padded rows of at least one step; ``lengths`` is int64 on the CPU."""
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        y, state = self._fused(packed, state)
        y, _ = pad_packed_sequence(y, batch_first=True, total_length=x.shape[1])
        return y, state

    def _fused(self, x: Tensor | PackedSequence, state: State | None) -> tuple[Any, State]:
        """Torch's fused layer, in float32 where the CPU's oneDNN has no bfloat16 kernel for it.

        Under CPU bfloat16 autocast torch sends the LSTM to oneDNN, which fails with "could not
        create a primitive descriptor" on CPUs without bfloat16 support (AVX2-only EPYCs, for
        one); there the layer runs in float32 and the rest of the network stays in bfloat16.
        """
        if not _cpu_bf16_unsupported(self.rnn, x):
            return self.rnn(x, state)
        with torch.autocast("cpu", enabled=False):
            state = None if state is None else tree_map(lambda t: t.float(), state)
            return self.rnn(x.float(), state)


class ElmanRNN(_Recurrent):
    """Simple recurrent network: h_t = f(W x_t + b_W + U h_(t-1) + b_U), output h_t.

    ``tanh`` and ``relu`` run fused; ``identity`` (the linear network of the textbook exercise,
    which torch does not offer) runs a loop over time with the same weights.
    """

    layer_class = nn.RNN

    def __init__(self, input_size: int, config: RNNConfig) -> None:
        fused = "relu" if config.nonlinearity == "relu" else "tanh"
        super().__init__(input_size, config, nonlinearity=fused)
        self.linear = config.nonlinearity == "identity"

    def _scan(self, x: Tensor, state: State | None) -> tuple[Tensor, State]:
        return self._linear_scan(x, state, None) if self.linear else super()._scan(x, state)

    def _scan_padded(self, x: Tensor, state: State, lengths: Tensor) -> tuple[Tensor, State]:
        return self._linear_scan(x, state, lengths) if self.linear else super()._scan_padded(x, state, lengths)

    def _linear_scan(self, x: Tensor, state: State | None, lengths: Tensor | None) -> tuple[Tensor, State]:
        """The identity network layer by layer; rows past their length keep their state."""
        batch, time, _ = x.shape
        h0 = state if state is not None else self.zero_state(batch, x.device, x.dtype)
        alive = None
        if lengths is not None:
            alive = torch.arange(time, device=x.device)[None, :] < lengths.to(x.device)[:, None]
        layer_in, finals = x, []
        for k in range(self.config.num_layers):
            w_ih, w_hh = getattr(self.rnn, f"weight_ih_l{k}"), getattr(self.rnn, f"weight_hh_l{k}")
            bias = None
            if self.config.bias:
                bias = getattr(self.rnn, f"bias_ih_l{k}") + getattr(self.rnn, f"bias_hh_l{k}")
            drive = F.linear(layer_in, w_ih, bias)  # every step's input term at once
            h, outputs = h0[k], []
            for t in range(time):
                new = drive[:, t] + F.linear(h, w_hh)
                h = new if alive is None else torch.where(alive[:, t, None], new, h)
                outputs.append(h)
            finals.append(h)
            layer_in = torch.stack(outputs, dim=1)
            if k < self.config.num_layers - 1 and self.config.dropout > 0:
                layer_in = F.dropout(layer_in, self.config.dropout, self.training)
        y = layer_in if alive is None else layer_in * alive[..., None].to(layer_in.dtype)
        return y, torch.stack(finals)


class LSTM(_Recurrent):
    """LSTM with a forget gate; state is ``(h, c)``, output is h."""

    layer_class = nn.LSTM
    state_parts = 2

    def __init__(self, input_size: int, config: LSTMConfig) -> None:
        super().__init__(input_size, config)
        if config.bias and config.forget_bias is not None:
            self._init_forget_bias(config.forget_bias)

    @torch.no_grad()
    def _init_forget_bias(self, value: float) -> None:
        """Torch orders gates (input, forget, cell, output); the two bias vectors add up to ``value``."""
        size = self.config.hidden_size
        for k in range(self.config.num_layers):
            getattr(self.rnn, f"bias_ih_l{k}")[size : 2 * size].fill_(value)
            getattr(self.rnn, f"bias_hh_l{k}")[size : 2 * size].zero_()


class GRU(_Recurrent):
    """Gated recurrent unit in torch's formulation (reset gate applied after the U h product)."""

    layer_class = nn.GRU


def _cpu_bf16_unsupported(layer: nn.RNNBase, x: Tensor | PackedSequence) -> bool:
    """Whether ``layer`` would hit oneDNN's missing CPU bfloat16 LSTM kernel on this input."""
    data = x.data if isinstance(x, PackedSequence) else x
    return (
        isinstance(layer, nn.LSTM)
        and data.device.type == "cpu"
        and torch.is_autocast_enabled("cpu")
        and torch.get_autocast_dtype("cpu") == torch.bfloat16
        and not _mkldnn_bf16_supported()
    )


@functools.cache
def _mkldnn_bf16_supported() -> bool:
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def _check_lengths(lengths: Tensor | Any, x: Tensor) -> Tensor:
    """``lengths`` as int64 on the CPU (where packing needs it), validated against ``x``."""
    lengths = torch.as_tensor(lengths).to("cpu", torch.int64)
    batch, time = x.shape[0], x.shape[1]
    if lengths.shape != (batch,):
        raise ValueError(f"lengths must have shape ({batch},), got {tuple(lengths.shape)}")
    if bool((lengths < 0).any()) or bool((lengths > time).any()):
        raise ValueError(f"lengths must lie in [0, {time}], got {lengths.tolist()}")
    return lengths


