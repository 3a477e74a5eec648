"""Settings of the ``charlm`` task (torch-free: read at start-up by ``zoo info`` and ``--help``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from zoo import option


@dataclass
class CharLMConfig:
    """What text to model and how to cut it into training windows."""

    data: str = option(
        "builtin",
        "corpus: 'builtin' (CPython's documentation text, offline), a named dataset "
        "('tinyshakespeare'), a local UTF-8 file path, a directory of text files, or an http(s) "
        "URL (downloaded once, cached)",
    )
    val_fraction: float = option(0.1, "fraction of the text, taken from its end, held out for validation")
    split: Literal["fraction", "enwik8"] = option(
        "fraction",
        "fraction: the last val_fraction is validation; enwik8: the first 90% trains, the next 5% "
        "validates, the last 5% is a test split reported at the end (with units=bytes: 90M/5M/5M bytes of enwik8)",
    )
    units: Literal["chars", "bytes"] = option(
        "chars",
        "symbols modelled: chars (Unicode characters of the UTF-8 text) or bytes (every byte a "
        "symbol, any file: the convention of enwik8 results, whose bits per character are per byte)",
    )
    val_chars: int = option(
        250_000,
        "cap on validation characters evaluated during training (16 evenly spaced pieces); the "
        "end of the run and zoo eval use the whole split; 0: no cap",
    )
    extensions: str = option(
        "", "directory corpus: comma-separated file name endings to take ('.py,.md'); empty: all files"
    )
    max_file_mb: float = option(10.0, "directory corpus: files larger than this many MB are skipped; 0: no cap")
    on_bad_file: Literal["refuse", "skip"] = option(
        "refuse", "directory corpus: a file that is not UTF-8 is refused (one error naming it) or skipped (named)"
    )
    window: int = option(64, "characters per training window (truncated back-propagation length)")
    batching: Literal["streams", "random"] = option(
        "streams",
        "streams: B contiguous streams, state carried across windows (char-rnn); "
        "random: independent random windows, each from a zero state",
    )
    reset_every: int = option(
        16,
        "streams: each stream restarts from a zero state every this many windows, staggered "
        "across streams, so the model also learns to start from nothing (as sampling does); "
        "0 carries the state forever",
    )
    loss: Literal["all", "last"] = option(
        "all",
        "all: predict every next character of a window; last: only the character after the "
        "window (the Andersen char-rnn tutorial's many-to-one training)",
    )
    head: Literal["linear", "none", "tied"] = option(
        "linear",
        "linear: a Linear layer maps the backbone's outputs to character scores; none: the "
        "outputs are the scores (hidden_size must equal the vocabulary size; the lecture's RNN "
        "without a Linear head); tied: a Linear down to embedding_size, then the embedding "
        "matrix transposed (weight tying, Press & Wolf 2017; input: embedding)",
    )
    output_norm: bool = option(
        True,
        "layer-normalise the backbone's outputs before the head (not with head=none; runs saved "
        "before this setting existed had none)",
        absent=False,
    )
    input: Literal["embedding", "onehot"] = option("embedding", "how characters enter the backbone")
    embedding_size: int = option(64, "embedding width (input: embedding)")
    io_dropout: float = option(
        0.0,
        "dropout on the backbone's inputs (the embeddings or one-hot vectors) and on its outputs "
        "before the head, while training; the model's own dropout acts between its layers",
    )

    def __post_init__(self) -> None:
        if not 0.0 < self.val_fraction < 1.0:
            raise ValueError("val_fraction must be between 0 and 1 (exclusive)")
        if self.window < 1:
            raise ValueError("window must be at least 1")
        if self.reset_every < 0:
            raise ValueError("reset_every must be 0 (never) or a positive number of windows")
        if self.val_chars < 0:
            raise ValueError("val_chars must be 0 (no cap) or a positive number of characters")
        if self.max_file_mb < 0:
            raise ValueError("max_file_mb must be 0 (no cap) or positive")
        if not 0.0 <= self.io_dropout < 1.0:
            raise ValueError(f"io_dropout must be in [0, 1), got {self.io_dropout}")
        if self.embedding_size < 1:
            raise ValueError("embedding_size must be at least 1")
