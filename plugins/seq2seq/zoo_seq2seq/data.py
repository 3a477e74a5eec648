"""Source/target string pairs: the built-in generators, user TSV files, and the character vocabulary.

Everything here is plain Python (no torch) and deterministic in the seed. Generated sets keep a
held-out split that shares no source string with training (dates: no *date* in common, in any
format), so held-out exact-match measures generalisation, not recall.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import string
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import overload

import numpy as np

from zoo import LineTable, ZooError
from zoo_seq2seq.config import DATASETS, Seq2SeqConfig

Pair = tuple[str, str]

ANTONYMS: tuple[Pair, ...] = (
    ("man", "women"),
    ("black", "white"),
    ("king", "queen"),
    ("girl", "boy"),
    ("up", "down"),
    ("high", "low"),
)
"""The classic exercise's six pairs, verbatim (including its 'man' -> 'women')."""

ALPHABETS = {"antonyms": string.ascii_lowercase, "reverse": string.ascii_lowercase}
"""Characters a built-in set's vocabulary always holds, beyond those its pairs use: the antonyms
exercise works over a-z, so a model trained on six pairs still reads any lower-case word."""

SMALL_FILE = 20
"""User files with fewer pairs than this are evaluated on their training pairs: nothing to spare."""


@dataclass(frozen=True)
class Pairs:
    """A training set and the pairs evaluation uses."""

    train: Sequence[Pair]
    held_out: Sequence[Pair]
    evaluated_on_train: bool = False
    """True when ``held_out`` *is* the training set (antonyms, small files): memorisation only."""
    table: LineTable | None = None
    """The packed file behind ``train`` and ``held_out`` (user files), else None (lists)."""

    def chars(self) -> str:
        """Every character of every pair, sorted."""
        if self.table is not None:
            return self.table.chars
        return "".join(sorted({c for s, t in [*self.train, *self.held_out] for c in s + t}))

    def longest(self) -> tuple[int, int]:
        """Characters in the longest source and the longest target."""
        if self.table is not None:
            return int(self.table.field_lengths(0).max()), int(self.table.field_lengths(1).max())
        every = [*self.train, *self.held_out]
        return max(len(s) for s, _ in every), max(len(t) for _, t in every)

    def digest(self) -> str:
        """sha256 of the training pairs (a file: of its bytes and the split), 16 hex digits."""
        if self.table is not None:
            h = hashlib.sha256()
            with open(self.table.path, "rb") as fh:
                while block := fh.read(1 << 22):
                    h.update(block)
            h.update(np.asarray(self.train.rows if isinstance(self.train, TableRows) else []).tobytes())
            return h.hexdigest()[:16]
        import json

        return hashlib.sha256(json.dumps(list(self.train), ensure_ascii=False).encode()).hexdigest()[:16]


class TableRows(Sequence[Pair]):
    """Some rows of a LineTable as a sequence of (source, target), decoded when indexed."""

    def __init__(self, table: LineTable, rows: np.ndarray) -> None:
        self.table, self.rows = table, rows

    def __len__(self) -> int:
        return len(self.rows)

    @overload
    def __getitem__(self, i: int) -> Pair: ...
    @overload
    def __getitem__(self, i: slice) -> list[Pair]: ...
    def __getitem__(self, i: int | slice) -> Pair | list[Pair]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        source, target = self.table.row(int(self.rows[i]))
        return source, target

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TableRows) and other.table is self.table and np.array_equal(other.rows, self.rows)


def load_pairs(config: Seq2SeqConfig, seed: int) -> Pairs:
    """The pairs named by ``config.data``: a built-in set or a TSV file path."""
    rng = random.Random(f"seq2seq:{config.data}:{seed}")
    if config.data == "antonyms":
        return Pairs(list(ANTONYMS), list(ANTONYMS), evaluated_on_train=True)
    if config.data == "reverse":
        return _split_unique(lambda r: _reversal(r, config.min_chars, config.max_chars), config, rng)
    if config.data == "addition":
        return _split_unique(lambda r: _sum(r, config.digits), config, rng)
    if config.data == "dates":
        return _dates(config, rng)
    path = Path(config.data).expanduser()
    if not path.is_file():
        raise ZooError(
            f"data '{config.data}': not a built-in set ({', '.join(DATASETS)}) nor an existing file"
        )
    return file_pairs(path, config.held_out_fraction, seed)


