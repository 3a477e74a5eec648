"""Settings of the ``seq2seq`` task (torch-free: read at start-up by ``zoo info`` and ``--help``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from zoo import option

DATASETS = ("antonyms", "reverse", "addition", "dates")


@dataclass
class Seq2SeqConfig:
    """Which pairs to learn and how the encoder-decoder reads and writes them."""

    data: str = option(
        "antonyms",
        "pairs to learn: antonyms (the six classic word pairs), reverse (random letter strings), "
        "addition ('123+45' -> '168'), dates (human dates -> ISO), or a path to a UTF-8 file of "
        "source<TAB>target lines",
    )
    attention: Literal["none", "dot", "general", "additive"] = option(
        "dot",
        "attention over the encoder outputs: none (the final encoder state alone carries the "
        "source), dot / general (Luong), additive (Bahdanau); dot by measurement, see "
        "docs/benchmarks.md",
    )
    teacher_forcing: float = option(
        1.0,
        "probability of feeding the true previous token to the decoder while training "
        "(else its own prediction); 1.0 is pure teacher forcing",
    )
    embedding_size: int = option(32, "width of the source and target character embeddings")
    examples: int = option(20000, "training pairs to generate (reverse, addition, dates)")
    held_out: int = option(1000, "held-out pairs to generate, disjoint from training (reverse, addition, dates)")
    held_out_fraction: float = option(
        0.1, "share of a user file's pairs held out for evaluation (files of fewer than 20 pairs "
        "are evaluated on their training pairs)"
    )
    eval_pairs: int = option(
        2000, "cap on held-out pairs evaluated during training (evenly spaced); the end of the run "
        "and zoo eval use them all; 0: no cap"
    )
    min_chars: int = option(1, "shortest string for reverse")
    max_chars: int = option(10, "longest string for reverse")
    digits: int = option(3, "most digits per operand for addition")
    target: float = option(1.0, "held-out exact-match at which training stops early")

    def __post_init__(self) -> None:
        if not 0.0 <= self.teacher_forcing <= 1.0:
            raise ValueError("teacher_forcing must be between 0 and 1")
        if self.embedding_size < 1:
            raise ValueError("embedding_size must be at least 1")
        if self.examples < 1 or self.held_out < 1:
            raise ValueError("examples and held_out must be at least 1")
        if self.eval_pairs < 0:
            raise ValueError("eval_pairs must be 0 (no cap) or positive")
        if not 0.0 < self.held_out_fraction < 1.0:
            raise ValueError("held_out_fraction must be between 0 and 1 (exclusive)")
        if not 1 <= self.min_chars <= self.max_chars:
            raise ValueError("need 1 <= min_chars <= max_chars")
        if not 1 <= self.digits <= 9:
            raise ValueError("digits must be between 1 and 9")
        if not 0.0 < self.target <= 1.0:
            raise ValueError("target must be in (0, 1]")
