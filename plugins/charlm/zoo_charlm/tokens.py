"""Character ids of a corpus: encoded once, vectorised, cached on disk and memory-mapped.

Why: a 1 GB text held as a Python ``str`` plus int64 ids costs about 10 GB. Here the text is
streamed twice in 4 MiB chunks and never held whole:

1. *scan*: validate UTF-8, count characters, collect the vocabulary, hash the text (sha256);
2. *encode*: map each chunk to ids with a byte table (``bytes.translate``, pure-ASCII chunks) or a
   numpy lookup over code points, and append them to a file in the smallest integer type that
   holds the vocabulary (uint8 for up to 256 characters, else uint16, else uint32).

The cache lives under ``<cache>/tokens/``: ``<sha256>.ids`` (the raw array) and
``<sha256>.json`` (vocabulary, dtype, length), both written to a temporary name, fsynced and
renamed, the JSON last, so a half-written entry is never used. A small index
``sources/<identity>.json`` maps a source's paths and stat facts (size, mtime, inode) to its
sha256, so a warm start reads no text at all (unchanged stat facts mean an unchanged file, the
rule make and git use). Builders of one source take a file lock, so concurrent processes (ranks
under torchrun) build once and share the file; the page cache then holds one copy for all of them.
Torch-free.
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import json
import logging
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zoo import ZooError, atomic_path, write_json_atomic
from zoo_charlm.sources import Source

log = logging.getLogger("zoo.charlm")

FORMAT = 1
"""Version of the cache entry layout; entries of another version are rebuilt."""


@dataclass(frozen=True)
class Tokens:
    """An encoded corpus: its vocabulary (sorted characters) and ids, usually a read-only memmap."""

    chars: str
    ids: np.ndarray
    sha256: str
    skipped: tuple[str, ...] = ()


@dataclass
class Scan:
    """What the first pass learned."""

    chars: str
    length: int
    sha256: str
    source: Source


def dtype_for(vocab_size: int) -> np.dtype:
    """The smallest unsigned integer type whose values index ``vocab_size`` symbols."""
    if vocab_size <= 1 << 8:
        return np.dtype(np.uint8)
    if vocab_size <= 1 << 16:
        return np.dtype(np.uint16)
    return np.dtype(np.uint32)


# -- the two passes ------------------------------------------------------------------------------
def _texts(name: str, chunks: Iterator[bytes]) -> Iterator[str]:
    """Decoded pieces of one file; _NotUtf8 naming the file and byte offset if it is not UTF-8."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    for chunk, final in _and_end(chunks):
        pending = len(decoder.getstate()[0])
        try:
            text = decoder.decode(chunk, final=final)
        except UnicodeDecodeError as exc:
            at = offset - pending + exc.start
            bad = exc.object[exc.start]
            raise _NotUtf8(f"data: {name} is not UTF-8 text (byte 0x{bad:02x} at offset {at})") from None
        offset += len(chunk)
        if text:
            yield text


def _and_end(chunks: Iterator[bytes]) -> Iterator[tuple[bytes, bool]]:
    """Each chunk with final=False, then an empty one with final=True (flushes the decoder)."""
    for chunk in chunks:
        yield chunk, False
    yield b"", True


class _NotUtf8(ZooError):
    """A file of the corpus is not UTF-8."""


def scan_bytes(source: Source) -> Scan:
    """Pass 1 for ``units=bytes``: every byte is a symbol, so nothing is decoded. The vocabulary
    is returned as the characters U+0000-U+00FF of the byte values (one character per byte)."""
    digest = hashlib.sha256()
    known = b""
    length = 0
    for _, chunks in source.files():
        for chunk in chunks:
            digest.update(chunk)
            length += len(chunk)
            rest = chunk.translate(None, known)
            if rest:
                known = bytes(sorted(set(known) | set(rest)))
    if length == 0:
        raise ZooError(f"data: {source.name} is empty")
    return Scan(known.decode("latin-1"), length, digest.hexdigest(), source)


