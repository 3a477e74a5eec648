"""Labelled texts: the bundled surnames, a folder of ``Language.txt`` files, or a TSV file.

Everything is held as a few flat tensors - every text's characters concatenated, with start,
length and label per text - so a million-line file costs a few bytes per character and no Python
object per line once loaded. The held-out split hashes each text, so a text is in one split only
(duplicates and the same name under two labels included) without a set of all texts.
"""

from __future__ import annotations

import hashlib
import sys
import unicodedata
import zlib
from array import array
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import torch
from torch import Tensor

from zoo import ZooError

BUILTIN = "builtin"
SMALL = 20
"""Data with fewer texts than this trains on all of them and is evaluated on its training texts."""


@dataclass
class Texts:
    """Labelled texts as flat tensors; ``ids`` holds vocabulary ids, not characters."""

    ids: Tensor  # (total characters,) uint8 or int16
    starts: Tensor  # (n,) int64
    lengths: Tensor  # (n,) int64
    labels: Tensor  # (n,) int64
    held: Tensor  # (n,) bool: in the held-out split
    chars: str
    classes: list[str]
    digest: str

    def __len__(self) -> int:
        return len(self.labels)

    def rows(self, index: Tensor) -> tuple[Tensor, Tensor]:
        """Right-padded ids (len(index), longest) and lengths of the texts at ``index``."""
        lengths = self.lengths[index]
        width = int(lengths.max()) if len(index) else 1
        steps = torch.arange(width)
        pos = (self.starts[index][:, None] + steps).clamp(max=max(len(self.ids) - 1, 0))
        valid = steps[None, :] < lengths[:, None]
        return self.ids[pos].long() * valid, lengths


def fold(text: str) -> str:
    """Accents removed (Dvořák -> Dvorak), as the PyTorch tutorial's unicodeToAscii does."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def source_text(spec: str) -> tuple[str, str]:
    """The data as ``text<TAB>label`` lines and the name to use in messages."""
    if spec == BUILTIN:
        raw = resources.files("zoo_names").joinpath("data", "names.tsv").read_bytes()
        return decode(raw, "the bundled names.tsv"), "names.tsv"
    path = Path(spec).expanduser()
    if path.is_dir():
        return folder_text(path), str(path)
    if not path.is_file():
        raise ZooError(f"data: no such file or folder '{spec}' (give 'builtin', a folder of Language.txt files or a .tsv file)")
    return decode(path.read_bytes(), str(path)), str(path)


def decode(raw: bytes, source: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ZooError(f"data: {source} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})") from None


def folder_text(path: Path) -> str:
    """The tutorial's layout: one ``Language.txt`` per class, one name per line -> TSV text."""
    files = sorted(p for p in path.glob("*.txt") if p.is_file())
    if not files:
        raise ZooError(f"data: {path} has no class files (expected Language.txt files, one name per line)")
    parts = []
    for file in files:
        if "\t" in file.stem or not file.stem.strip():
            raise ZooError(f"data: {file.name}: the file name is the class label and must be plain text")
        names = [line.strip() for line in decode(file.read_bytes(), str(file)).splitlines() if line.strip()]
        if not names:
            raise ZooError(f"data: {file} is empty (one name per line expected)")
        bad = next((n for n in names if "\t" in n), None)
        if bad is not None:
            raise ZooError(f"data: {file}: a name contains a tab: {bad!r}")
        parts.append("".join(f"{name}\t{file.stem}\n" for name in names))
    return "".join(parts)


def held_out(text: str, fraction: float, seed: int) -> bool:
    """Whether ``text`` is in the held-out split: a stable hash, so equal texts go together."""
    return zlib.crc32(f"{seed}\0{text}".encode()) % 100_000 < fraction * 100_000


def load(spec: str, *, fraction: float, seed: int, fold_accents: bool) -> Texts:
    """Parse, split and encode the labelled texts named by ``spec``; ZooError on bad input."""
    text, source = source_text(spec)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    if fold_accents:
        text = fold(text)
    starts, lengths, labels, held = array("q"), array("q"), array("q"), array("b")
    classes: dict[str, int] = {}
    offset = 0
    for number, line in enumerate(text.split("\n"), 1):
        begin, offset = offset, offset + len(line) + 1
        line = line.rstrip("\r")
        if not line.strip():
            continue
        name, tab, label = line.partition("\t")
        name, label = name.strip(), label.strip()
        if not tab or "\t" in label:
            raise ZooError(f"data: {source}:{number}: expected 'text<TAB>label', got {line[:60]!r}")
        if not name or not label:
            raise ZooError(f"data: {source}:{number}: empty {'text' if not name else 'label'} in {line[:60]!r}")
        starts.append(begin + line.index(name))
        lengths.append(len(name))
        labels.append(classes.setdefault(label, len(classes)))
        held.append(held_out(name, fraction, seed))
    if not labels:
        raise ZooError(f"data: {source} has no text<TAB>label lines")
    if len(classes) < 2:
        raise ZooError(f"data: {source} has one class only ({next(iter(classes))}); a classifier needs two or more")
    return _encode(text, starts, lengths, labels, held, classes, digest)


def _encode(text: str, starts: array, lengths: array, labels: array, held: array,
            classes: dict[str, int], digest: str) -> Texts:
    """Keep only the texts' characters, as vocabulary ids in the smallest integer type."""
    codes = torch.frombuffer(bytearray(text.encode("utf-32-le")), dtype=torch.int32)
    start_t, length_t = torch.tensor(starts, dtype=torch.long), torch.tensor(lengths, dtype=torch.long)
    delta = torch.zeros(len(codes) + 1, dtype=torch.int32)
    delta.index_add_(0, start_t, torch.ones_like(start_t, dtype=torch.int32))
    delta.index_add_(0, start_t + length_t, -torch.ones_like(start_t, dtype=torch.int32))
    kept = codes[delta.cumsum(0)[:-1] > 0]
    del codes, delta
    alphabet = torch.unique(kept)
    ids = torch.searchsorted(alphabet, kept).to(torch.uint8 if len(alphabet) <= 256 else torch.int16)
    order = sorted(classes, key=classes.__getitem__)
    label_t = torch.tensor(labels, dtype=torch.long)
    # Sort classes by name so the label ids do not depend on line order.
    remap = torch.tensor([sorted(order).index(c) for c in order], dtype=torch.long)
    return Texts(
        ids=ids,
        starts=torch.cumsum(length_t, 0) - length_t,
        lengths=length_t,
        labels=remap[label_t],
        held=torch.tensor(held, dtype=torch.bool),
        chars="".join(chr(int(c)) for c in alphabet),
        classes=sorted(order),
        digest=digest,
    )


def say(message: str) -> None:
    """One informational line on stderr (what the data made the task do)."""
    print(f"names: {message}", file=sys.stderr, flush=True)
