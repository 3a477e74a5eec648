"""Settings of the ``names`` task (torch-free: read at start-up by ``zoo info`` and ``--help``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from zoo import option


@dataclass
class NamesConfig:
    """Which labelled texts to learn and how the classifier reads them."""

    data: str = option(
        "builtin",
        "builtin (13,739 surnames in 18 languages, shipped with the plugin), a folder of "
        "Language.txt files (one name per line), or a UTF-8 file of text<TAB>label lines",
    )
    held_out_fraction: float = option(
        0.1, "share of the distinct texts held out for evaluation (a text is never in both splits)"
    )
    split_seed: int = option(0, "seed of the held-out split (independent of the training seed)")
    sampling: Literal["balanced", "natural"] = option(
        "balanced",
        "balanced: each training example's class is drawn uniformly, then a text of it (as the "
        "PyTorch tutorial's random examples do); natural: texts drawn as often as they occur",
    )
    input: Literal["onehot", "embedding"] = option("onehot", "how characters enter the backbone")
    embedding_size: int = option(32, "embedding width (input: embedding)")
    fold_accents: bool = option(
        True, "fold accents to plain letters (Dvořák -> Dvorak) in the data and in what zoo run is given"
    )
    target: float | None = option(None, "held-out accuracy at which training stops early (none: run the budget)")

    def __post_init__(self) -> None:
        if not 0.0 < self.held_out_fraction < 1.0:
            raise ValueError("held_out_fraction must be between 0 and 1 (exclusive)")
        if self.embedding_size < 1:
            raise ValueError("embedding_size must be at least 1")
        if self.target is not None and not 0.0 < self.target <= 1.0:
            raise ValueError("target must be in (0, 1]")
