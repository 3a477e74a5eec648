"""Entry point of the seqzoo-seq2seq plugin: registration only, no torch import."""

from __future__ import annotations

from collections.abc import Callable

from zoo import hookimpl
from zoo_seq2seq.config import Seq2SeqConfig


@hookimpl
def register_tasks(register: Callable[..., None]) -> None:
    register(
        "seq2seq",
        "zoo_seq2seq.task:Seq2SeqTask",
        config=Seq2SeqConfig,
        summary="encoder-decoder: antonyms, reversal, addition, dates or your pairs; attention, beam search",
    )