# -- generators ------------------------------------------------------------------------------
def _reversal(rng: random.Random, low: int, high: int) -> Pair:
    text = "".join(rng.choices(string.ascii_lowercase, k=rng.randint(low, high)))
    return text, text[::-1]


def _number(rng: random.Random, digits: int) -> int:
    """A number with a uniformly chosen digit count (so short operands are as common as long ones)."""
    n = rng.randint(1, digits)
    return rng.randint(0 if n == 1 else 10 ** (n - 1), 10**n - 1)


def _sum(rng: random.Random, digits: int) -> Pair:
    a, b = _number(rng, digits), _number(rng, digits)
    return f"{a}+{b}", str(a + b)


def _split_unique(draw: Callable[[random.Random], Pair], config: Seq2SeqConfig, rng: random.Random) -> Pairs:
    """Draw distinct sources, shuffle them, and deal ``held_out`` to evaluation, the rest to training.

    The shuffle matters: the first draws hold most of a small corner of the space (there are only
    100 one-digit sums and 26 one-letter strings), so taking them as the held-out set would leave
    training without that corner. When the space is too small for both sizes, training is what
    shrinks, and held-out is capped at a fifth of what could be drawn.
    """
    wanted = config.examples + config.held_out
    seen: dict[str, str] = {}
    misses = 0
    while len(seen) < wanted and misses < 20 * wanted:
        source, target = draw(rng)
        if source in seen:
            misses += 1
        else:
            seen[source] = target
    pairs = list(seen.items())
    rng.shuffle(pairs)
    held = min(config.held_out, len(pairs) // 5) if len(pairs) < wanted else config.held_out
    if held < 1 or len(pairs) - held < 1:
        raise ZooError(f"data '{config.data}': too few distinct pairs ({len(pairs)}) to hold any out")
    return Pairs(train=pairs[held:], held_out=pairs[:held])


MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

DATE_FORMATS: tuple[Callable[[dt.date], str], ...] = (
    lambda d: f"{MONTHS[d.month - 1]} {d.day}, {d.year}",            # November 23, 2026
    lambda d: f"{d.day:02d}/{d.month:02d}/{d.year}",                 # 23/11/2026
    lambda d: f"{DAYS[d.weekday()][:3]} {d.day} {MONTHS[d.month - 1][:3]} {d.year % 100:02d}",  # Mon 23 Nov 26
    lambda d: f"{d.day} {MONTHS[d.month - 1]} {d.year}",             # 23 November 2026
    lambda d: f"{MONTHS[d.month - 1][:3]} {d.day} {d.year}",         # Nov 23 2026
    lambda d: f"{DAYS[d.weekday()]}, {MONTHS[d.month - 1].lower()} {d.day}, {d.year}",  # Monday, november 23, 2026
    lambda d: f"{d.day}.{d.month}.{d.year % 100:02d}",              # 23.11.26
)
"""Human spellings of a date. Years are 2000-2099, so a two-digit year is unambiguous."""

FIRST_DAY, LAST_DAY = dt.date(2000, 1, 1), dt.date(2099, 12, 31)


def human_date(day: dt.date, style: int) -> Pair:
    """One date written in style ``style`` (an index into DATE_FORMATS) and its ISO form."""
    return DATE_FORMATS[style](day), day.isoformat()


def _dates(config: Seq2SeqConfig, rng: random.Random) -> Pairs:
    """Split the calendar first: a held-out date never appears in training in any format."""
    days = [FIRST_DAY + dt.timedelta(n) for n in range((LAST_DAY - FIRST_DAY).days + 1)]
    rng.shuffle(days)
    held_days, train_days = days[: config.held_out], days[config.held_out :]
    held_out = [human_date(d, rng.randrange(len(DATE_FORMATS))) for d in held_days]
    train: dict[str, str] = {}
    while len(train) < min(config.examples, len(train_days) * len(DATE_FORMATS)):
        source, target = human_date(rng.choice(train_days), rng.randrange(len(DATE_FORMATS)))
        train[source] = target
    return Pairs(train=list(train.items()), held_out=held_out)


# -- user files ------------------------------------------------------------------------------
def read_tsv(path: Path) -> list[Pair]:
    """Parse ``source<TAB>target`` lines (blank lines skipped); any other line is an error."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ZooError(f"{path}: not UTF-8 text ({exc.reason})") from None
    pairs = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not parts[0] or not parts[1]:
            raise ZooError(f"{path}:{number}: expected 'source<TAB>target', got {line!r}")
        pairs.append((parts[0], parts[1]))
    if not pairs:
        raise ZooError(f"{path}: no source<TAB>target pairs")
    return pairs


def file_pairs(path: Path, fraction: float, seed: int) -> Pairs:
    """A TSV file as a packed table (no Python object per line), split by ``held_out_rows``."""
    table = LineTable(path, columns=2, expected="source<TAB>target")
    if len(table) < SMALL_FILE:
        every = TableRows(table, np.arange(len(table)))
        return Pairs(every, every, evaluated_on_train=True, table=table)
    held = held_out_rows(table.field_hashes(0, _salt(seed)), fraction, seed)
    rows = np.arange(len(table))
    if not held.any():  # one distinct source: nothing to hold out
        return Pairs(TableRows(table, rows), TableRows(table, rows), evaluated_on_train=True, table=table)
    return Pairs(TableRows(table, rows[~held]), TableRows(table, rows[held]), table=table)


def split_file_pairs(pairs: list[Pair], fraction: float, seed: int) -> Pairs:
    """``file_pairs``'s rule on pairs already in memory."""
    if len(pairs) < SMALL_FILE:
        return Pairs(pairs, pairs, evaluated_on_train=True)
    salt = _salt(seed)
    held = held_out_rows(np.array([zlib.crc32(s.encode(), salt) for s, _ in pairs], dtype=np.uint32), fraction, seed)
    if not held.any():  # one distinct source: nothing to hold out
        return Pairs(pairs, pairs, evaluated_on_train=True)
    return Pairs(
        train=[p for p, h in zip(pairs, held, strict=True) if not h],
        held_out=[p for p, h in zip(pairs, held, strict=True) if h],
    )


def _salt(seed: int) -> int:
    return zlib.crc32(f"seq2seq:{seed}".encode())


def held_out_rows(source_hashes: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Which rows are held out: a share of the distinct sources (grouped by hash, shuffled by the
    seed), with every line of a held-out source, so no source is in both splits."""
    distinct, group = np.unique(source_hashes, return_inverse=True)
    order = np.random.default_rng(seed).permutation(len(distinct))
    chosen = np.zeros(len(distinct), dtype=bool)
    chosen[order[: min(max(1, round(fraction * len(distinct))), len(distinct) - 1)]] = True
    return chosen[group]


# -- vocabulary ------------------------------------------------------------------------------
PAD, BOS, EOS = 0, 1, 2
SPECIALS = ("<pad>", "<s>", "</s>")


class Vocab:
    """Characters <-> ids, one table for sources and targets; ids 0-2 are pad, start and end."""

    def __init__(self, chars: Iterable[str]) -> None:
        self.chars = sorted(set(chars))
        self.index = {c: i + len(SPECIALS) for i, c in enumerate(self.chars)}

    @classmethod
    def from_pairs(cls, pairs: Iterable[Pair]) -> Vocab:
        return cls(c for source, target in pairs for c in source + target)

    def __len__(self) -> int:
        return len(SPECIALS) + len(self.chars)

    def encode(self, text: str) -> list[int]:
        """Ids of ``text``; a character the model never saw is the user's error, named."""
        unknown = sorted({c for c in text if c not in self.index})
        if unknown:
            shown = ", ".join(repr(c) for c in unknown)
            raise ZooError(f"input has characters outside the model's vocabulary: {shown}")
        return [self.index[c] for c in text]

    def decode(self, ids: Sequence[int]) -> str:
        """Text of ``ids`` up to the first end token, special tokens dropped."""
        out = []
        for i in ids:
            if i == EOS:
                break
            if i >= len(SPECIALS):
                out.append(self.chars[i - len(SPECIALS)])
        return "".join(out)
