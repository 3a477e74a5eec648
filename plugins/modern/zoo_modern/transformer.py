"""A small causal Transformer whose state is a finite memory: Transformer-XL's idea, as a ring buffer.

Each block attends over a sliding window: the step at position t sees itself and the M steps
before it (``memory`` = M), whether they lie in the chunk being run or in the memory carried
from earlier chunks. The state is, per layer, the keys and values of the last M steps in an
(M)-slot ring buffer (the step at absolute position p lives in slot p mod M), a validity mask
(slots not yet written, or padding) and each row's position counter. Its shapes never change,
so a task carries it across truncated-BPTT windows like an LSTM's, and one sampling step costs
O(M) attention plus an O(M) buffer update, however much has been generated.

Positions are rotary (RoPE, Su et al. 2021), applied at attention time to queries and keys by
their position relative to the chunk's start, so the buffer stores un-rotated keys and the
angles stay within [-M, time) however long a stream runs. Rotary scores depend only on the
distance between query and key, which is what a carried memory needs: an absolute position
embedding would not know where a memory slot lies relative to the current step.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from zoo import Model
from zoo_modern.config import TransformerConfig

MemoryState = tuple[Tensor, Tensor, Tensor, Tensor]
"""(keys, values) of shape (layers, batch, M, d_model); valid (1, batch, M) bool; pos (1, batch) int64."""


def _rotate(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
    """Rotary embedding of x (batch, heads, n, head_dim) at angles given by cos/sin (batch, 1, n, head_dim/2)."""
    a, b = x[..., 0::2], x[..., 1::2]
    return torch.stack((a * cos - b * sin, a * sin + b * cos), dim=-1).flatten(-2)


class Block(nn.Module):
    """Pre-norm block: x + attention(LN(x)) over memory and chunk, then x + MLP(LN(x))."""

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        d = config.d_model
        self.heads = config.heads
        self.norm1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.norm2 = nn.LayerNorm(d)
        self.ff = nn.Sequential(nn.Linear(d, config.ff_mult * d), nn.GELU(), nn.Linear(config.ff_mult * d, d))
        self.dropout = config.dropout

    def forward(
        self, x: Tensor, k_mem: Tensor, v_mem: Tensor, rope: tuple[Tensor, Tensor, Tensor, Tensor], allowed: Tensor
    ) -> tuple[Tensor, Tensor, Tensor]:
        """x (batch, time, d); memory keys/values (batch, M, d); returns x and this chunk's keys, values."""
        q, k, v = self.qkv(self.norm1(x)).split(x.shape[-1], dim=-1)
        cos_q, sin_q, cos_k, sin_k = rope
        keys = _rotate(self._heads(torch.cat([k_mem.to(k.dtype), k], dim=1)), cos_k, sin_k)
        queries = _rotate(self._heads(q), cos_q, sin_q)
        return self._attend(x, queries, keys, torch.cat([v_mem.to(v.dtype), v], dim=1), allowed), k, v

    def step(
        self, x: Tensor, k_mem: Tensor, v_mem: Tensor, rope_mem: tuple[Tensor, Tensor], allowed: Tensor
    ) -> tuple[Tensor, Tensor, Tensor]:
        """``forward`` for a chunk of one (x (batch, 1, d)): the step's query and key sit at angle 0,
        which rotary leaves as they are, so only the memory keys turn (by ``rope_mem``'s cos, sin)."""
        q, k, v = self.qkv(self.norm1(x)).split(x.shape[-1], dim=-1)
        keys = torch.cat([_rotate(self._heads(k_mem.to(k.dtype)), *rope_mem), self._heads(k)], dim=2)
        return self._attend(x, self._heads(q), keys, torch.cat([v_mem.to(v.dtype), v], dim=1), allowed), k, v

    def _heads(self, t: Tensor) -> Tensor:
        """(batch, n, d) -> (batch, heads, n, d / heads)."""
        batch, n, d = t.shape
        return t.view(batch, n, self.heads, d // self.heads).transpose(1, 2)

    def _attend(self, x: Tensor, queries: Tensor, keys: Tensor, values: Tensor, allowed: Tensor) -> Tensor:
        """The rest of the block: x + attention of the rotated queries over rotated keys and values
        (batch, n, d), then x + MLP(LN(x))."""
        batch, time, d = x.shape
        p = self.dropout if self.training else 0.0
        out = F.scaled_dot_product_attention(queries, keys, self._heads(values), attn_mask=allowed, dropout_p=p)
        out = out.transpose(1, 2).reshape(batch, time, d)
        x = x + F.dropout(self.proj(out), p, self.training)
        return x + F.dropout(self.ff(self.norm2(x)), p, self.training)


class Transformer(Model):
    """Input projection -> pre-norm causal blocks with a finite memory -> final LayerNorm."""

    lr_scale = 0.1  # adder's 3e-2 (tuned for RNNs) left it at chance; 3e-3 learned (300 steps, 67%)

    def __init__(self, input_size: int, config: TransformerConfig) -> None:
        super().__init__(input_size, config)
        self.memory = config.memory
        self.embed = nn.Linear(input_size, config.d_model)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.layers))
        self.norm = nn.LayerNorm(config.d_model)
        self.output_size = config.d_model
        half = config.d_model // config.heads // 2
        inv_freq = config.rope_base ** (-torch.arange(half, dtype=torch.float64) / half)
        self.register_buffer("inv_freq", inv_freq.float(), persistent=False)  # a constant, not a weight
        self._init_weights()

    @torch.no_grad()
    def _init_weights(self) -> None:
        """GPT-2's: normal(0, 0.02) weights, zero biases, residual projections scaled by 1/sqrt(2 layers)."""
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, std=0.02)
                nn.init.zeros_(module.bias)
        for block in self.blocks:
            for out in (block.proj, block.ff[2]):
                out.weight.mul_(1 / math.sqrt(2 * len(self.blocks)))

    def zero_state(
        self, batch_size: int, device: torch.device | str | None = None, dtype: torch.dtype | None = None
    ) -> MemoryState:
        weight = self.embed.weight
        device = device if device is not None else weight.device
        shape = (len(self.blocks), batch_size, self.memory, self.config.d_model)
        return (
            torch.zeros(shape, device=device, dtype=dtype or weight.dtype),
            torch.zeros(shape, device=device, dtype=dtype or weight.dtype),
            torch.zeros(1, batch_size, self.memory, device=device, dtype=torch.bool),
            torch.zeros(1, batch_size, device=device, dtype=torch.long),
        )

    def forward(
        self, x: Tensor, state: MemoryState | None = None, lengths: Tensor | None = None
    ) -> tuple[Tensor, MemoryState]:
        batch, time, _ = x.shape
        if state is None:
            state = self.zero_state(batch, x.device, x.dtype)
        if time == 0:
            return x.new_zeros(batch, 0, self.output_size), state
        k_mem, v_mem, valid, pos = state
        pos, valid = pos[0], valid[0]
        real = torch.arange(time, device=x.device)[None, :].expand(batch, time)
        if lengths is not None:
            lengths = torch.as_tensor(lengths).to(x.device)
            real = real < lengths[:, None]
        else:
            real = torch.ones(batch, time, dtype=torch.bool, device=x.device)
        seen = lengths if lengths is not None else torch.full((batch,), time, device=x.device, dtype=torch.long)

        m = self.memory
        slots = torch.arange(m, device=x.device)
        steps = torch.arange(time, device=x.device)
        # (batch, M + time): every key's position relative to the chunk
        key_pos = torch.cat([self._memory_positions(pos), steps[None, :].expand(batch, time)], dim=1)
        key_ok = torch.cat([valid, real], dim=1)
        distance = steps[None, :, None] - key_pos[:, None, :]  # (batch, time, M + time)
        allowed = key_ok[:, None, :] & (distance >= 0) & (distance <= m)
        allowed[:, :, m:] |= torch.eye(time, dtype=torch.bool, device=x.device)  # padding sees itself: no empty rows
        rope = (*self._angles(steps[None, :].expand(batch, time)), *self._angles(key_pos))

        h = self.embed(x)
        new_k, new_v = [], []
        for i, block in enumerate(self.blocks):
            h, k, v = block(h, k_mem[i], v_mem[i], rope, allowed[:, None])
            new_k.append(k)
            new_v.append(v)
        y = self.norm(h) * real[..., None].to(h.dtype)

        # Ring-buffer update: slot i holds the latest position p < pos + seen with p = i (mod M).
        new_pos = pos + seen
        latest = new_pos[:, None] - 1 - torch.remainder(new_pos[:, None] - 1 - slots, m) - pos[:, None]
        fresh = latest >= 0  # (batch, M): written by this chunk, else kept from the memory
        index = latest.clamp(0, time - 1)[:, :, None].expand(batch, m, self.config.d_model)

        def update(old: Tensor, chunk: list[Tensor]) -> Tensor:
            picked = torch.stack(chunk).gather(2, index[None].expand(len(chunk), -1, -1, -1))
            return torch.where(fresh[None, :, :, None], picked.to(old.dtype), old)

        new_state = (
            update(k_mem, new_k),
            update(v_mem, new_v),
            (fresh | valid)[None],
            new_pos[None],
        )
        return y, new_state

    def _memory_positions(self, pos: Tensor) -> Tensor:
        """(batch,) positions -> (batch, M): each slot's position relative to the next step (slot i
        holds position pos - 1 - ((pos - 1 - i) mod M), so -1 for the latest step, down to -M)."""
        slots = torch.arange(self.memory, device=pos.device)
        return -1 - torch.remainder(pos[:, None] - 1 - slots, self.memory)

    def _angles(self, positions: Tensor) -> tuple[Tensor, Tensor]:
        """cos and sin of the rotary angles at positions (batch, n) -> (batch, 1, n, half)."""
        angle = positions[:, None, :, None].to(self.inv_freq.dtype) * self.inv_freq
        return angle.cos(), angle.sin()

    def step(self, x_t: Tensor, state: Any = None) -> tuple[Tensor, MemoryState]:
        """One position per row: what ``forward`` computes for a chunk of one, without the chunk
        machinery (masks over M + 1 keys by distance, angles for every position, a gathered buffer
        update), which costs dozens of tiny tensor operations per character when sampling. The query
        is at relative position 0, so every valid slot is in the window; the new keys and values
        go to slot pos mod M of a new state (the input state is left as it was)."""
        batch = x_t.shape[0]
        if state is None:
            state = self.zero_state(batch, x_t.device, x_t.dtype)
        k_mem, v_mem, valid, pos = state
        rope_mem = self._angles(self._memory_positions(pos[0]))
        allowed = F.pad(valid[0], (0, 1), value=True)[:, None, None]  # (batch, 1, 1, M + 1): valid slots and itself
        h = self.embed(x_t)[:, None]
        new_k, new_v = [], []
        for i, block in enumerate(self.blocks):
            h, k, v = block.step(h, k_mem[i], v_mem[i], rope_mem, allowed)
            new_k.append(k)
            new_v.append(v)
        slot = torch.remainder(pos, self.memory)[..., None]  # (1, batch, 1)
        index = slot[..., None].expand(len(self.blocks), -1, -1, k_mem.shape[-1])

        def write(old: Tensor, step: list[Tensor]) -> Tensor:
            return old.scatter(2, index, torch.stack(step).to(old.dtype))

        new_state = (write(k_mem, new_k), write(v_mem, new_v), valid.scatter(2, slot, True), pos + 1)
        return self.norm(h[:, 0]), new_state
