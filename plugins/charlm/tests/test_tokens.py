"""The token cache on small generated corpora: cold, warm, corrupted, concurrent, and bad input."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from zoo_charlm import sources
from zoo_charlm.data import load_tokens

from zoo import ZooError


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ZOO_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "charlm" / "tokens"


def generated(n_lines: int, seed: int = 0, alphabet: str = "abcdefghij klmnop,.;'") -> str:
    """``n_lines`` random lines of 5-59 characters from ``alphabet``."""
    rng = np.random.default_rng(seed)
    letters = np.array(list(alphabet))
    body = rng.choice(letters, size=n_lines * 60)
    ends = np.cumsum(rng.integers(5, 60, size=n_lines))
    body[ends] = "\n"
    return "".join(body[: ends[-1] + 1].tolist())


def decoded(tokens) -> str:
    return "".join(tokens.chars[i] for i in np.asarray(tokens.ids).tolist())


def entries(store: Path) -> list[str]:
    return sorted(p.name for p in store.iterdir() if p.is_file())


def test_cold_then_warm(tmp_path: Path, store: Path):
    text = generated(400) + "naïve café — ünïcode\n"
    path = tmp_path / "corpus.txt"
    path.write_text(text, encoding="utf-8")
    cold = load_tokens(str(path))
    sha = hashlib.sha256(text.encode()).hexdigest()
    assert cold.sha256 == sha
    assert cold.chars == "".join(sorted(set(text)))
    assert cold.ids.dtype == np.uint8 and isinstance(cold.ids, np.memmap)
    assert decoded(cold) == text
    assert entries(store) == [f"{sha}.ids", f"{sha}.json"]
    assert (store / f"{sha}.ids").stat().st_size == len(text)  # one byte per character
    warm = load_tokens(str(path))
    assert warm.sha256 == sha and np.array_equal(warm.ids, cold.ids)


def test_warm_start_trusts_unchanged_stat_facts_and_rebuilds_on_change(tmp_path: Path, store: Path):
    """Like make and git: same size, mtime and inode means the same text, so no byte is re-read."""
    path = tmp_path / "corpus.txt"
    path.write_text("abab" * 100, encoding="utf-8")
    first = load_tokens(str(path))
    st = path.stat()
    with open(path, "r+b") as fh:  # same length, same inode, mtime put back
        fh.write(b"baba")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert load_tokens(str(path)).sha256 == first.sha256  # not re-read
    path.write_text("abab" * 100 + "c", encoding="utf-8")  # a real edit changes size and mtime
    edited = load_tokens(str(path))
    assert edited.sha256 != first.sha256 and edited.chars == "abc"


def test_the_same_text_under_another_name_shares_one_entry(tmp_path: Path, store: Path):
    text = generated(50)
    (tmp_path / "a.txt").write_text(text, encoding="utf-8")
    (tmp_path / "b.txt").write_text(text, encoding="utf-8")
    assert load_tokens(str(tmp_path / "a.txt")).sha256 == load_tokens(str(tmp_path / "b.txt")).sha256
    assert len([n for n in entries(store) if n.endswith(".ids")]) == 1


def test_more_than_256_characters_use_uint16(tmp_path: Path, store: Path):
    text = "".join(chr(0x4E00 + i) for i in range(300)) * 3 + "ascii tail\n"
    path = tmp_path / "han.txt"
    path.write_text(text, encoding="utf-8")
    tokens = load_tokens(str(path))
    assert tokens.ids.dtype == np.uint16 and len(tokens.chars) == 300 + len(set("ascii tail\n"))
    assert decoded(tokens) == text


def test_characters_split_across_read_chunks(tmp_path: Path, store: Path, monkeypatch):
    """Reads of 5 bytes cut most multi-byte characters in two; the ids must not notice."""
    monkeypatch.setattr(sources, "CHUNK", 5)
    text = "\ufeffé€𝄞 ab€é\n" * 20  # a BOM (dropped), 2-, 3- and 4-byte characters
    path = tmp_path / "t.txt"
    path.write_text(text, encoding="utf-8")
    assert decoded(load_tokens(str(path))) == text[1:]
    path.write_bytes("ab€".encode() * 3 + b"\xe9" + b"cd")
    with pytest.raises(ZooError, match=r"not UTF-8 text \(byte 0xe9 at offset 15\)"):
        load_tokens(str(path))


@pytest.mark.parametrize("damage", ["truncated ids", "garbage json", "ids without json", "wrong format"])
def test_a_damaged_entry_is_rebuilt_not_used(tmp_path: Path, store: Path, damage: str):
    text = generated(200, seed=1)
    path = tmp_path / "corpus.txt"
    path.write_text(text, encoding="utf-8")
    sha = load_tokens(str(path)).sha256
    ids, meta = store / f"{sha}.ids", store / f"{sha}.json"
    if damage == "truncated ids":
        with open(ids, "r+b") as fh:
            fh.truncate(100)
    elif damage == "garbage json":
        meta.write_text('{"format": 1, "sha', encoding="utf-8")
    elif damage == "ids without json":
        meta.unlink()
    else:
        meta.write_text(json.dumps({**json.loads(meta.read_text()), "format": 99}), encoding="utf-8")
    again = load_tokens(str(path))
    assert decoded(again) == text
    assert ids.stat().st_size == len(text)
    assert json.loads(meta.read_text())["length"] == len(text)


def test_a_killed_builders_temporary_file_is_never_used(tmp_path: Path, store: Path):
    text = generated(100, seed=2)
    path = tmp_path / "corpus.txt"
    path.write_text(text, encoding="utf-8")
    sha = hashlib.sha256(text.encode()).hexdigest()
    store.mkdir(parents=True)
    (store / f".{sha}.ids.abc123.tmp").write_bytes(b"\0" * 7)  # half-written by a dead process
    assert decoded(load_tokens(str(path))) == text


def test_concurrent_builders_make_one_whole_entry(tmp_path: Path, store: Path):
    """Four real processes prepare the same corpus at once (as torchrun's ranks do)."""
    text = generated(20_000, seed=3)
    path = tmp_path / "corpus.txt"
    path.write_text(text, encoding="utf-8")
    code = ("import sys, hashlib, numpy as np; from zoo_charlm.data import load_tokens; "
            "t = load_tokens(sys.argv[1]); print(t.sha256, hashlib.sha256(np.asarray(t.ids).tobytes()).hexdigest())")
    env = {**os.environ, "ZOO_CACHE": str(store.parent.parent)}
    procs = [subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env) for _ in range(4)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in outs]
    assert len({out for out, _ in outs}) == 1
    sha = hashlib.sha256(text.encode()).hexdigest()
    assert entries(store) == [f"{sha}.ids", f"{sha}.json"]  # no temporary files left behind
    assert decoded(load_tokens(str(path))) == text


