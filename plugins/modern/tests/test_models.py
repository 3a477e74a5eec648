"""The modern backbones: contract, equations from first principles, scan against step, memory."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from zoo_modern.config import MinRNNConfig, TransformerConfig
from zoo_modern.minrnn import MinGRU, MinLSTM, blocked_scan, log_scan
from zoo_modern.transformer import Transformer

import zoo.testing

SMALL_TRANSFORMER = TransformerConfig(d_model=16, layers=2, heads=2, memory=3)


@pytest.mark.parametrize(
    "model_cls, config",
    [
        (Transformer, SMALL_TRANSFORMER),  # memory 3 < the checks' 7 steps: the ring buffer wraps in every check
        (Transformer, TransformerConfig(d_model=8, layers=1, heads=1, memory=1, dropout=0.1)),
        (MinGRU, MinRNNConfig(hidden_size=8, num_layers=2)),
        (MinLSTM, MinRNNConfig(hidden_size=8, num_layers=2)),
    ],
    ids=["transformer-m3", "transformer-m1", "mingru", "minlstm"],
)
def test_small_configurations_meet_the_contract(model_cls, config) -> None:
    zoo.testing.check_model(model_cls, config, input_size=3)


def test_the_transformer_declares_a_finite_memory_and_the_min_rnns_a_recurrent_state() -> None:
    assert Transformer(3, SMALL_TRANSFORMER).memory == 3
    assert MinGRU(3, MinRNNConfig()).memory is None and MinGRU.carries_state


# -- minGRU / minLSTM ----------------------------------------------------------------------------


def _by_hand(model, x: torch.Tensor) -> torch.Tensor:
    """The paper's sequential equations, written out here with the model's weights (one layer)."""
    layer = model.layers[0]
    h = torch.zeros(x.shape[0], model.config.hidden_size, dtype=x.dtype)
    out = []
    for t in range(x.shape[1]):
        gates = F.linear(x[:, t], layer.proj.weight, layer.proj.bias)
        if isinstance(model, MinGRU):
            k, pre = gates.chunk(2, dim=-1)
            z = 1 / (1 + torch.exp(-k))
            cand = torch.where(pre >= 0, pre + 0.5, 1 / (1 + torch.exp(-pre)))
            h = (1 - z) * h + z * cand
        else:
            k_f, k_i, pre = gates.chunk(3, dim=-1)
            f, i = 1 / (1 + torch.exp(-k_f)), 1 / (1 + torch.exp(-k_i))
            cand = torch.where(pre >= 0, pre + 0.5, 1 / (1 + torch.exp(-pre)))
            h = f / (f + i) * h + i / (f + i) * cand
        out.append(h)
    return torch.stack(out, dim=1)


@pytest.mark.parametrize("model_cls", [MinGRU, MinLSTM])
def test_the_parallel_scan_computes_the_papers_recurrence(model_cls) -> None:
    torch.manual_seed(0)
    model = model_cls(4, MinRNNConfig(hidden_size=6, num_layers=1)).double()
    x = torch.randn(3, 50, 4, dtype=torch.float64) * 2
    with torch.no_grad():
        y, state = model(x)
    torch.testing.assert_close(y, _by_hand(model, x), atol=1e-10, rtol=1e-10)
    torch.testing.assert_close(state[0], y[:, -1])


@pytest.mark.parametrize("model_cls", [MinGRU, MinLSTM])
def test_scan_and_step_give_the_same_outputs_to_1e_5_over_a_512_step_window(model_cls) -> None:
    torch.manual_seed(1)
    model = model_cls(8, MinRNNConfig(hidden_size=32, num_layers=2)).eval()
    x = torch.randn(4, 512, 8)
    with torch.no_grad():
        _, start = model(torch.randn(4, 5, 8))
        y, final = model(x, start)
        state, stepped = start, []
        for t in range(x.shape[1]):
            y_t, state = model.step(x[:, t], state)
            stepped.append(y_t)
    torch.testing.assert_close(torch.stack(stepped, dim=1), y, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(state, final, atol=1e-5, rtol=1e-5)


def test_the_log_space_scan_stays_finite_where_the_linear_product_underflows() -> None:
    time = 4096
    log_a = torch.full((1, time, 1), -0.5)  # prod a_t = exp(-2048): zero in float32
    log_b = torch.full((1, time, 1), math.log(0.25))
    h0 = torch.full((1, 1), -3.0)  # a negative initial state is fine
    fixed_point = 0.25 / (1 - math.exp(-0.5))  # h = a h + b settles at b / (1 - a)
    whole = log_scan(log_a, log_b, h0)  # one scan: finite, but |A_t| = 2048 costs precision
    assert bool(torch.isfinite(whole).all()) and abs(whole[0, -1, 0].item() - fixed_point) < 1e-3
    h = blocked_scan(log_a, log_b, h0)  # blocks of 64 steps: float32-accurate
    assert abs(h[0, -1, 0].item() - fixed_point) < 1e-5
    assert abs(h[0, 0, 0].item() - (math.exp(-0.5) * -3.0 + 0.25)) < 1e-6


# -- the Transformer -----------------------------------------------------------------------------


def _reference_transformer(model: Transformer, x: torch.Tensor) -> torch.Tensor:
    """Sliding-window attention computed naively: every position attends to absolute positions
    t-M..t with rotary angles at absolute positions, layer by layer, no memory or ring buffer."""
    config, memory = model.config, model.memory
    batch, time, _ = x.shape
    heads, hd = config.heads, config.d_model // config.heads
    positions = torch.arange(time, dtype=torch.float64)
    angle = positions[:, None] * model.inv_freq.double()[None, :]  # (time, hd/2)

    def rotate(t: torch.Tensor) -> torch.Tensor:  # (batch, time, heads, hd)
        a, b = t[..., 0::2], t[..., 1::2]
        c, s = angle.cos()[None, :, None, :], angle.sin()[None, :, None, :]
        return torch.stack((a * c - b * s, a * s + b * c), dim=-1).flatten(-2)

    h = model.embed(x)
    for block in model.blocks:
        q, k, v = block.qkv(block.norm1(h)).split(config.d_model, dim=-1)
        q, k = rotate(q.view(batch, time, heads, hd)), rotate(k.view(batch, time, heads, hd))
        v = v.view(batch, time, heads, hd)
        out = torch.zeros_like(q)
        for t in range(time):
            lo = max(0, t - memory)
            scores = torch.einsum("bhd,bshd->bhs", q[:, t], k[:, lo : t + 1]) / math.sqrt(hd)
            out[:, t] = torch.einsum("bhs,bshd->bhd", torch.softmax(scores, dim=-1), v[:, lo : t + 1])
        h = h + block.proj(out.reshape(batch, time, config.d_model))
        h = h + block.ff(block.norm2(h))
    return model.norm(h)


def test_the_transformer_is_sliding_window_attention_with_rotary_positions() -> None:
    torch.manual_seed(2)
    model = Transformer(5, TransformerConfig(d_model=16, layers=2, heads=2, memory=4)).double().eval()
    x = torch.randn(2, 15, 5, dtype=torch.float64)
    with torch.no_grad():
        whole, _ = model(x)
        pieces, state = [], None
        for a, b in [(0, 6), (6, 7), (7, 15)]:  # chunks longer and shorter than the memory
            y, state = model(x[:, a:b], state)
            pieces.append(y)
        expected = _reference_transformer(model, x)
    torch.testing.assert_close(whole, expected, atol=1e-10, rtol=1e-10)
    torch.testing.assert_close(torch.cat(pieces, dim=1), expected, atol=1e-10, rtol=1e-10)


def test_sampling_state_keeps_its_shape_and_a_step_costs_the_same_late_as_early() -> None:
    """O(1) in the length generated: the state never grows, so step 10,000 does the work of step 10."""
    torch.manual_seed(3)
    model = Transformer(4, SMALL_TRANSFORMER).eval()
    state = model.zero_state(2)
    shapes = [tuple(t.shape) for t in state]
    with torch.no_grad():
        for _ in range(50):
            _, state = model.step(torch.randn(2, 4), state)
        assert [tuple(t.shape) for t in state] == shapes
        state = (*state[:3], state[3] + 10_000)  # far into a stream: positions stay relative
        y, state = model.step(torch.randn(2, 4), state)
    assert bool(torch.isfinite(y).all()) and state[3].tolist() == [[10_051, 10_051]]


def _steps(model: Transformer, x: torch.Tensor, state) -> tuple[torch.Tensor, tuple]:
    """x (batch, time, input) through ``step`` one position at a time."""
    outputs = []
    for t in range(x.shape[1]):
        y_t, state = model.step(x[:, t], state)
        outputs.append(y_t)
    return torch.stack(outputs, dim=1), state


def test_step_equals_forward_as_the_ring_buffer_wraps_several_times() -> None:
    """The dedicated step (slot pos mod M, rotary by offset) against forward: 3 rows, 4M + 3 steps,
    from a zero state and from a state left by a padded chunk (rows at different positions)."""
    torch.manual_seed(4)
    memory = 4
    model = Transformer(5, TransformerConfig(d_model=16, layers=2, heads=2, memory=memory)).eval()
    x = torch.randn(3, 4 * memory + 3, 5)
    with torch.no_grad():
        whole, final = model(x)
        stepped, state = _steps(model, x, None)
        torch.testing.assert_close(stepped, whole, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(state, final, atol=1e-5, rtol=1e-5)

        _, start = model(torch.randn(3, 6, 5), lengths=torch.tensor([6, 1, 3]))
        pieces, chunked = [], start
        for a, b in [(0, 5), (5, 6), (6, x.shape[1])]:
            y, chunked = model(x[:, a:b], chunked)
            pieces.append(y)
        stepped, state = _steps(model, x, start)
    assert start[3].tolist() == [[6, 1, 3]]
    torch.testing.assert_close(stepped, torch.cat(pieces, dim=1), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(state, chunked, atol=1e-5, rtol=1e-5)


def test_step_returns_a_new_state_and_leaves_its_input_as_it_was() -> None:
    torch.manual_seed(5)
    model = Transformer(4, SMALL_TRANSFORMER).eval()
    with torch.no_grad():
        _, state = _steps(model, torch.randn(3, 1, 4), None)  # a slot still free, to be written
        kept = tuple(t.clone() for t in state)
        _, after = model.step(torch.randn(3, 4), state)
    for old, copy, new in zip(state, kept, after, strict=True):
        assert torch.equal(old, copy) and not torch.equal(new, old)


def test_under_autocast_step_keeps_the_memory_dtype_and_matches_a_chunk_of_one() -> None:
    torch.manual_seed(6)
    model = Transformer(5, SMALL_TRANSFORMER).eval()
    x = torch.randn(3, 8, 5)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        stepped, state = _steps(model, x, None)
        chunked, pieces = None, []
        for t in range(x.shape[1]):
            y, chunked = model(x[:, t : t + 1], chunked)
            pieces.append(y)
    assert state[0].dtype == state[1].dtype == torch.float32 and stepped.dtype == torch.bfloat16
    torch.testing.assert_close(stepped, torch.cat(pieces, dim=1))
    torch.testing.assert_close(state, chunked)


def test_learns_a_delay_across_truncated_bptt_chunks() -> None:
    """Output the input from 2 steps back, in chunks of 5: the first two targets of each chunk
    are only in the carried memory."""
    delay, chunk = 2, 5
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    model = Transformer(1, TransformerConfig(d_model=16, layers=1, heads=2, memory=4))
    head = nn.Linear(16, 1)
    optimizer = torch.optim.Adam([*model.parameters(), *head.parameters()], lr=0.01)

    def bits(batch: int, time: int) -> torch.Tensor:
        return torch.randint(0, 2, (batch, time, 1), generator=gen).float() * 2 - 1

    state, previous = None, bits(32, delay)
    for _ in range(150):
        x = bits(32, chunk)
        target = torch.cat([previous, x], dim=1)[:, :chunk] > 0
        y, state = model(x, state)
        loss = F.binary_cross_entropy_with_logits(head(y), target.float())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        state, previous = model.detach_state(state), x[:, -delay:]
    x = bits(64, 4 * chunk)
    with torch.no_grad():
        outputs, state = [], None
        for start in range(0, x.shape[1], chunk):
            y, state = model(x[:, start : start + chunk], state)
            outputs.append(head(y))
    guess = torch.cat(outputs, dim=1)[:, delay:] > 0
    assert (guess == (x[:, :-delay] > 0)).float().mean().item() > 0.95
