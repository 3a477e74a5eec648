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

    # -- zoo inspect -------------------------------------------------------------------------
    def internals(self, x: Tensor, state: State | None = None) -> dict[str, Tensor]:
        """Hidden states of every layer (and cell states and gates where the model has them).

        Each layer runs once, fused, over the sequence; its gates are then recomputed from the
        weights for all steps at once from the states before each step (one matrix product per
        layer, not one call per step).
        """
        if state is None:
            state = self.zero_state(x.shape[0], x.device, x.dtype)
        parts: dict[str, list[Tensor]] = {}
        layer_in = x
        for k in range(self.config.num_layers):
            start = tree_map(lambda t, k=k: t[k : k + 1], state)
            found = self._layer_internals(k, layer_in, start)
            for name, value in found.items():
                parts.setdefault(name, []).append(value[0])
            layer_in = found["h"]
        return {name: torch.cat(values, dim=-1) for name, values in parts.items()}

    def _weights(self, k: int) -> list[Tensor]:
        names = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if self.config.bias else [])
        return [getattr(self.rnn, f"{n}_l{k}") for n in names]

    def _pre(self, k: int, x: Tensor, h_before: Tensor) -> tuple[Tensor, Tensor]:
        """Input and recurrent pre-activations of layer ``k`` at every step (biases included)."""
        w = self._weights(k)
        b_ih, b_hh = (w[2], w[3]) if self.config.bias else (None, None)
        return F.linear(x, w[0], b_ih), F.linear(h_before, w[1], b_hh)

    def _layer_internals(self, k: int, x: Tensor, start: State) -> dict[str, Tensor]:
        raise NotImplementedError

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

    def _layer_internals(self, k: int, x: Tensor, start: State) -> dict[str, Tensor]:
        assert isinstance(start, Tensor)
        if self.linear:
            ih, _ = self._pre(k, x, x.new_zeros(*x.shape[:2], self.config.hidden_size))
            weights = self._weights(k)
            w_hh, b_hh = weights[1], weights[3] if self.config.bias else None
            h, outputs = start[0], []
            for t in range(x.shape[1]):
                h = ih[:, t] + F.linear(h, w_hh, b_hh)
                outputs.append(h)
            return {"h": torch.stack(outputs, dim=1)}
        run = torch.rnn_relu if self.config.nonlinearity == "relu" else torch.rnn_tanh
        y, _ = run(x, start, self._weights(k), self.config.bias, 1, 0.0, False, False, True)
        return {"h": y}

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

    def _layer_internals(self, k: int, x: Tensor, start: State) -> dict[str, Tensor]:
        h0, c0 = start
        y, _, _ = torch.lstm(x, (h0, c0), self._weights(k), self.config.bias, 1, 0.0, False, False, True)
        ih, hh = self._pre(k, x, torch.cat([h0.transpose(0, 1), y[:, :-1]], dim=1))
        i, f, g, o = (ih + hh).chunk(4, dim=-1)  # torch's gate order
        i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
        c, cells = c0[0], []
        for t in range(x.shape[1]):  # the cell recurrence: elementwise, cheap
            c = f[:, t] * c + i[:, t] * g[:, t]
            cells.append(c)
        return {"h": y, "c": torch.stack(cells, dim=1), "gate.input": i, "gate.forget": f, "gate.output": o}

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

    def _layer_internals(self, k: int, x: Tensor, start: State) -> dict[str, Tensor]:
        assert isinstance(start, Tensor)
        y, _ = torch.gru(x, start, self._weights(k), self.config.bias, 1, 0.0, False, False, True)
        ih, hh = self._pre(k, x, torch.cat([start.transpose(0, 1), y[:, :-1]], dim=1))
        size = self.config.hidden_size
        r = torch.sigmoid(ih[..., :size] + hh[..., :size])
        z = torch.sigmoid(ih[..., size : 2 * size] + hh[..., size : 2 * size])
        return {"h": y, "gate.reset": r, "gate.update": z}


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


