"""Two torchrun ranks on a file corpus: one cache entry, built once, memory-mapped by both."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
def test_two_ranks_share_one_token_cache_entry(tmp_path: Path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("".join(f"line {i} of a generated corpus, with some words.\n" for i in range(4000)),
                      encoding="utf-8")
    cache = tmp_path / "cache"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "ZOO_CACHE": str(cache), "ZOO_LOAD_PLUGINS": "charlm,rnn"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "zoo",
           "train", "charlm", "gru", "--set", f"data={corpus}", "--set", "window=16", "--hidden-size", "16",
           "--batch-size", "8", "--steps", "4", "--device", "cpu", "--out", str(tmp_path / "run"), "--json"]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1])["steps"] == 4
    store = cache / "charlm" / "tokens"
    files = sorted(p.name for p in store.iterdir() if p.is_file())
    assert len(files) == 2 and files[0].endswith(".ids") and files[1].endswith(".json")  # no leftovers
    assert (store / files[0]).stat().st_size == corpus.stat().st_size  # one byte per character
