"""The rnn, lstm and gru models against the textbook exercise, torch's cells, and their contract."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from zoo_rnn.config import GRUConfig, LSTMConfig, RNNConfig
from zoo_rnn.models import GRU, LSTM, ElmanRNN

import zoo
import zoo.testing
from zoo.testing import build_config


@pytest.fixture(autouse=True)
def _one_thread():
    with zoo.testing.one_thread():
        yield


# -- the hand-worked simple recurrent network ----------------------------------------------------


def _matvec(matrix: list[list[float]], vector: list[float]) -> list[float]:
    return [sum(m * v for m, v in zip(row, vector, strict=True)) for row in matrix]


def _by_hand(inputs: list[list[float]], f, hidden: int) -> list[list[float]]:
    """h_t = f(W x_t + U h_(t-1)), y_t = V h_t with W, U, V all ones and no biases, in floats."""
    ones_w = [[1.0] * len(inputs[0]) for _ in range(hidden)]
    ones_u = ones_v = [[1.0] * hidden for _ in range(hidden)]
    h, outputs = [0.0] * hidden, []
    for x in inputs:
        pre = [a + b for a, b in zip(_matvec(ones_w, x), _matvec(ones_u, h), strict=True)]
        h = [f(v) for v in pre]
        outputs.append(_matvec(ones_v, h))
    return outputs


@pytest.mark.parametrize("nonlinearity, f", [("identity", lambda v: v), ("tanh", math.tanh)])
def test_reproduces_the_hand_worked_exercise(nonlinearity: str, f) -> None:
    inputs = [[1.0, 1.0], [1.0, 1.0], [2.0, 2.0]]
    model = ElmanRNN(2, RNNConfig(hidden_size=2, nonlinearity=nonlinearity)).double()
    readout = nn.Linear(2, 2).double()
    with torch.no_grad():
        for module in (model, readout):
            for name, param in module.named_parameters():
                param.fill_(1.0 if "weight" in name else 0.0)
        hidden, _ = model(torch.tensor([inputs], dtype=torch.float64))
        outputs = readout(hidden)[0]
    expected = torch.tensor(_by_hand(inputs, f, hidden=2), dtype=torch.float64)
    torch.testing.assert_close(outputs, expected, atol=1e-12, rtol=0)


# -- equal to a plain loop over torch's cells ----------------------------------------------------


def _reference_cell(model, size_in: int) -> nn.Module:
    """A torch cell shaped like layer k of ``model`` (for ``identity``, an RNNCell holds the weights)."""
    config = model.config
    if isinstance(model, LSTM):
        return nn.LSTMCell(size_in, config.hidden_size, bias=config.bias)
    if isinstance(model, GRU):
        return nn.GRUCell(size_in, config.hidden_size, bias=config.bias)
    fn = "tanh" if config.nonlinearity == "identity" else config.nonlinearity
    return nn.RNNCell(size_in, config.hidden_size, bias=config.bias, nonlinearity=fn)


def _without_nonlinearity(cell: nn.RNNCell):
    """RNNCell's formula minus its nonlinearity: W x + b_W + U h + b_U."""
    return lambda x, h: F.linear(x, cell.weight_ih, cell.bias_ih) + F.linear(h, cell.weight_hh, cell.bias_hh)


CELL_CASES = {
    "rnn-tanh": (ElmanRNN, RNNConfig, {"nonlinearity": "tanh"}),
    "rnn-relu": (ElmanRNN, RNNConfig, {"nonlinearity": "relu"}),
    "rnn-identity": (ElmanRNN, RNNConfig, {"nonlinearity": "identity"}),
    "lstm": (LSTM, LSTMConfig, {}),
    "gru": (GRU, GRUConfig, {}),
}


