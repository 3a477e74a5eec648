"""``zoo eval`` never downloads a URL from a model's config.json without the user's say-so."""

from __future__ import annotations

import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from zoo.downloads import recorded_urls

CHARLM = Path(__file__).resolve().parent.parent / "plugins" / "charlm" / "zoo_charlm" / "pretrained" / "charlm-lstm"


class Counting(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        Counting.hits.append(self.path)
        body = b"To be, or not to be, that is the question.\n" * 50
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server():
    Counting.hits = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Counting)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def pulled(tmp_path: Path, server: str) -> Path:
    """A model as someone else published it: its config.json names a URL for the data."""
    if not CHARLM.is_dir():
        pytest.skip("the charlm plugin's bundled model is not in this checkout")
    folder = Path(shutil.copytree(CHARLM, tmp_path / "pulled"))
    config = json.loads((folder / "config.json").read_text())
    config["task"]["config"]["data"] = f"{server}/corpus.txt"
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def test_recorded_urls_finds_urls_only() -> None:
    assert recorded_urls({"data": "https://x/y.txt", "window": 64, "name": "tinyshakespeare",
                          "more": ("a", "HTTP://b/c")}) == {"data": "https://x/y.txt", "more": "HTTP://b/c"}


def test_eval_refuses_to_download_without_consent(pulled: Path, server: str, zoo_cmd, tmp_path: Path) -> None:
    env = {"ZOO_CACHE": str(tmp_path / "cache")}
    refused = zoo_cmd("eval", str(pulled), env=env)
    assert refused.returncode == 2, refused.stderr
    assert refused.stderr.strip().splitlines()[-1] == (
        f"error: {pulled}: its config.json sets data={server}/corpus.txt, a download; pass --allow-download "
        "to fetch it, or give the data yourself with --set data=PATH")
    assert Counting.hits == []  # nothing was fetched

    local = tmp_path / "mine.txt"
    local.write_text("my own text\n" * 20)
    given = zoo_cmd("eval", str(pulled), "--set", f"data={local}", env=env)
    assert "--allow-download" not in given.stderr and "Traceback" not in given.stderr
    assert Counting.hits == []  # the user's own data replaces the URL

    allowed = zoo_cmd("eval", str(pulled), "--allow-download", env=env)
    assert "Traceback" not in allowed.stderr
    assert Counting.hits == ["/corpus.txt"]  # fetched once asked (the text differs, so eval then says so)
    assert allowed.returncode == 2 and "different" in allowed.stderr.strip().splitlines()[-1]