def scan(source: Source, on_bad_file: str = "refuse") -> Scan:
    """Pass 1: vocabulary, character count and sha256 of the text, without keeping the text.

    In a directory with ``on_bad_file="skip"`` a non-UTF-8 file is left out (and named in
    ``source.skipped``); otherwise it is refused with its name and the offending byte.
    """
    digest = hashlib.sha256()
    chars: set[str] = set()
    known = b""  # ASCII bytes already in ``chars``: deleting them leaves only what is new
    length = 0
    kept = []
    for index, (name, chunks) in enumerate(source.files()):
        file_digest, file_chars, file_known, file_length = digest.copy(), set(), known, 0
        try:
            for text in _texts(name, chunks):
                raw = text.encode("utf-8")
                file_digest.update(raw)
                file_length += len(text)
                rest = raw.translate(None, file_known)
                if rest:
                    new = set(rest.decode("utf-8"))
                    file_chars |= new
                    file_known += "".join(sorted(c for c in new if c.isascii())).encode("ascii")
        except _NotUtf8 as exc:
            if not source.directory or on_bad_file != "skip":
                if source.directory:
                    raise ZooError(f"{exc} (--set on_bad_file=skip leaves such files out)") from None
                raise
            source.skipped.append(name)
            continue
        digest, known, length = file_digest, file_known, length + file_length
        chars |= file_chars
        if source.parts:
            kept.append(source.parts[index])
    if source.parts:
        source.parts = kept
    if length == 0:
        raise ZooError(f"data: {source.name} is empty")
    return Scan("".join(sorted(chars)), length, digest.hexdigest(), source)


def encode_bytes(found: Scan, write: Callable[[bytes | memoryview], object]) -> None:
    """Pass 2 for ``units=bytes``: one ``bytes.translate`` per chunk."""
    table = bytearray(256)
    for i, c in enumerate(found.chars):
        table[ord(c)] = i
    digest, length = hashlib.sha256(), 0
    for _, chunks in found.source.files():
        for chunk in chunks:
            digest.update(chunk)
            length += len(chunk)
            write(chunk.translate(table))
    changed = any(p.changed() for p in found.source.parts)
    if changed or length != found.length or digest.hexdigest() != found.sha256:
        raise _Changed()


def encode(found: Scan, write: Callable[[bytes | memoryview], object]) -> None:
    """Pass 2: write the ids of every character, in order; refuse if the text changed since pass 1."""
    chars = found.chars
    dtype = dtype_for(len(chars))
    points = np.array([ord(c) for c in chars], dtype=np.uint32)
    table = bytearray(256)  # ASCII byte -> id, for bytes.translate (uint8 ids only)
    for i, c in enumerate(chars):
        if c.isascii():
            table[ord(c)] = i
    ascii_table = bytes(table)
    dense = int(points[-1]) < 1 << 20
    lookup = np.zeros(int(points[-1]) + 1 if dense else 0, dtype=dtype)
    if dense:
        lookup[points] = np.arange(len(chars), dtype=dtype)
    digest = hashlib.sha256()
    length = 0
    for name, chunks in found.source.files():
        try:
            for text in _texts(name, chunks):
                raw = text.encode("utf-8")
                digest.update(raw)
                length += len(text)
                if text.isascii() and dtype.itemsize == 1:
                    write(raw.translate(ascii_table))
                    continue
                if text.isascii():
                    cps = np.frombuffer(raw, dtype=np.uint8)
                else:
                    cps = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
                if dense and int(cps.max()) < len(lookup):
                    ids = lookup[cps]
                else:
                    ids = np.searchsorted(points, cps).astype(dtype)
                    if (ids >= len(points)).any() or (points[np.minimum(ids, len(points) - 1)] != cps).any():
                        raise _Changed()
                write(memoryview(np.ascontiguousarray(ids)).cast("B"))
        except _NotUtf8:
            raise _Changed() from None
    changed = any(p.changed() for p in found.source.parts)
    if changed or length != found.length or digest.hexdigest() != found.sha256:
        raise _Changed()


class _Changed(Exception):
    """The text read in pass 2 is not the text of pass 1."""


def changed_error(source: Source) -> ZooError:
    return ZooError(
        f"data: {source.name} changed while it was being cached; nothing was kept, run again "
        "once nothing is writing to it"
    )


# -- in memory and on disk -----------------------------------------------------------------------
def encode_in_memory(source: Source, units: str = "chars") -> Tokens:
    """For small texts (the built-in corpus): both passes, ids kept in a numpy array."""
    found = scan_bytes(source) if units == "bytes" else scan(source)
    pieces: list[bytes] = []
    try:
        (encode_bytes if units == "bytes" else encode)(found, lambda b: pieces.append(bytes(b)))
    except _Changed:
        raise changed_error(source) from None
    ids = np.frombuffer(b"".join(pieces), dtype=dtype_for(len(found.chars)))
    return Tokens(found.chars, ids, found.sha256)


