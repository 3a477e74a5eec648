"""A text file of tab-separated lines as a packed table, for tasks that read big TSV files.

Why: a million ``source<TAB>target`` lines read with ``splitlines`` become millions of Python
strings and tuples (hundreds of MB, and seconds to build). ``LineTable`` memory-maps the file and
keeps only numpy arrays of offsets (start, tab positions, end: 8 bytes per number), found with
vectorised scans; a row is decoded only when it is asked for. Validation (UTF-8, the number of
fields, no empty field) and the character vocabulary are computed once, in chunks, so memory
stays bounded whatever the file size. Torch-free; imports numpy.
"""

from __future__ import annotations

import codecs
import mmap
import zlib
from pathlib import Path

import numpy as np

from zoo.errors import ZooError

CHUNK = 1 << 22


class LineTable:
    """The non-blank lines of a UTF-8 file, each ``columns`` fields separated by tabs.

    ``row(i)`` decodes line i's fields; ``chars`` is every character of every field (sorted);
    ``field_lengths(k)`` and ``field_hashes(k)`` are numpy arrays over all rows. A line with the
    wrong number of fields or an empty field is a ZooError naming its line number and text
    (``expected`` says what a line should look like). CRLF line ends are accepted.
    """

    def __init__(self, path: str | Path, columns: int = 2, expected: str = "source<TAB>target") -> None:
        self.path = Path(path)
        self.columns = columns
        try:
            with open(self.path, "rb") as fh:
                size = fh.seek(0, 2)
                self._map = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        except OSError as exc:
            raise ZooError(f"{self.path}: cannot read ({exc.strerror or exc})") from None
        buf = np.frombuffer(self._map, dtype=np.uint8) if size else np.empty(0, np.uint8)
        self.ascii = self._check_utf8()
        newlines = np.flatnonzero(buf == 10)
        starts = np.concatenate(([0], newlines + 1))
        ends = np.concatenate((newlines, [size]))
        numbers = np.arange(1, len(starts) + 1)
        crlf = (ends > starts) & (buf[np.maximum(ends - 1, 0)] == 13) if size else np.zeros(len(ends), bool)
        ends = ends - crlf
        keep = ends > starts  # blank lines are skipped
        starts, ends, numbers = starts[keep], ends[keep], numbers[keep]
        tabs = np.flatnonzero(buf == 9)
        first = np.searchsorted(tabs, starts)
        count = np.searchsorted(tabs, ends) - first
        bad = count != columns - 1
        seps = np.empty((len(starts), columns - 1), dtype=np.int64)
        if len(tabs):
            for k in range(columns - 1):
                seps[:, k] = tabs[np.minimum(first + k, len(tabs) - 1)]
        # the only per-line memory kept: field k of row i is bytes bounds[i, k] + 1 .. bounds[i, k + 1]
        bounds = np.column_stack([starts - 1, seps, ends])
        bad |= (np.diff(bounds, axis=1) <= 1).any(axis=1)
        if bad.any():
            i = int(np.argmax(bad))
            line = bytes(self._map[starts[i] : ends[i]]).decode("utf-8")
            raise ZooError(f"{self.path}:{numbers[i]}: expected '{expected}', got {line!r}")
        if not len(starts):
            raise ZooError(f"{self.path}: no {expected} lines")
        self._bounds = bounds
        self.chars = self._vocabulary(line_end_crs=int(crlf.sum()))

    def __len__(self) -> int:
        return len(self._bounds)

    def row(self, i: int) -> tuple[str, ...]:
        b = self._bounds[i]
        return tuple(bytes(self._map[b[k] + 1 : b[k + 1]]).decode("utf-8") for k in range(self.columns))

    def field_lengths(self, k: int) -> np.ndarray:
        """Characters in field ``k`` of every row."""
        lo, hi = self._bounds[:, k] + 1, self._bounds[:, k + 1]
        if self.ascii:
            return hi - lo
        buf = np.frombuffer(self._map, dtype=np.uint8)
        lead = np.concatenate(([0], np.cumsum((buf & 0xC0) != 0x80, dtype=np.int64)))
        return lead[hi] - lead[lo]

    def field_hashes(self, k: int, salt: int = 0) -> np.ndarray:
        """A 32-bit hash (crc32) of field ``k`` of every row: equal fields hash equal."""
        m, lo, hi = self._map, (self._bounds[:, k] + 1).tolist(), self._bounds[:, k + 1].tolist()
        return np.fromiter((zlib.crc32(m[a:b], salt) for a, b in zip(lo, hi, strict=True)),
                           dtype=np.uint32, count=len(lo))

    def _chunks(self):
        for at in range(0, len(self._map), CHUNK):
            yield at, bytes(self._map[at : at + CHUNK])

    def _check_utf8(self) -> bool:
        decoder = codecs.getincrementaldecoder("utf-8")()
        ascii_only = True
        for at, chunk in self._chunks():
            ascii_only = ascii_only and chunk.isascii()
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                raise ZooError(f"{self.path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset "
                               f"{at + exc.start - len(decoder.getstate()[0])})") from None
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise ZooError(f"{self.path}: not UTF-8 text (it ends inside a character)") from None
        return ascii_only

    def _vocabulary(self, line_end_crs: int) -> str:
        """Every character of the fields; a CR is one only where it is not part of a CRLF end."""
        decoder = codecs.getincrementaldecoder("utf-8")()
        known, chars, crs = b"\t\n", set(), 0
        for _, chunk in self._chunks():
            crs += chunk.count(b"\r")
            rest = decoder.decode(chunk).encode("utf-8").translate(None, known)
            if rest:
                new = set(rest.decode("utf-8"))
                chars |= new
                known += "".join(c for c in new if c.isascii()).encode("ascii")
        if crs == line_end_crs:
            chars.discard("\r")
        return "".join(sorted(chars))
