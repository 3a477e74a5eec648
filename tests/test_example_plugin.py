"""The example third-party plugin, end to end: pip-installed into a fresh virtual environment and
found through its entry point, exactly as a user's ``pip install seqzoo-example-mingru`` would.

The fresh environment sees this interpreter's packages (seqzoo, its first-party plugins, torch)
through a ``.pth`` file instead of reinstalling them, so nothing heavy is downloaded; the example
itself is built into a wheel by pip (hatchling) and installed like any published package.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "zoo-mingru"
DIST = "seqzoo-example-mingru"


class FreshEnv:
    """A virtual environment with the example installed; runs ``zoo`` inside it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.python = root / "venv" / "bin" / "python"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("ZOO_", "PYTHON"))}
        self.env["OMP_NUM_THREADS"] = "1"  # tiny models: extra threads only wait on a busy machine

    def run(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        proc = subprocess.run([str(self.python), *args], cwd=self.root, env=self.env,
                              capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"{args} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
        return proc

    def zoo(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.run("-m", "zoo", *args, check=check)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> FreshEnv:
    root = tmp_path_factory.mktemp("fresh")
    env = FreshEnv(root)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / "venv")], check=True)
    purelib = env.run("-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip()
    here = sysconfig.get_paths()["purelib"]  # where seqzoo and torch are installed
    Path(purelib, "seqzoo_parent.pth").write_text(f"import site; site.addsitedir({here!r})\n")
    assert env.run("-c", "import zoo_mingru", check=False).returncode != 0  # not installed yet
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(env.python), "install", "--no-deps", "--quiet",
         str(EXAMPLE)], capture_output=True, text=True, timeout=300, env=env.env)
    assert install.returncode == 0, install.stdout + install.stderr
    location = env.run("-c", "import zoo_mingru; print(zoo_mingru.__file__)").stdout
    assert location.startswith(purelib), location  # a real install, not the source folder
    return env


def test_zoo_list_shows_the_example_with_its_distribution(fresh: FreshEnv) -> None:
    listing = json.loads(fresh.zoo("list", "--json").stdout)
    tasks = {t["name"]: t for t in listing["tasks"]}
    models = {m["name"]: m for m in listing["models"]}
    assert tasks["parity"]["distribution"] == DIST
    assert models["mingru-example"]["distribution"] == DIST
    assert models["gru"]["distribution"] == "seqzoo-rnn"  # first-party plugins still there
    text = fresh.zoo("list").stdout
    assert any(line.split()[0] == "mingru-example" and f"[{DIST}]" in line for line in text.splitlines())
    plugins = json.loads(fresh.zoo("plugins", "--json").stdout)["plugins"]
    mine = next(p for p in plugins if p["distribution"] == DIST)
    assert mine["status"] == "loaded"
    assert sorted(mine["registered"]) == ["model:mingru-example", "task:parity"]


def test_new_task_trains_with_a_first_party_model_and_runs(fresh: FreshEnv) -> None:
    out = fresh.zoo("train", "parity", "gru", "--steps", "300", "--out", "parity-gru", "--json").stdout
    result = json.loads(out.strip().splitlines()[-1])
    assert result["metrics"]["accuracy"] == 1.0  # GRU learns the XOR rule on held-out strings
    config = json.loads((fresh.root / "parity-gru" / "config.json").read_text())
    assert config["task"]["distribution"] == DIST
    assert fresh.zoo("run", "parity-gru", "1011").stdout == "1\n"
    cases = ["0", "1", "111000111", "0110", "1" * 25]  # 25 bits: longer than any training string
    code = f"import zoo; m = zoo.load('parity-gru'); print(' '.join(m.run(b).strip() for b in {cases!r}))"
    assert fresh.run("-c", code).stdout.split() == [str(b.count("1") % 2) for b in cases]
    bad = fresh.zoo("run", "parity-gru", "10a1", check=False)
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines()[-1].startswith("error: not a bit string")


def test_new_model_trains_a_first_party_task_and_runs(fresh: FreshEnv) -> None:
    out = fresh.zoo("train", "count", "mingru-example", "--set", "pattern=0,1,2,1", "--steps", "150",
                    "--out", "count-mingru", "--json").stdout
    result = json.loads(out.strip().splitlines()[-1])
    run_dir = fresh.root / "count-mingru"
    config = json.loads((run_dir / "config.json").read_text())
    assert config["model"]["name"] == "mingru-example"
    assert config["model"]["distribution"] == DIST
    losses = [r["loss"] for r in map(json.loads, (run_dir / "metrics.jsonl").read_text().splitlines()) if "loss" in r]
    assert losses[-1] < losses[0]
    assert result["metrics"]["accuracy"] == 1.0  # after a 1, the token before it says what comes next
    answer = fresh.zoo("run", "count-mingru", "0 1 2 1 0 1").stdout.split()
    assert answer[:6] == ["2", "1", "0", "1", "2", "1"]


def test_contract_suite_passes_on_the_new_model(fresh: FreshEnv) -> None:
    """The plugin's own tests, as its author runs them: zoo.testing on the installed model."""
    proc = fresh.run("-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(EXAMPLE),
                     str(EXAMPLE / "tests"), check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 passed" in proc.stdout