def cached_tokens(source: Source, store: Path, on_bad_file: str = "refuse", units: str = "chars") -> Tokens:
    """The ids of a file or directory corpus, from the cache in ``store`` or built into it.

    ``units="bytes"`` makes every byte a symbol (enwik8's convention); its entries are named
    ``<sha256>-bytes.*``, beside the character entry of the same text.
    """
    identity = source.identity()
    assert identity is not None
    suffix = "-bytes" if units == "bytes" else ""
    identity += suffix
    try:
        (store / "sources").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ZooError(f"data: cannot create the cache folder {store} ({exc.strerror or exc})") from None
    index = store / "sources" / f"{identity}.json"
    with _locked(store / "sources" / f".{identity}.lock"):
        known = _read_json(index)
        if known is not None:
            hit = load_entry(store, str(known.get("sha256", "")), suffix)
            if hit is not None:
                skipped = tuple(known.get("skipped", ()))
                _warn_skipped(skipped)
                return Tokens(hit.chars, hit.ids, hit.sha256, skipped)
        _check_space(source, store, source.size // 4)  # at least one byte per 4-byte character
        found = scan_bytes(source) if units == "bytes" else scan(source, on_bad_file)
        tokens = load_entry(store, found.sha256, suffix)  # the same text under another name
        if tokens is None:
            tokens = _build(found, store, suffix)
        skipped = tuple(found.source.skipped)
        _warn_skipped(skipped)
        with contextlib.suppress(OSError):  # a read-only cache: the next start scans again
            write_json_atomic(index, {"sha256": found.sha256, "source": source.name, "skipped": list(skipped)})
        return Tokens(tokens.chars, tokens.ids, tokens.sha256, skipped)


def _build(found: Scan, store: Path, suffix: str = "") -> Tokens:
    dtype = dtype_for(len(found.chars))
    _check_space(found.source, store, found.length * dtype.itemsize)
    name = found.sha256 + suffix
    _clean_stale(store, name)
    target = store / f"{name}.ids"
    try:
        with atomic_path(target) as tmp, open(tmp, "wb") as out:
            (encode_bytes if suffix else encode)(found, out.write)
    except _Changed:
        raise changed_error(found.source) from None
    except OSError as exc:
        raise ZooError(f"data: could not write the token cache {target} ({exc.strerror or exc})") from None
    meta = {"format": FORMAT, "sha256": found.sha256, "chars": found.chars, "dtype": dtype.name,
            "length": found.length, "units": "bytes" if suffix else "chars", "source": found.source.name}
    try:
        write_json_atomic(store / f"{name}.json", meta)
    except OSError as exc:
        raise ZooError(f"data: could not write the token cache {target} ({exc.strerror or exc})") from None
    tokens = load_entry(store, found.sha256, suffix)
    if tokens is None:
        raise ZooError(f"data: the token cache {target} was removed while it was being written")
    return tokens


def load_entry(store: Path, sha256: str, suffix: str = "") -> Tokens | None:
    """A cache entry if it is whole and consistent, else None (it is then rebuilt)."""
    meta = _read_json(store / f"{sha256}{suffix}.json")
    ids_path = store / f"{sha256}{suffix}.ids"
    if meta is None or meta.get("format") != FORMAT or meta.get("sha256") != sha256:
        return None
    chars, length, dtype_name = meta.get("chars"), meta.get("length"), meta.get("dtype")
    if not isinstance(chars, str) or not chars or not isinstance(length, int) or length < 1:
        return None
    dtype = dtype_for(len(chars))
    if dtype_name != dtype.name:
        return None
    try:
        if ids_path.stat().st_size != length * dtype.itemsize:
            return None
        ids = np.memmap(ids_path, dtype=dtype, mode="r", shape=(length,))
    except (OSError, ValueError):
        return None
    return Tokens(chars, ids, sha256)


def _read_json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _check_space(source: Source, store: Path, needed: int) -> None:
    free = shutil.disk_usage(store).free
    if needed + (1 << 20) > free:
        raise ZooError(
            f"data: caching {source.name} needs {needed / 1e6:,.0f} MB in {store} but only "
            f"{free / 1e6:,.0f} MB is free; free some space or set ZOO_CACHE to a bigger disk"
        )


def _clean_stale(store: Path, name: str) -> None:
    """Temporary files of this entry left by a killed builder (we hold the lock, so none is live
    for this source; an hour's age keeps a same-text build under another name safe)."""
    for tmp in store.glob(f".{name}.ids.*.tmp"):
        with contextlib.suppress(OSError):
            if time.time() - tmp.stat().st_mtime > 3600:
                tmp.unlink()


def _warn_skipped(skipped: tuple[str, ...]) -> None:
    if skipped:
        shown = ", ".join(skipped[:3]) + (f" and {len(skipped) - 3} more" if len(skipped) > 3 else "")
        log.warning("data: skipped %d non-UTF-8 file(s): %s", len(skipped), shown)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock held while one process builds; released by the OS even on kill -9."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: builds may repeat, renames keep them whole
        yield
        return
    try:
        fh = open(path, "a+b")
    except OSError:  # a read-only cache folder: nobody can build here, so there is nothing to guard
        yield
        return
    with fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
