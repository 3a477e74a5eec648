"""Owning a run directory: one process at a time, never a user's folder, no leftovers.

A run directory is locked with ``flock`` on its ``.zoo-lock`` file for as long as a process trains
in it. The kernel drops the lock when the process ends in any way, ``kill -9`` included, so a
dead run never stays locked. The lock file also marks the folder as a seqzoo run: a folder with
other files and no marker is a user's, and is refused. Whoever holds the lock may delete
temporary files (``.*.tmp``) and checkpoint files that ``resume.json`` does not name: no live
process can be writing them. A start that fails before its first checkpoint removes what it wrote.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from zoo.errors import ZooError
from zoo.layout import CHECKPOINTS, CONFIG, LOCK, METRICS, RESUME

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks, the other checks still hold
    fcntl = None  # type: ignore[assignment]

OWN_BEFORE_FIRST_CHECKPOINT = {LOCK, METRICS, CHECKPOINTS}
"""What a start writes before its first checkpoint commits (resume.json is the commit)."""


@dataclass
class RunDir:
    """A claimed run directory; ``release()`` unlocks it, ``discard()`` undoes a failed start."""

    path: Path
    made: list[Path]  # folders this process created, innermost last
    fd: int | None

    @property
    def committed(self) -> bool:
        return (self.path / RESUME).exists()

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing drops the flock
            self.fd = None

    def discard(self) -> None:
        """Remove what a start that never checkpointed wrote, and the folders it created."""
        if self.committed:
            return
        for name in OWN_BEFORE_FIRST_CHECKPOINT - {LOCK}:
            _remove(self.path / name)
        remove_temporary_files(self.path)
        _remove(self.path / LOCK)
        self.release()
        for folder in reversed(self.made):
            with contextlib.suppress(OSError):
                folder.rmdir()


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def remove_temporary_files(run_dir: Path) -> None:
    """Delete ``.*.tmp`` files left by a process killed mid-write (call with the lock held)."""
    for folder in (run_dir, run_dir / CHECKPOINTS):
        if folder.is_dir():
            for tmp in folder.glob(".*.tmp"):
                tmp.unlink(missing_ok=True)


def _lock(path: Path) -> int | None:
    """Take the run directory's lock or say which process holds it."""
    file = path / LOCK
    try:
        fd = os.open(file, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise ZooError(f"cannot write to {path}: {exc.strerror}") from None
    if fcntl is None:  # pragma: no cover
        return fd
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        holder = _holder(file)
        raise ZooError(f"{path} is in use by another zoo process{holder}: wait for it to finish, "
                       "or train into another --out") from None
    try:
        if os.fstat(fd).st_ino != os.stat(file).st_ino:  # the file was replaced while we waited
            raise FileNotFoundError
    except FileNotFoundError:
        os.close(fd)
        raise ZooError(f"{path} is in use by another zoo process: try again") from None
    os.ftruncate(fd, 0)
    os.write(fd, json.dumps({"pid": os.getpid(), "since": time.strftime("%Y-%m-%dT%H:%M:%S")}).encode())
    return fd


def _holder(file: Path, patience: float = 1.0) -> str:
    """`` (pid N)`` of the lock's holder; it writes its pid just after locking, so wait a moment."""
    deadline = time.monotonic() + patience
    while True:
        try:
            return f" (pid {int(json.loads(file.read_text())['pid'])})"
        except (OSError, ValueError, KeyError, TypeError):
            if time.monotonic() >= deadline:
                return ""
            time.sleep(0.02)


def _mkdirs(path: Path) -> list[Path]:
    """Create ``path`` and missing parents; return the ones created, outermost first."""
    missing = []
    probe = path
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    made = []
    for folder in reversed(missing):
        try:
            folder.mkdir()
        except FileExistsError:
            if not folder.is_dir():
                raise ZooError(f"cannot create run directory {path}: {folder} is a file") from None
            continue
        except OSError as exc:
            for done in reversed(made):
                with contextlib.suppress(OSError):
                    done.rmdir()
            raise ZooError(f"cannot create run directory {path}: {exc.strerror or exc}") from None
        made.append(folder)
    return made


def _refuse_foreign(path: Path) -> None:
    entries = {p.name for p in path.iterdir()}
    if RESUME in entries or CONFIG in entries:
        raise ZooError(f"{path} already holds a run: resume it with --resume {path} or pick another --out")
    leftovers = {n for n in entries if not (n.startswith(".") and n.endswith(".tmp"))}
    if leftovers and (LOCK not in entries or leftovers - OWN_BEFORE_FIRST_CHECKPOINT):
        raise ZooError(f"--out {path} is not empty and is not a seqzoo run: refusing to write into it "
                       "(pick a new or empty folder)")


def claim_new(path: Path) -> RunDir:
    """Create (or reuse an empty or abandoned) run directory and lock it."""
    for parent in [path, *path.parents]:
        if parent.exists() and not parent.is_dir():
            where = "is a file" if parent == path else f"is under {parent}, which is a file"
            raise ZooError(f"cannot create run directory {path}: it {where}")
        if parent.exists():
            break
    if path.is_dir():
        try:
            _refuse_foreign(path)
        except PermissionError:
            raise ZooError(f"cannot read {path}: permission denied") from None
    made = _mkdirs(path)
    try:
        fd = _lock(path)
    except ZooError:
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    run = RunDir(path, made, fd)
    try:
        _refuse_foreign(path)  # again, now that no one else can be writing here
    except ZooError:
        run.release()
        raise
    for name in OWN_BEFORE_FIRST_CHECKPOINT - {LOCK}:  # an abandoned start: begin afresh
        _remove(path / name)
    remove_temporary_files(path)
    return run


def claim_existing(path: Path) -> RunDir:
    """Lock a run directory to resume it and delete what a killed process left half-written."""
    if not path.is_dir():
        raise ZooError(f"{path}: no such run directory")
    if not (path / RESUME).is_file():
        raise ZooError(f"{path}: nothing to resume (no {RESUME}; was it trained with zoo train?)")
    run = RunDir(path, [], _lock(path))
    remove_temporary_files(path)
    return run
