"""Suite-wide test settings (tests/ and every plugins/*/tests)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    """Run torch on one intra-op thread in every test.

    The suite's networks are tiny: extra threads only wait on each other, and on a busy 2-core
    machine spinning OpenMP threads made small steps ten times slower (see zoo.testing.one_thread).
    """
    from zoo.testing import one_thread

    with one_thread():
        yield
