"""What a corpus is made of: one file, a directory of text files, or text already in memory.

A ``Source`` yields the corpus as UTF-8 byte chunks, one file after another, so nothing
proportional to the corpus is held in memory. A directory is filtered (see ``list_directory``):
hidden entries and symbolic links are never followed, only the given extensions are taken, files
over the size cap and binary files (a NUL byte in their first 8 KiB, git's rule) are skipped.
Torch-free.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from zoo import ZooError

CHUNK = 1 << 22
"""Bytes read at a time: small enough to stay in the CPU cache for the per-chunk passes."""

BINARY_PROBE = 8192
BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Part:
    """One file of a corpus, with the stat facts that say whether it changed."""

    path: Path
    size: int
    mtime_ns: int
    inode: int

    @classmethod
    def of(cls, path: Path) -> Part:
        st = path.stat()
        return cls(path, st.st_size, st.st_mtime_ns, st.st_ino)

    def changed(self) -> bool:
        try:
            return Part.of(self.path) != self
        except OSError:
            return True


@dataclass
class Source:
    """A corpus as byte chunks: ``parts`` (files, in order) or ``text`` (in memory)."""

    name: str
    parts: list[Part] = field(default_factory=list)
    text: bytes | None = None
    directory: bool = False
    skipped: list[str] = field(default_factory=list)
    """Directory files left out as non-UTF-8 (with on_bad_file=skip), named for the user."""

    @property
    def size(self) -> int:
        return len(self.text) if self.text is not None else sum(p.size for p in self.parts)

    def identity(self) -> str | None:
        """A digest of the files' paths and stat facts: equal means unchanged (as make and git
        trust), so a warm cache needs no re-read. None for in-memory text."""
        if self.text is not None:
            return None
        h = hashlib.sha256()
        for p in self.parts:
            h.update(f"{p.path.resolve()}\0{p.size}\0{p.mtime_ns}\0{p.inode}\n".encode())
        return h.hexdigest()

    def files(self) -> Iterator[tuple[str, Iterator[bytes]]]:
        """(name, chunks) per file; a leading BOM is dropped; in a directory every file ends
        with a newline, so one file's last line never runs into the next one's first."""
        if self.text is not None:
            yield self.name, iter([_strip_bom(self.text)])
            return
        for part in self.parts:
            yield str(part.path), _read(part.path, newline=self.directory)


def _strip_bom(data: bytes) -> bytes:
    return data[len(BOM):] if data.startswith(BOM) else data


def _read(path: Path, *, newline: bool) -> Iterator[bytes]:
    last = b""
    try:
        with open(path, "rb") as fh:
            first = True
            while block := fh.read(CHUNK):
                if first:
                    block, first = _strip_bom(block), False
                if block:
                    last = block[-1:]
                    yield block
    except OSError as exc:
        raise ZooError(f"data: cannot read {path} ({exc.strerror or exc})") from None
    if newline and last and last != b"\n":
        yield b"\n"


def file_source(path: Path) -> Source:
    return Source(str(path), parts=[Part.of(path)])


def is_binary(path: Path) -> bool:
    with open(path, "rb") as fh:
        return b"\0" in fh.read(BINARY_PROBE)


def list_directory(root: Path, extensions: str, max_file_mb: float) -> Source:
    """The usable text files under ``root``, sorted by path, as one Source.

    ``extensions``: comma-separated name endings (".py,.md"); empty takes every file.
    ``max_file_mb``: files larger than this are skipped (0: no cap).
    """
    wanted = tuple(e.strip() for e in extensions.split(",") if e.strip())
    cap = int(max_file_mb * 1_000_000)
    parts: list[Part] = []
    seen = too_big = binary = 0
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            path = Path(folder) / name
            if name.startswith(".") or path.is_symlink() or not path.is_file():
                continue
            if wanted and not name.endswith(wanted):
                continue
            seen += 1
            part = Part.of(path)
            if cap and part.size > cap:
                too_big += 1
            elif part.size == 0:
                continue
            elif is_binary(path):
                binary += 1
            else:
                parts.append(part)
    if not parts:
        which = f"with extension {', '.join(wanted)} " if wanted else ""
        raise ZooError(
            f"data: directory {root} has no usable text files {which}({seen} files looked at: "
            f"{too_big} over max_file_mb={max_file_mb:g}, {binary} binary, the rest empty)"
        )
    return Source(str(root), parts=parts, directory=True)
