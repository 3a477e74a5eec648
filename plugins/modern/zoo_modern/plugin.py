"""Entry point of the seqzoo-modern plugin: registration only, no torch import."""

from __future__ import annotations

from collections.abc import Callable

from zoo import hookimpl
from zoo_modern.config import MinRNNConfig, TransformerConfig


@hookimpl
def register_models(register: Callable[..., None]) -> None:
    register(
        "transformer",
        "zoo_modern.transformer:Transformer",
        config=TransformerConfig,
        summary="causal Transformer with a finite memory of the last M steps (rotary positions)",
    )
    register(
        "minlstm",
        "zoo_modern.minrnn:MinLSTM",
        config=MinRNNConfig,
        summary="minLSTM (Feng et al. 2024): gates from the input only, parallel scan in log space",
    )
    register(
        "mingru",
        "zoo_modern.minrnn:MinGRU",
        config=MinRNNConfig,
        summary="minGRU (Feng et al. 2024): gates from the input only, parallel scan in log space",
    )
