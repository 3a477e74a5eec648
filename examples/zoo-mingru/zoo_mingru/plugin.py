"""Entry point of seqzoo-example-mingru: registration only, no torch import.

``zoo`` imports this module at start-up (entry point group ``zoo``), so it names its classes by
import path; torch is imported only when a command trains or runs them.
"""

from __future__ import annotations

from zoo import hookimpl
from zoo_mingru.config import MinGRUConfig, ParityConfig


@hookimpl
def register_models(register):
    register(
        "mingru-example",  # seqzoo-modern registers "mingru": names are global across plugins
        "zoo_mingru.model:MinGRU",
        config=MinGRUConfig,
        summary="minGRU (Feng et al. 2024): gates from the input only, trained with a parallel scan",
    )


@hookimpl
def register_tasks(register):
    register(
        "parity",
        "zoo_mingru.task:ParityTask",
        config=ParityConfig,
        summary="Running parity of a bit string (XOR of the bits so far)",
    )
