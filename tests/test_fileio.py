"""Atomic writes: readers see the old file or the new one, never half of one, and no litter."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from zoo.fileio import write_atomic, write_json_atomic, write_text_atomic


def test_writes_replace_the_file_and_leave_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "config.json"
    write_json_atomic(target, {"a": 1})
    write_json_atomic(target, {"a": 2, "b": [1, 2]})
    assert json.loads(target.read_text()) == {"a": 2, "b": [1, 2]}
    assert [p.name for p in target.parent.iterdir()] == ["config.json"]


def test_a_failing_writer_keeps_the_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "notes.txt"
    write_text_atomic(target, "old")

    def half_then_crash(tmp: Path) -> None:
        tmp.write_text("new but incomplete")
        raise RuntimeError("killed mid-write")

    with pytest.raises(RuntimeError, match="killed mid-write"):
        write_atomic(target, half_then_crash)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_written_files_get_the_usual_mode_not_mkstemps_private_one(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_text_atomic(tmp_path / "config.json", "{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "config.json").stat().st_mode) == 0o644


def test_an_os_error_inside_a_writer_surfaces_as_that_oserror(tmp_path):
    """safetensors reports a full disk as its own exception with '(os error 28)' in the text."""
    import errno

    def full_disk(tmp):
        tmp.write_bytes(b"half")
        raise RuntimeError("Error while serializing: I/O error: No space left on device (os error 28)")

    with pytest.raises(OSError) as info:
        write_atomic(tmp_path / "w.safetensors", full_disk)
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(tmp_path / "w.safetensors")
    assert list(tmp_path.iterdir()) == []  # the temporary file is gone, nothing was published
    with pytest.raises(RuntimeError, match="a bug"):  # anything else passes through unchanged
        write_atomic(tmp_path / "x", lambda tmp: (_ for _ in ()).throw(RuntimeError("a bug")))
