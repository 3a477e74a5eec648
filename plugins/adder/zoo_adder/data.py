"""The adder's data: bit-serial encoding of sums and the train/held-out split of the pair space.

The split is a hash partition: a pair is held out when a hash of the *unordered* pair (and the
split seed) falls below ``share``. It is a pure function of the pair, so no pair can be both
trained on and held out, for any width, without storing either set; hashing the unordered pair
also keeps ``b+a`` out of training when ``a+b`` is held out.
"""

from __future__ import annotations

import torch
from torch import Tensor

_M32 = 0xFFFFFFFF
_MULT = 0x45D9F3B  # < 2**27: a 32-bit value times this stays inside int64


def bits_of(values: Tensor, width: int) -> Tensor:
    """(n,) non-negative integers -> (n, width) bits, least significant first."""
    return (values.unsqueeze(-1) >> torch.arange(width, device=values.device)) & 1


def encode(a: Tensor, b: Tensor, width: int) -> tuple[Tensor, Tensor]:
    """Inputs (n, width+1, 2) - the bits of a and b, LSB first, then a (0, 0) step for the carry -
    and targets (n, width+1): the bits of a+b."""
    inputs = torch.stack([bits_of(a, width + 1), bits_of(b, width + 1)], dim=-1)
    return inputs, bits_of(a + b, width + 1)


def int_bits(value: int, width: int) -> list[int]:
    """One Python integer of any size -> ``width`` bits, least significant first (for ``zoo run``)."""
    return [(value >> i) & 1 for i in range(width)]


def decode(bits: Tensor | list[int]) -> int:
    """Bits, least significant first -> the integer they spell (any size)."""
    return sum(int(bit) << i for i, bit in enumerate(bits.tolist() if isinstance(bits, Tensor) else bits))


def _mix(x: Tensor) -> Tensor:
    """A 32-bit integer hash (xor-shift-multiply), computed in int64 without overflow."""
    for _ in range(2):
        x = ((x ^ (x >> 16)) * _MULT) & _M32
    return x ^ (x >> 16)


def is_held_out(a: Tensor, b: Tensor, seed: int, share: float) -> Tensor:
    """Which (a, b) pairs belong to the held-out part (a bool tensor); a, b < 2**31."""
    lo, hi = torch.minimum(a, b), torch.maximum(a, b)
    h = _mix(_mix(torch.full_like(lo, seed & _M32)) ^ lo)
    h = _mix(h ^ hi)
    return h.double() / 2**32 < share


def sample_pairs(
    count: int, width: int, gen: torch.Generator, *, held_out: bool, seed: int, share: float
) -> tuple[Tensor, Tensor]:
    """``count`` random pairs of ``width``-bit numbers from one side of the split."""
    a_parts, b_parts, have = [], [], 0
    while have < count:
        a = torch.randint(2**width, (2 * count,), generator=gen)
        b = torch.randint(2**width, (2 * count,), generator=gen)
        keep = is_held_out(a, b, seed, share) == held_out
        a_parts.append(a[keep])
        b_parts.append(b[keep])
        have += int(keep.sum())
    return torch.cat(a_parts)[:count], torch.cat(b_parts)[:count]


def held_out_pairs(width: int, seed: int, share: float, limit: int, gen: torch.Generator) -> tuple[Tensor, Tensor]:
    """The evaluation pairs: every held-out pair when the pair space is small enough to enumerate
    and they number at most ``limit``, else ``limit`` random held-out pairs."""
    if width <= 10:
        a, b = torch.cartesian_prod(torch.arange(2**width), torch.arange(2**width)).unbind(1)
        keep = is_held_out(a, b, seed, share)
        a, b = a[keep], b[keep]
        if len(a) <= limit:
            return a, b
        pick = torch.randperm(len(a), generator=gen)[:limit]
        return a[pick], b[pick]
    return sample_pairs(limit, width, gen, held_out=True, seed=seed, share=share)