def test_a_corpus_that_changes_while_cached_is_refused_and_not_kept(tmp_path: Path, store: Path):
    path = tmp_path / "growing.txt"
    path.write_text(generated(40_000, seed=4), encoding="utf-8")
    stop = threading.Event()

    def append() -> None:
        with open(path, "a", encoding="utf-8") as fh:
            while not stop.is_set():
                fh.write("more text\n")
                fh.flush()

    writer = threading.Thread(target=append)
    writer.start()
    try:
        with pytest.raises(ZooError, match="changed while it was being cached; nothing was kept"):
            load_tokens(str(path))
    finally:
        stop.set()
        writer.join()
    assert not [n for n in entries(store) if n.endswith((".ids", ".json"))]


def test_a_corpus_bigger_than_the_free_disk_space_is_refused(tmp_path: Path, store: Path):
    store.mkdir(parents=True)
    free = shutil.disk_usage(store).free
    path = tmp_path / "huge.txt"
    try:
        with open(path, "wb") as fh:
            fh.truncate(4 * free + (1 << 30))  # sparse: costs no disk, reads as NUL bytes
    except OSError as exc:
        pytest.skip(f"cannot make a sparse file that large here ({exc})")
    with pytest.raises(ZooError, match=r"needs [\d,]+ MB in .* but only [\d,]+ MB is free"):
        load_tokens(str(path))
    assert entries(store) == []


