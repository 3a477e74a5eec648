"""The README's path through the real ``zoo`` script: train on the built-in corpus, then sample."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ZOO = str(Path(sys.executable).with_name("zoo"))


def zoo(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ZOO, *args], capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.slow
def test_train_on_builtin_corpus_then_sample(tmp_path: Path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "ZOO_CACHE": str(tmp_path / "cache"),
           "ZOO_LOAD_PLUGINS": "charlm,rnn"}
    run = tmp_path / "run"
    done = zoo("train", "charlm", "lstm", "--steps", "3", "--batch-size", "8", "--set", "hidden_size=16",
               "--out", str(run), "--json", env=env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert {"val_loss", "val_bpc"} <= set(result["metrics"])
    config = json.loads((run / "config.json").read_text(encoding="utf-8"))
    from zoo_charlm.data import builtin_text

    assert config["vocabulary"]["chars"] == "".join(sorted(set(builtin_text())))
    assert not (tmp_path / "cache").exists()  # nothing downloaded

    sample = ["run", str(run), "--prompt", "The ", "--length", "40", "--seed", "5", "--temperature", "0.8"]
    first = zoo(*sample, env=env)
    assert first.returncode == 0, first.stderr
    # same seed, same text: the command line and the library agree character for character
    from zoo.testing import load_model_dir

    again = load_model_dir(run).run("The ", length=40, seed=5, temperature=0.8)
    assert first.stdout.rstrip("\n") == again.rstrip("\n")
    assert again.startswith("The ") and len(again) == 44

    bad = zoo("run", str(run), "--prompt", "The \u2603", "--length", "5", env=env)
    assert bad.returncode == 2
    assert bad.stderr.startswith("error: character '\u2603' is not in the model's vocabulary")
    assert "Traceback" not in bad.stderr
