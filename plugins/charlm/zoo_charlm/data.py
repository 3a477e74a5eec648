"""Where the text comes from: the built-in corpus, a local file or directory, a URL or a named dataset.

Downloads land once in a cache folder (``$ZOO_CACHE``, else ``$XDG_CACHE_HOME/seqzoo``, else
``~/.cache/seqzoo``) under ``charlm/``, written atomically, so an interrupted download never
leaves a half file behind. Named datasets are checked against their sha256. ``load_tokens``
turns any of them into memory-mapped character ids (``zoo_charlm.tokens``). Torch-free.
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from zoo import ZooError, atomic_path, sha256_file
from zoo_charlm.sources import Source, file_source, list_directory
from zoo_charlm.tokens import Tokens, cached_tokens, encode_in_memory

BUILTIN = "builtin"


@dataclass(frozen=True)
class Dataset:
    """A named corpus: where to get it and the digest it must have."""

    url: str
    sha256: str
    filename: str


DATASETS: dict[str, Dataset] = {
    "tinyshakespeare": Dataset(
        url="https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
        sha256="86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
        filename="tinyshakespeare.txt",
    ),
}


def cache_dir() -> Path:
    """The folder downloaded corpora are kept in."""
    root = os.environ.get("ZOO_CACHE")
    if root:
        return Path(root).expanduser() / "charlm"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "seqzoo" / "charlm"


def builtin_text() -> str:
    """CPython's own documentation topics (about 460 KB of English prose), in a fixed order."""
    from pydoc_data.topics import topics

    return "\n\n".join(topics[key] for key in sorted(topics))


def load_text(spec: str) -> str:
    """The corpus named by ``spec`` (see ``CharLMConfig.data``), decoded; ZooError on bad input.

    Holds the whole text in memory: for small corpora and tests. Training uses ``load_tokens``.
    """
    if spec == BUILTIN:
        return builtin_text()
    path = resolve(spec)
    if path.is_dir():
        raise ZooError(f"data: {spec} is a directory; load_text reads one file")
    return decode(path.read_bytes(), spec)


def resolve(spec: str) -> Path:
    """The local file or directory behind a non-builtin ``spec``, downloading it if needed."""
    if spec in DATASETS:
        dataset = DATASETS[spec]
        return fetch_path(dataset.url, cache_dir() / dataset.filename, sha256=dataset.sha256)
    if spec.startswith(("http://", "https://")):
        return fetch_path(spec, cache_dir() / url_filename(spec))
    path = Path(spec).expanduser()
    if not path.is_file() and not path.is_dir():
        names = ", ".join([BUILTIN, *DATASETS])
        raise ZooError(
            f"data: no such file '{spec}' (give a file or directory path, an http(s) URL, or one of: {names})"
        )
    return path


def source_for(spec: str, *, extensions: str = "", max_file_mb: float = 0) -> Source:
    """The corpus as a stream of byte chunks (a directory is filtered, see ``list_directory``)."""
    if spec == BUILTIN:
        return Source(BUILTIN, text=builtin_text().encode("utf-8"))
    path = resolve(spec)
    if path.is_dir():
        return list_directory(path, extensions, max_file_mb)
    if path.stat().st_size == 0:
        raise ZooError(f"data: {spec} is empty")
    return file_source(path)


def load_tokens(spec: str, *, extensions: str = "", max_file_mb: float = 0, on_bad_file: str = "refuse",
                units: str = "chars") -> Tokens:
    """Character (or byte) ids of the corpus: built-in text is encoded in memory, files and
    directories through the on-disk token cache (``cache_dir()/tokens``), memory-mapped."""
    source = source_for(spec, extensions=extensions, max_file_mb=max_file_mb)
    if source.text is not None:
        return encode_in_memory(source, units)
    return cached_tokens(source, cache_dir() / "tokens", on_bad_file, units)


def decode(raw: bytes, source: str) -> str:
    """UTF-8 text of a corpus, refusing empty and non-UTF-8 input."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ZooError(
            f"data: {source} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        ) from None
    if not text:
        raise ZooError(f"data: {source} is empty")
    return text


def url_filename(url: str) -> str:
    """A cache file name that is unique per URL and still says what it holds."""
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:12]
    tail = url.rstrip("/").rsplit("/", 1)[-1].split("?")[0] or "data"
    return f"{digest}-{tail}"


def fetch(url: str, target: Path, *, sha256: str | None = None) -> bytes:
    """The bytes at ``url`` (see ``fetch_path``)."""
    return fetch_path(url, target, sha256=sha256).read_bytes()


def fetch_path(url: str, target: Path, *, sha256: str | None = None) -> Path:
    """``target``, holding the bytes at ``url``: from the cache when already there, else downloaded.

    A cached file whose digest is wrong is downloaded again; a download whose digest is wrong
    is refused and not kept.
    """
    if target.is_file() and (sha256 is None or sha256_file(target) == sha256):
        return target
    try:
        with atomic_path(target) as tmp:
            digest = _download(url, tmp)
            if sha256 is not None and digest != sha256:
                raise ZooError(
                    f"data: {url} has sha256 {digest}, expected {sha256}; the download was not kept"
                )
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ZooError(
            f"data: could not download {url} ({reason}); without network, download the file "
            f"elsewhere and pass it with --set data=/path/to/file.txt"
        ) from None
    return target


def _download(url: str, dest: Path) -> str:
    """Stream ``url`` into ``dest`` with a progress bar; return the sha256 of what was written."""
    from tqdm import tqdm

    h = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=30) as response, open(dest, "wb") as out:
        total = int(response.headers.get("Content-Length") or 0) or None
        name = url.rsplit("/", 1)[-1] or url
        with tqdm(total=total, unit="B", unit_scale=True, desc=f"downloading {name}", disable=None) as bar:
            for chunk in iter(lambda: response.read(1 << 16), b""):
                out.write(chunk)
                h.update(chunk)
                bar.update(len(chunk))
    return h.hexdigest()
