"""Atomic file writes: a temporary file in the same folder, fsync, then rename.

A process killed mid-write leaves the previous file whole; readers never see half a file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from zoo.errors import ZooError


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path to write; on success it is fsynced and renamed onto ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual file mode
        os.replace(tmp_path, path)
        _fsync_dir(path.parent)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file, read in blocks (catalogue and download integrity checks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_document(path: str | os.PathLike[str], *, missing: str,
                  parse: Callable[[str], Any] = json.loads, kind: str = "JSON") -> Any:
    """Parse a JSON (or, with ``parse=tomllib.loads``, TOML) file; every failure is one ZooError line.

    ``missing`` is the whole message when the file does not exist: only the caller knows what a
    missing file means (not a model directory, nothing to resume...).
    """
    file = Path(path)
    try:
        return parse(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ZooError(missing) from None
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError and TOMLDecodeError are ValueErrors
        raise ZooError(f"{file}: not valid {kind} ({exc})") from None
    except OSError as exc:  # a symlink loop, a folder in the file's place, no permission...
        raise ZooError(f"{file}: cannot be read ({exc.strerror or exc})") from None


_OS_ERROR = re.compile(r"\(os error (\d+)\)|\bOs \{ code: (\d+)")
"""How Rust libraries (safetensors) spell an operating-system error in their own exceptions:
``... (os error 28)`` in recent safetensors, ``IoError(Os { code: 28, ... })`` before 0.8."""


def write_atomic(path: str | os.PathLike[str], writer: Callable[[Path], None]) -> None:
    """Call ``writer(tmp_path)`` and move the result onto ``path`` atomically.

    A writer's exception that carries an operating-system error (a full disk inside safetensors)
    becomes that ``OSError``, naming ``path``, so callers can tell the disk from a bug.
    """
    with atomic_path(path) as tmp:
        try:
            writer(tmp)
        except OSError:
            raise
        except Exception as exc:
            match = _OS_ERROR.search(str(exc))
            if match is None:
                raise
            code = int(match.group(1) or match.group(2))
            raise OSError(code, os.strerror(code), str(path)) from exc


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_json_atomic(path: str | os.PathLike[str], data: Any) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=False) + "\n")
