"""zoo.LineTable: a TSV file as packed offsets, validated and decoded on demand."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from zoo import LineTable, ZooError


def test_rows_blank_lines_crlf_and_vocabulary(tmp_path: Path):
    path = tmp_path / "t.tsv"
    path.write_bytes("hello\tolleh\r\n\r\n\nnaïve\tcafé\nab\tba".encode())
    table = LineTable(path)
    assert len(table) == 3
    assert [table.row(i) for i in range(3)] == [("hello", "olleh"), ("naïve", "café"), ("ab", "ba")]
    assert table.chars == "".join(sorted(set("helloolleh" + "naïvecafé" + "abba")))  # no tab, LF or CR
    assert table.field_lengths(0).tolist() == [5, 5, 2]  # characters, not bytes
    assert table.field_lengths(1).tolist() == [5, 4, 2]


def test_equal_fields_hash_equal(tmp_path: Path):
    path = tmp_path / "t.tsv"
    path.write_text("a\t1\nb\t2\na\t3\n", encoding="utf-8")
    hashes = LineTable(path).field_hashes(0)
    assert hashes[0] == hashes[2] != hashes[1]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"a\tb\nno tab here\n", r"t.tsv:2: expected 'source<TAB>target', got 'no tab here'"),
        (b"a\tb\n\nx\ty\tz\n", r"t.tsv:3: expected 'source<TAB>target', got 'x\\ty\\tz'"),
        (b"a\tb\n\tmissing source\n", r"t.tsv:2: expected"),
        (b"a\tb\nmissing target\t\r\n", r"t.tsv:2: expected"),
        (b"a\tb\ncaf\xe9\tx\n", r"not UTF-8 text \(byte 0xe9 at offset 7\)"),
        (b"", r"no source<TAB>target lines"),
        (b"\n\n", r"no source<TAB>target lines"),
    ],
)
def test_bad_files_are_one_clear_error(tmp_path: Path, content: bytes, message: str):
    path = tmp_path / "t.tsv"
    path.write_bytes(content)
    with pytest.raises(ZooError, match=message):
        LineTable(path)


def test_memory_held_is_a_few_numbers_per_line_not_python_objects(tmp_path: Path):
    """A list of (str, str) tuples costs about 180 bytes per line; the table keeps 24."""
    n = 50_000
    path = tmp_path / "big.tsv"
    words = np.char.add("w", np.arange(n).astype(str))
    path.write_text("".join(f"{w}\t{w[::-1]}\n" for w in words.tolist()), encoding="utf-8")
    tracemalloc.start()
    try:
        table = LineTable(path)
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(table) == n and table.row(n - 1) == (f"w{n - 1}", f"w{n - 1}"[::-1])
    assert held < 40 * n
