"""What machine a benchmark ran on: every figure in docs/benchmarks.md names its CPU, and where it
matters its matmul rate, because the shared machines change between sessions.

Imported by the scripts beside it (``python bench/NAME.py`` puts this folder on ``sys.path``).
"""

from __future__ import annotations

import platform
import time
from pathlib import Path


def cpu_name() -> str:
    """The CPU's model name, as /proc/cpuinfo gives it."""
    cpuinfo = Path("/proc/cpuinfo")
    for line in cpuinfo.read_text().splitlines() if cpuinfo.exists() else []:
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def matmul_gflops(dtype: object = None, n: int = 1024, repeat: int = 10) -> float:
    """GFLOP/s of an n x n matrix product on torch's current threads (fp32 unless ``dtype``)."""
    import torch

    dtype = dtype or torch.float32
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    a @ b
    start = time.perf_counter()
    for _ in range(repeat):
        a @ b
    return 2 * n**3 * repeat / (time.perf_counter() - start) / 1e9
