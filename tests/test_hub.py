"""``zoo push`` / ``zoo pull`` against a local Hub-compatible server, through the real ``zoo`` script.

huggingface_hub and its HTTP library run unmodified; only HF_ENDPOINT points them at 127.0.0.1
and HF_HOME at a temporary folder. These commands never import torch, so each call is quick.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from tests.hubserver import HubServer

ZOO = str(Path(sys.executable).with_name("zoo"))
TOKEN = "hf_secretTOKEN1234567890"


@pytest.fixture(scope="module")
def hub():
    server = HubServer(token=TOKEN)
    yield server
    server.stop()


def hf_env(home: Path, endpoint: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE_", "ZOO_"))}
    env.update(HF_ENDPOINT=endpoint, HF_HOME=str(home), HF_TOKEN=TOKEN, HF_HUB_DISABLE_TELEMETRY="1")
    env.update(extra)
    return {k: v for k, v in env.items() if v != ""}


def zoo(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ZOO, *args], env=env, capture_output=True, text=True, timeout=60)


def model_dir(path: Path, seed: int = 0) -> Path:
    """A model directory as the Hub sees it: real safetensors weights and a valid config.json."""
    path.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    save_file({"w": rng.standard_normal((4, 3)).astype(np.float32)}, str(path / "model.safetensors"))
    config = {"format_version": 1, "task": {"name": "adder", "distribution": "seqzoo-adder", "config": {}},
              "model": {"name": "gru", "distribution": "seqzoo-rnn", "config": {}},
              "vocabulary": {}, "training": {}, "metrics": {"accuracy": 1.0}, "versions": {}}
    (path / "config.json").write_text(json.dumps(config))
    return path


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single ``error:`` line of a failed command (huggingface_hub's progress bars may precede it)."""
    assert result.returncode == 2, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0] and "Traceback" not in result.stderr, result.stderr
    assert TOKEN not in result.stdout + result.stderr
    return errors[0]


def pushed(env: dict[str, str], folder: Path, repo: str) -> str:
    result = zoo(env, "push", str(folder), repo)
    assert result.returncode == 0, result.stderr
    assert TOKEN not in result.stdout + result.stderr
    return result.stdout.split("commit: ")[1].split()[0]