def _cell_loop(model, x: torch.Tensor, state):
    """Reference: layer by layer, step by step, over torch cells holding copies of the weights."""
    config = model.config
    is_lstm = isinstance(model, LSTM)
    h0, c0 = state if is_lstm else (state, None)
    layer_in, finals_h, finals_c = x, [], []
    for k in range(config.num_layers):
        cell = _reference_cell(model, layer_in.shape[-1])
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            if config.bias or name.startswith("weight"):
                getattr(cell, name).data.copy_(getattr(model.rnn, f"{name}_l{k}"))
        linear = isinstance(model, ElmanRNN) and config.nonlinearity == "identity"
        run = _without_nonlinearity(cell) if linear else cell
        h, c, outputs = h0[k], (c0[k] if is_lstm else None), []
        for t in range(layer_in.shape[1]):
            if is_lstm:
                h, c = run(layer_in[:, t], (h, c))
            else:
                h = run(layer_in[:, t], h)
            outputs.append(h)
        layer_in = torch.stack(outputs, dim=1)
        finals_h.append(h)
        finals_c.append(c)
    final = torch.stack(finals_h)
    return layer_in, ((final, torch.stack(finals_c)) if is_lstm else final)


@pytest.mark.parametrize("layers", [1, 3])
@pytest.mark.parametrize("kind", list(CELL_CASES))
def test_equals_a_loop_over_torch_cells(kind: str, layers: int) -> None:
    model_cls, config_cls, extra = CELL_CASES[kind]
    torch.manual_seed(0)
    model = model_cls(4, config_cls(hidden_size=5, num_layers=layers, dropout=0.3, **extra)).eval()
    x = torch.randn(3, 6, 4)
    state = tuple(torch.randn_like(s) for s in model.zero_state(3)) if kind == "lstm" else torch.randn(layers, 3, 5)
    with torch.no_grad():
        y, final = model(x, state)
        y_ref, final_ref = _cell_loop(model, x, state)
    torch.testing.assert_close(y, y_ref, atol=1e-6, rtol=0)
    torch.testing.assert_close(final, final_ref, atol=1e-6, rtol=0)


# -- state carry, padding, and the whole contract under non-default configs ----------------------

CONFIGS = {
    "rnn-identity-2": (ElmanRNN, RNNConfig(hidden_size=6, num_layers=2, nonlinearity="identity")),
    "rnn-relu-nobias": (ElmanRNN, RNNConfig(hidden_size=6, nonlinearity="relu", bias=False)),
    "lstm-3-dropout": (LSTM, LSTMConfig(hidden_size=6, num_layers=3, dropout=0.5)),
    "lstm-torch-init": (LSTM, LSTMConfig(hidden_size=6, forget_bias=None)),
    "gru-2-nobias": (GRU, GRUConfig(hidden_size=6, num_layers=2, bias=False)),
}


@pytest.mark.parametrize("kind", list(CONFIGS))
def test_two_chunks_with_carried_state_equal_the_whole_sequence(kind: str) -> None:
    model_cls, config = CONFIGS[kind]
    zoo.testing.check_state_carry(model_cls, config, time=9)


@pytest.mark.parametrize("kind", list(CONFIGS))
def test_padding_with_lengths_equals_the_unpadded_rows(kind: str) -> None:
    model_cls, config = CONFIGS[kind]
    zoo.testing.check_lengths(model_cls, config, batch_size=5)


@pytest.mark.parametrize("kind", list(CONFIGS))
def test_meets_the_whole_contract(kind: str) -> None:
    model_cls, config = CONFIGS[kind]
    zoo.testing.check_model(model_cls, config, skip=["state_carry", "lengths"])


@pytest.mark.parametrize("kind", ["rnn-identity-2", "lstm-3-dropout"])
def test_empty_rows_keep_their_state_and_output_zeros(kind: str) -> None:
    model_cls, config = CONFIGS[kind]
    torch.manual_seed(0)
    model = model_cls(3, config).eval()
    x, start = torch.randn(3, 4, 3), model(torch.randn(3, 2, 3))[1]
    with torch.no_grad():
        y, state = model(x, start, lengths=torch.tensor([4, 0, 2]))
        alone, alone_state = model(x[2:, :2], model.reorder_state(start, torch.tensor([2])))
    assert torch.equal(y[1], torch.zeros_like(y[1]))
    for got, before in zip(*(s if isinstance(s, tuple) else (s,) for s in (state, start)), strict=True):
        assert torch.equal(got[:, 1], before[:, 1])
    torch.testing.assert_close(y[2, :2], alone[0])
    with torch.no_grad():
        y, state = model(x, start, lengths=torch.zeros(3, dtype=torch.long))
    assert not y.any()
    torch.testing.assert_close(state, start, atol=0, rtol=0)


