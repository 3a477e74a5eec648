"""Corpus loading: built-in text, local files, downloads into the cache, and bad input."""

from __future__ import annotations

import hashlib
import http.server
import threading
from pathlib import Path

import pytest
from zoo_charlm import data
from zoo_charlm.data import Dataset

from zoo import ZooError, sha256_file


@pytest.fixture
def server(tmp_path: Path):
    """A real HTTP server on 127.0.0.1 serving ``tmp_path/www``; records the paths requested."""
    root = tmp_path / "www"
    root.mkdir()
    requests: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def do_GET(self):
            requests.append(self.path)
            super().do_GET()

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}", requests
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ZOO_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "charlm"


def test_builtin_corpus_is_large_real_prose_and_stable():
    text = data.load_text("builtin")
    assert len(text.encode("utf-8")) >= 300_000
    words = text.split()
    assert words.count("the") > 2000  # English prose, not a table of symbols
    assert sum(c.isalpha() or c.isspace() for c in text) / len(text) > 0.8
    assert data.load_text("builtin") == text


def test_local_file_is_read_as_utf8(tmp_path: Path):
    path = tmp_path / "t.txt"
    path.write_text("naïve café — ünïcode\n", encoding="utf-8")
    assert data.load_text(str(path)) == "naïve café — ünïcode\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "is empty"), (b"caf\xe9 latin-1\n", "not UTF-8 text (byte 0xe9 at offset 3)")],
)
def test_bad_files_are_clear_errors(tmp_path: Path, content: bytes, message: str):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(ZooError, match=message.replace("(", r"\(").replace(")", r"\)")):
        data.load_text(str(path))


def test_missing_file_names_the_alternatives(tmp_path: Path):
    with pytest.raises(ZooError, match="no such file .*tinyshakespeare"):
        data.load_text(str(tmp_path / "nope.txt"))


def test_url_downloads_once_then_reuses_the_cache(server, cache: Path):
    root, base, requests = server
    (root / "book.txt").write_text("once upon a time\n" * 100, encoding="utf-8")
    url = f"{base}/book.txt"
    first = data.load_text(url)
    (root / "book.txt").unlink()  # a second download would now fail
    second = data.load_text(url)
    assert first == second == "once upon a time\n" * 100
    assert requests == ["/book.txt"]
    cached = list(cache.iterdir())
    assert [p.name for p in cached] == [data.url_filename(url)]
    assert cached[0].read_text(encoding="utf-8") == first


def test_cache_location_follows_xdg_when_zoo_cache_is_unset(monkeypatch, tmp_path: Path):
    monkeypatch.delenv("ZOO_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data.cache_dir() == tmp_path / "xdg" / "seqzoo" / "charlm"


def test_named_dataset_is_verified_by_sha256(server, cache: Path, monkeypatch):
    root, base, requests = server
    body = b"To be, or not to be\n" * 50
    (root / "input.txt").write_bytes(body)
    good = Dataset(f"{base}/input.txt", hashlib.sha256(body).hexdigest(), "shakes.txt")
    monkeypatch.setitem(data.DATASETS, "tinyshakespeare", good)
    assert data.load_text("tinyshakespeare") == body.decode()
    assert data.load_text("tinyshakespeare") == body.decode()
    assert requests == ["/input.txt"]  # verified cache hit the second time


def test_sha256_mismatch_is_refused_and_not_cached(server, cache: Path, monkeypatch):
    root, base, _ = server
    body = b"tampered text\n"
    (root / "input.txt").write_bytes(body)
    bad = Dataset(f"{base}/input.txt", "0" * 64, "shakes.txt")
    monkeypatch.setitem(data.DATASETS, "tinyshakespeare", bad)
    with pytest.raises(ZooError, match=f"has sha256 {hashlib.sha256(body).hexdigest()}, expected 0000"):
        data.load_text("tinyshakespeare")
    assert not cache.exists() or list(cache.iterdir()) == []


def test_no_network_says_how_to_pass_a_local_file(cache: Path):
    with pytest.raises(ZooError, match=r"could not download .*--set data=/path/to/file.txt"):
        data.load_text("http://127.0.0.1:9/corpus.txt")  # discard port: connection refused
    assert not cache.exists() or list(cache.iterdir()) == []


def test_tinyshakespeare_is_the_char_rnn_corpus():
    entry = data.DATASETS["tinyshakespeare"]
    assert entry.url.endswith("karpathy/char-rnn/master/data/tinyshakespeare/input.txt")
    assert entry.sha256 == "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"


@pytest.mark.skipif(not Path("/work/shared/data/tinyshakespeare.txt").is_file(), reason="no shared copy")
def test_tinyshakespeare_digest_matches_the_shared_copy():
    """The pinned digest is the real file's (checked against a local copy when one exists)."""
    path = Path("/work/shared/data/tinyshakespeare.txt")
    assert sha256_file(path) == data.DATASETS["tinyshakespeare"].sha256
    assert len(path.read_text(encoding="utf-8")) == 1_115_394