# -- directory corpora ------------------------------------------------------------------------
@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "src"
    (root / "pkg").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / "a.py").write_text("print('a')", encoding="utf-8")  # no final newline: one is added
    (root / "pkg" / "b.py").write_text("x = 1\n", encoding="utf-8")
    (root / "README.md").write_text("# title\n", encoding="utf-8")
    (root / ".git" / "config").write_text("hidden\n", encoding="utf-8")
    (root / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")
    (root / "big.py").write_text("#" * 3000 + "\n", encoding="utf-8")
    return root


def test_a_directory_is_its_text_files_in_path_order(tree: Path, store: Path):
    tokens = load_tokens(str(tree), max_file_mb=0.001)  # big.py (3 KB) is over the cap
    assert decoded(tokens) == "# title\nprint('a')\nx = 1\n"  # README.md, a.py, pkg/b.py
    only_py = load_tokens(str(tree), extensions=".py", max_file_mb=0)
    assert decoded(only_py) == "print('a')\n" + "#" * 3000 + "\n" + "x = 1\n"


def test_a_non_utf8_file_in_a_directory_is_refused_or_skipped_and_named(tree: Path, store: Path, caplog):
    (tree / "latin1.txt").write_bytes("café\n".encode("latin-1"))
    with pytest.raises(ZooError, match=r"latin1.txt is not UTF-8 text .*on_bad_file=skip"):
        load_tokens(str(tree), extensions=".txt,.md")
    with caplog.at_level("WARNING", logger="zoo.charlm"):
        tokens = load_tokens(str(tree), extensions=".txt,.md", on_bad_file="skip")
    assert decoded(tokens) == "# title\n"
    assert tokens.skipped == (str(tree / "latin1.txt"),)
    assert "skipped 1 non-UTF-8 file(s)" in caplog.text and "latin1.txt" in caplog.text


def test_a_directory_with_no_usable_files_is_a_clear_error(tree: Path, store: Path):
    with pytest.raises(ZooError, match=r"no usable text files with extension \.rs \(0 files looked at"):
        load_tokens(str(tree), extensions=".rs")
    with pytest.raises(ZooError, match=r"\(1 files looked at: 0 over max_file_mb=10, 1 binary"):
        load_tokens(str(tree), extensions=".png", max_file_mb=10)


@pytest.mark.slow
def test_the_zoo_command_says_one_line_and_exits_2(tmp_path: Path):
    """Through the real script: a directory with no usable file; then a non-UTF-8 file in one."""
    root = tmp_path / "tree"
    root.mkdir()
    (root / "data.bin").write_bytes(b"\0\1\2")
    env = {**os.environ, "ZOO_CACHE": str(tmp_path / "cache"), "ZOO_LOAD_PLUGINS": "charlm,rnn"}
    zoo = str(Path(sys.executable).with_name("zoo"))
    cmd = [zoo, "train", "charlm", "lstm", "--set", f"data={root}", "--steps", "1", "--out", str(tmp_path / "run")]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: data: directory {root} has no usable text files")
    assert len(done.stderr.strip().splitlines()) == 1
    (root / "notes.txt").write_bytes("café\n".encode("latin-1"))
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 2 and "notes.txt is not UTF-8 text" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def test_byte_units_have_their_own_entry_and_take_any_bytes(tmp_path: Path, store: Path):
    path = tmp_path / "latin1.txt"
    raw = "café crème\n".encode("latin-1") * 10
    path.write_bytes(raw)
    with pytest.raises(ZooError, match="not UTF-8 text"):
        load_tokens(str(path))
    tokens = load_tokens(str(path), units="bytes")
    assert tokens.chars == bytes(sorted(set(raw))).decode("latin-1")
    assert bytes(ord(tokens.chars[i]) for i in np.asarray(tokens.ids).tolist()) == raw
    sha = hashlib.sha256(raw).hexdigest()
    assert entries(store) == [f"{sha}-bytes.ids", f"{sha}-bytes.json"]
    assert load_tokens(str(path), units="bytes").sha256 == sha  # warm