def write_registry(path: Path, name: str, source: str, files: dict[str, str]) -> Path:
    lines = [f'[pretrained.{name}]', 'task = "adder"', 'model = "gru"', f'source = "{source}"',
             'summary = "test entry"', 'dataset = "generated"', 'license = "MIT"',
             "metrics = { accuracy = 1.0 }", f"[pretrained.{name}.files]"]
    lines += [f'"{k}" = "{v}"' for k, v in files.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_push_then_pull_is_pinned_to_the_returned_commit(hub, tmp_path):
    env = hf_env(tmp_path / "hf", hub.url)
    first = model_dir(tmp_path / "first", seed=1)
    commit = pushed(env, first, "tester/roundtrip")
    assert any(r["headers"].get("authorization") == f"Bearer {TOKEN}" for r in hub.requests)
    second = model_dir(tmp_path / "second", seed=2)
    newer = pushed(env, second, "tester/roundtrip")
    assert newer != commit

    pinned = zoo(env, "pull", f"hf://tester/roundtrip@{commit}")
    assert pinned.returncode == 0, pinned.stderr
    folder = Path(pinned.stdout.strip().splitlines()[-1])
    assert folder.is_relative_to(tmp_path / "hf" / "hub") and folder.name == commit
    for name in ("model.safetensors", "config.json"):
        assert (folder / name).read_bytes() == (first / name).read_bytes()
    card = (folder / "README.md").read_text()
    assert "library_name: seqzoo" in card and "hf://tester/roundtrip" in card and "- adder" in card

    latest = Path(zoo(env, "pull", "hf://tester/roundtrip").stdout.strip().splitlines()[-1])
    assert latest.name == newer
    assert (latest / "model.safetensors").read_bytes() == (second / "model.safetensors").read_bytes()


def test_push_to_a_branch(hub, tmp_path):
    env = hf_env(tmp_path / "hf", hub.url)
    commit = pushed(env, model_dir(tmp_path / "m"), "tester/branchy")
    result = zoo(env, "push", str(model_dir(tmp_path / "m2", seed=3)), "tester/branchy", "--branch", "dev",
                 "-m", "try dev")
    assert result.returncode == 0, result.stderr
    on_dev = result.stdout.split("commit: ")[1].split()[0]
    assert hub.repos["tester/branchy"].branches == {"main": commit, "dev": on_dev}
    pulled = Path(zoo(env, "pull", "hf://tester/branchy@dev").stdout.strip().splitlines()[-1])
    assert pulled.name == on_dev


def test_push_needs_a_valid_token_and_never_shows_it(hub, tmp_path):
    folder = model_dir(tmp_path / "m")
    line = one_error_line(zoo(hf_env(tmp_path / "hf", hub.url, HF_TOKEN=""), "push", str(folder), "tester/x"))
    assert "no Hugging Face token" in line
    wrong = hf_env(tmp_path / "hf", hub.url, HF_TOKEN="hf_wrongTOKENvalue")
    result = zoo(wrong, "push", str(folder), "tester/x")
    assert "HTTP 401" in one_error_line(result) and "hf_wrongTOKENvalue" not in result.stderr


def test_push_refuses_a_directory_that_is_not_a_model(hub, tmp_path):
    env = hf_env(tmp_path / "hf", hub.url)
    (tmp_path / "empty").mkdir()
    assert "not a model directory" in one_error_line(zoo(env, "push", str(tmp_path / "empty"), "tester/x"))


@pytest.fixture(scope="module")
def published(hub, tmp_path_factory):
    """A repository with one commit, pushed once for the error tests."""
    tmp = tmp_path_factory.mktemp("published")
    folder = model_dir(tmp / "model")
    return pushed(hf_env(tmp / "hf", hub.url), folder, "tester/published"), folder


def test_each_hub_error_is_one_clear_line(hub, published, tmp_path):
    commit, folder = published
    env = hf_env(tmp_path / "hf", hub.url)
    assert "repository 'tester/nope' not found" in one_error_line(zoo(env, "pull", "hf://tester/nope"))
    assert "revision 'nobranch' not found" in one_error_line(zoo(env, "pull", "hf://tester/published@nobranch"))
    assert f"revision '{'0' * 40}' not found" in one_error_line(
        zoo(env, "pull", f"hf://tester/published@{'0' * 40}"))
    assert "expected hf://OWNER/NAME" in one_error_line(zoo(env, "pull", "hf://only-one-part"))

    files = {n: hashlib.sha256((folder / n).read_bytes()).hexdigest() for n in ("model.safetensors", "config.json")}
    registry = write_registry(tmp_path / "r.toml", "needs-extra", f"hf://tester/published@{commit}",
                              {**files, "extra.bin": "0" * 64})
    line = one_error_line(zoo({**env, "ZOO_REGISTRY": str(registry)}, "pull", "needs-extra"))
    assert "file 'extra.bin' not found in repository 'tester/published'" in line

    offline = hf_env(tmp_path / "cold", hub.url, HF_HUB_OFFLINE="1")
    assert "HF_HUB_OFFLINE=1" in one_error_line(zoo(offline, "pull", f"hf://tester/published@{commit}"))


def test_gated_repository(hub, tmp_path):
    env = hf_env(tmp_path / "hf", hub.url)
    pushed(env, model_dir(tmp_path / "m"), "tester/gated")
    hub.gate("tester/gated")
    line = one_error_line(zoo(hf_env(tmp_path / "anon", hub.url, HF_TOKEN=""), "pull", "hf://tester/gated"))
    assert "gated repository" in line
    assert zoo(env, "pull", "hf://tester/gated").returncode == 0  # the token holder has access


def test_server_error_without_cache(hub, published, tmp_path):
    hub.fail_with = 500
    try:
        line = one_error_line(zoo(hf_env(tmp_path / "hf", hub.url), "pull", "hf://tester/published"))
    finally:
        hub.fail_with = None
    assert "HTTP 500" in line


def test_cache_serves_after_the_server_stops_and_offline(tmp_path):
    server = HubServer(token=TOKEN)
    env = hf_env(tmp_path / "hf", server.url)
    folder = model_dir(tmp_path / "m")
    commit = pushed(env, folder, "tester/cached")
    files = {n: hashlib.sha256((folder / n).read_bytes()).hexdigest() for n in ("model.safetensors", "config.json")}
    env["ZOO_REGISTRY"] = str(write_registry(tmp_path / "r.toml", "cached-entry", f"hf://tester/cached@{commit}",
                                             files))
    warm = zoo(env, "pull", f"hf://tester/cached@{commit}").stdout.strip().splitlines()[-1]
    zoo(env, "pull", "hf://tester/cached")  # records refs/main in the cache
    assert zoo(env, "pull", "cached-entry").stdout.strip().splitlines()[-1] == warm
    server.stop()
    for ref in (f"hf://tester/cached@{commit}", "hf://tester/cached", "cached-entry"):
        for extra in ({}, {"HF_HUB_OFFLINE": "1"}):
            result = zoo({**env, **extra}, "pull", ref)
            assert result.returncode == 0, (ref, extra, result.stderr)
            assert result.stdout.strip().splitlines()[-1] == warm


def test_registry_entry_with_a_corrupted_file_is_refused_and_discarded(hub, tmp_path):
    env = hf_env(tmp_path / "hf", hub.url)
    folder = model_dir(tmp_path / "m")
    commit = pushed(env, folder, "tester/corrupt")
    good = (folder / "model.safetensors").read_bytes()
    files = {n: hashlib.sha256((folder / n).read_bytes()).hexdigest() for n in ("model.safetensors", "config.json")}
    env["ZOO_REGISTRY"] = str(write_registry(tmp_path / "r.toml", "corrupt-model", f"hf://tester/corrupt@{commit}",
                                             files))
    bad = bytearray(good)
    bad[-1] ^= 0xFF  # same size and framing, different numbers
    hub.tamper("tester/corrupt", "model.safetensors", bytes(bad))
    line = one_error_line(zoo(env, "pull", "corrupt-model"))
    assert "'model.safetensors'" in line and "sha256" in line
    cached = list((tmp_path / "hf" / "hub").rglob("model.safetensors"))
    assert all(not p.exists() for p in cached)  # the corrupt copy is gone from the cache

    hub.tamper("tester/corrupt", "model.safetensors", good)
    result = zoo(env, "pull", "corrupt-model")
    assert result.returncode == 0, result.stderr
    assert (Path(result.stdout.strip().splitlines()[-1]) / "model.safetensors").read_bytes() == good


def test_html_page_instead_of_weights_is_a_clear_error(hub, tmp_path):
    env = hf_env(tmp_path / "hf", hub.url)
    folder = model_dir(tmp_path / "m")
    commit = pushed(env, folder, "tester/html")
    hub.tamper("tester/html", "model.safetensors", b"<!DOCTYPE html><html><body>Service Unavailable</body></html>")
    line = one_error_line(zoo(env, "pull", f"hf://tester/html@{commit}"))
    assert "not a safetensors file" in line and "HTML" in line


def test_a_bundled_model_published_to_the_hub_runs_from_its_hf_entry(hub, tmp_path):
    """The docs/hub.md procedure: push a bundled model, point an entry at the commit, run it."""
    from zoo.catalogue import builtin_catalogue, read_catalogue
    from zoo.hub import fetch_pretrained

    entry = next((e for e in read_catalogue(builtin_catalogue()) if e.task == "adder"), None)
    if entry is None:
        pytest.skip("no bundled adder model")
    env = hf_env(tmp_path / "hf", hub.url)
    commit = pushed(env, fetch_pretrained(entry), "tester/adder")
    files = {k: v for k, v in entry.files.items() if k != "README.md"}  # the card names the repository
    env["ZOO_REGISTRY"] = str(write_registry(tmp_path / "r.toml", "adder-hub", f"hf://tester/adder@{commit}", files))
    for ref in ("adder-hub", f"hf://tester/adder@{commit}"):
        result = zoo(env, "run", ref, "81+113")
        assert result.returncode == 0 and result.stdout.strip() == "194", result.stderr


def test_an_unreachable_hub_is_one_line_for_push_and_pull(tmp_path):
    import socket

    with socket.socket() as s:  # a port nobody listens on once this socket closes
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = hf_env(tmp_path / "hf", f"http://127.0.0.1:{port}", HF_HUB_ETAG_TIMEOUT="2", HF_HUB_DOWNLOAD_TIMEOUT="2")
    folder = model_dir(tmp_path / "m")
    assert f"cannot reach the Hub at http://127.0.0.1:{port}" in one_error_line(zoo(env, "push", str(folder), "t/x"))
    assert f"cannot reach the Hub at http://127.0.0.1:{port}" in one_error_line(zoo(env, "pull", "hf://t/x"))


def test_push_keeps_a_card_edited_on_the_hub_and_names_the_library(hub, tmp_path):
    from huggingface_hub import HfApi

    env = hf_env(tmp_path / "hf", hub.url)
    folder = model_dir(tmp_path / "m", seed=3)
    pushed(env, folder, "tester/carded")
    agents = [r["headers"].get("user-agent", "") for r in hub.requests]
    assert agents and all(a.startswith("seqzoo/") for a in agents), agents  # library_name + library_version

    def remote_card() -> str:
        pulled = zoo(env, "pull", "hf://tester/carded")
        assert pulled.returncode == 0, pulled.stderr
        return (Path(pulled.stdout.strip().splitlines()[-1]) / "README.md").read_text()

    assert "library_name: seqzoo" in remote_card()
    again = zoo(env, "push", str(folder), "tester/carded")  # our own, unedited card is simply refreshed
    assert again.returncode == 0 and "kept the README.md" not in again.stderr

    try:
        HfApi(endpoint=hub.url, token=TOKEN).upload_file(
            path_or_fileobj=b"# Written on the Hub\n", path_in_repo="README.md", repo_id="tester/carded")
    except ValueError as exc:  # huggingface_hub < 2 commits, then cannot parse a custom endpoint's URL
        assert "Unable to retrieve user and repo ID" in str(exc)
    kept = zoo(env, "push", str(folder), "tester/carded")
    assert kept.returncode == 0, kept.stderr
    assert "kept the README.md edited on the Hub" in kept.stderr
    assert remote_card() == "# Written on the Hub\n"
    replaced = zoo(env, "push", str(folder), "tester/carded", "--overwrite-card")
    assert replaced.returncode == 0 and "kept" not in replaced.stderr
    assert "library_name: seqzoo" in remote_card()


def test_the_object_api_push_to_hub_then_load_from_hf(hub, tmp_path, monkeypatch):
    """``zoo.load(...)`` gives an object with ``push_to_hub``; what it pushed loads back alike."""
    import zoo as seqzoo
    from zoo.plugins import current

    if "adder-gru" not in current().catalogue():
        pytest.skip("the adder plugin is not installed")
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    model = seqzoo.load("adder-gru")
    result = model.push_to_hub("tester/object-api", endpoint=hub.url)
    assert result.repo_id == "tester/object-api" and len(result.commit) == 40
    pulled = zoo(hf_env(tmp_path / "hf", hub.url), "pull", result.ref)
    assert pulled.returncode == 0, pulled.stderr
    folder = Path(pulled.stdout.strip().splitlines()[-1])
    assert seqzoo.load(folder).run("81+113") == model.run("81+113")
    assert "zoo run hf://tester/object-api" in (folder / "README.md").read_text()  # the card names the repo