@pytest.mark.parametrize("kind", list(CONFIGS))
def test_trains_under_bfloat16_autocast_with_padding(kind: str) -> None:
    model_cls, config = CONFIGS[kind]
    model = model_cls(3, config).train()
    x = torch.randn(4, 5, 3)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        _, state = model(x)
        y, _ = model(x, model.detach_state(state), lengths=torch.tensor([5, 0, 2, 1]))
    assert y.shape == (4, 5, 6) and bool(torch.isfinite(y).all()) and not y[1].any()
    y.float().square().mean().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_lstm_without_a_cpu_bfloat16_kernel_runs_in_float32(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where oneDNN has no bf16 LSTM (AVX2-only CPUs) the layer runs in float32, padded or not."""
    import zoo_rnn.models as models

    monkeypatch.setattr(models, "_mkldnn_bf16_supported", lambda: False)
    model_cls, config = CONFIGS["lstm-3-dropout"]
    model = model_cls(3, config).eval()
    x, lengths = torch.randn(4, 5, 3), torch.tensor([5, 3, 2, 1])
    with torch.no_grad():
        plain_full, plain_state = model(x)
        plain_padded, _ = model(x, lengths=lengths)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            full, state = model(x)
            padded, _ = model(x, lengths=lengths)
    assert full.dtype == torch.float32
    torch.testing.assert_close(full, plain_full)
    torch.testing.assert_close(state, plain_state)
    torch.testing.assert_close(padded, plain_padded)


def test_bad_lengths_are_refused() -> None:
    model = GRU(3, GRUConfig(hidden_size=4))
    with pytest.raises(ValueError, match=r"lengths must lie in \[0, 4\]"):
        model(torch.randn(2, 4, 3), lengths=torch.tensor([5, 1]))
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        model(torch.randn(2, 4, 3), lengths=torch.tensor([4]))


# -- configuration --------------------------------------------------------------------------------


def test_lstm_forget_gate_bias_starts_at_the_configured_value() -> None:
    model = LSTM(3, LSTMConfig(hidden_size=4, num_layers=2, forget_bias=2.5))
    for k in range(2):
        forget = model.rnn.get_parameter(f"bias_ih_l{k}")[4:8] + model.rnn.get_parameter(f"bias_hh_l{k}")[4:8]
        assert torch.equal(forget, torch.full((4,), 2.5))
    torch.manual_seed(0)
    random_init = LSTM(3, LSTMConfig(hidden_size=4, forget_bias=None)).rnn.bias_ih_l0[4:8]
    assert len(set(random_init.tolist())) == 4  # torch's uniform init left alone
    assert not any("bias" in n for n, _ in LSTM(3, LSTMConfig(bias=False)).named_parameters())


def test_dropout_acts_between_layers_only_while_training() -> None:
    torch.manual_seed(0)
    model = LSTM(3, LSTMConfig(hidden_size=8, num_layers=2, dropout=0.5))
    x = torch.randn(2, 5, 3)
    with torch.no_grad():
        assert not torch.equal(model.train()(x)[0], model(x)[0])
        assert torch.equal(model.eval()(x)[0], model(x)[0])


def test_output_size_and_state_layout() -> None:
    lstm = LSTM(3, LSTMConfig(hidden_size=7, num_layers=2))
    h, c = lstm.zero_state(5, dtype=torch.float64)
    assert lstm.output_size == 7 and h.shape == c.shape == (2, 5, 7) and h.dtype == torch.float64
    assert ElmanRNN(3, RNNConfig(hidden_size=7)).zero_state(4).shape == (1, 4, 7)


@pytest.mark.parametrize(
    "cls, values, message",
    [
        (RNNConfig, {"hidden_size": "0"}, "hidden_size must be at least 1"),
        (GRUConfig, {"num_layers": "0"}, "num_layers must be at least 1"),
        (LSTMConfig, {"dropout": "1"}, r"dropout must be in \[0, 1\)"),
        (RNNConfig, {"nonlinearity": "sigmoid"}, "expected one of tanh, relu, identity"),
    ],
)
def test_bad_settings_are_clear_errors(cls: type, values: dict, message: str) -> None:
    with pytest.raises(zoo.ZooError, match=message):
        build_config(cls, values, owner="model")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (cuDNN path)")
@pytest.mark.parametrize("name", ["rnn", "lstm", "gru"])
def test_contract_on_gpu(name: str) -> None:
    zoo.testing.check_model(name, {"num_layers": 2, "hidden_size": 32}, device="cuda", atol=1e-4, rtol=1e-3)


@pytest.mark.parametrize(
    "model, config",
    [(LSTM, LSTMConfig(hidden_size=5, num_layers=2)), (GRU, GRUConfig(hidden_size=5, num_layers=2)),
     (ElmanRNN, RNNConfig(hidden_size=5, num_layers=2)),
     (ElmanRNN, RNNConfig(hidden_size=3, num_layers=2, nonlinearity="identity")),
     (ElmanRNN, RNNConfig(hidden_size=3, nonlinearity="relu"))],
    ids=["lstm-2", "gru-2", "rnn-2", "identity-2", "relu"],
)
def test_internals_of_stacked_and_every_kind_of_layer(model, config) -> None:
    zoo.testing.check_internals(model, config, input_size=3)
    torch.manual_seed(0)
    net = model(3, config).eval()
    found = net.internals(torch.randn(1, 6, 3))
    assert found["h"].shape == (6, config.hidden_size * config.num_layers)


def test_lstm_internals_match_the_textbook_equations_by_hand() -> None:
    """A 2-unit LSTM with set weights: gates, cell and hidden state computed here with math only."""
    net = LSTM(1, LSTMConfig(hidden_size=2, forget_bias=None)).eval()
    rows = [[0.5], [-0.3], [0.2], [0.1], [0.4], [-0.2], [0.3], [0.6]]  # input weights, gates i, f, g, o
    recurrent = [[0.1, -0.2], [0.3, 0.0], [0.2, 0.1], [-0.1, 0.4], [0.0, 0.5], [0.3, -0.3], [0.2, 0.2], [-0.4, 0.1]]
    bias = [0.1, -0.1, 0.5, 0.0, 0.0, 0.2, -0.3, 0.1]
    with torch.no_grad():
        net.rnn.weight_ih_l0.copy_(torch.tensor(rows))
        net.rnn.weight_hh_l0.copy_(torch.tensor(recurrent))
        net.rnn.bias_ih_l0.copy_(torch.tensor(bias))
        net.rnn.bias_hh_l0.zero_()
    xs = [1.0, -1.0, 0.5]
    found = net.internals(torch.tensor([[[x] for x in xs]]))
    sigmoid = lambda v: 1 / (1 + math.exp(-v))  # noqa: E731
    h, c = [0.0, 0.0], [0.0, 0.0]
    for t, x in enumerate(xs):
        pre = [rows[k][0] * x + recurrent[k][0] * h[0] + recurrent[k][1] * h[1] + bias[k] for k in range(8)]
        i = [sigmoid(v) for v in pre[0:2]]
        f = [sigmoid(v) for v in pre[2:4]]
        g = [math.tanh(v) for v in pre[4:6]]
        o = [sigmoid(v) for v in pre[6:8]]
        c = [f[u] * c[u] + i[u] * g[u] for u in range(2)]
        h = [o[u] * math.tanh(c[u]) for u in range(2)]
        for name, want in (("gate.input", i), ("gate.forget", f), ("gate.output", o), ("c", c), ("h", h)):
            assert found[name][t].tolist() == pytest.approx(want, abs=1e-6), (name, t)
