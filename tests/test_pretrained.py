"""The bundled pretrained models: listed with metrics, verified, runnable offline, reproducible.

Every ``pkg://`` entry of the shipped registry.toml is checked; ``zoo eval`` runs for each one
whose data is available and which evaluates in seconds (charlm needs tinyshakespeare, which
tests may not rely on, so it runs only where that file exists).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

import zoo
from zoo.catalogue import builtin_catalogue, read_catalogue
from zoo.fileio import sha256_file
from zoo.hub import fetch_pretrained

ZOO = str(Path(sys.executable).with_name("zoo"))
ENTRIES = {e.name: e for e in read_catalogue(builtin_catalogue())} if builtin_catalogue() else {}
BUNDLED = sorted(name for name, e in ENTRIES.items() if e.source.startswith("pkg://"))
SHAKESPEARE = Path(__file__).resolve().parents[2] / "shared" / "data" / "tinyshakespeare.txt"
TASKS = {"adder", "count", "seq2seq", "charlm", "names"}


def offline_env(tmp_path: Path) -> dict[str, str]:
    """No way to the network: offline mode, and an endpoint nothing listens on."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "ZOO_"))}
    return {**env, "HF_HUB_OFFLINE": "1", "HF_ENDPOINT": "http://127.0.0.1:9", "HF_HOME": str(tmp_path / "hf")}


def run_input(name: str) -> tuple[list[str], str | None]:
    """Arguments for ``zoo run NAME ...`` and the exact answer expected, computed here."""
    entry = ENTRIES[name]
    config = json.loads((fetch_pretrained(entry) / "config.json").read_text())
    if entry.task == "adder":
        return ["81+113"], str(81 + 113)
    if entry.task == "seq2seq" and config["task"]["config"]["data"] == "antonyms":
        from zoo_seq2seq.data import ANTONYMS

        return ["king"], dict(ANTONYMS)["king"]
    if entry.task == "seq2seq":  # addition: the exact sum only from a model that learned it
        return ["123+45"], str(123 + 45) if entry.metrics["exact_match"] >= 0.99 else None
    if entry.task == "count":
        pattern = config["vocabulary"]["pattern"]
        prime, period = pattern * 2, len(pattern)
        expected = [pattern[i % period] for i in range(len(prime), len(prime) + 2 * period)]
        return [" ".join(map(str, prime)), "--length", str(2 * period)], " ".join(map(str, expected))
    if entry.task == "names":
        return ["Dostoevsky"], None
    return ["ROMEO:", "--length", "40", "--seed", "1"], None


def test_every_first_party_task_has_a_bundled_model():
    assert TASKS <= {ENTRIES[n].task for n in BUNDLED}


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_files_match_their_sha256(name):
    entry = ENTRIES[name]
    folder = fetch_pretrained(entry)
    assert {f: sha256_file(folder / f) for f in entry.files} == entry.files
    assert folder.parent.name == "pretrained" and folder.parent.parent.name == f"zoo_{entry.task}"


def test_a_bundled_file_with_a_wrong_sha256_is_refused():
    entry = ENTRIES[BUNDLED[0]]
    wrong = replace(entry, files={**entry.files, "model.safetensors": "0" * 64})
    with pytest.raises(zoo.ZooError, match=r"file 'model.safetensors' failed its sha256 check"):
        fetch_pretrained(wrong)


def test_list_pretrained_shows_the_bundled_models_with_metrics():
    result = subprocess.run([ZOO, "list", "pretrained", "--json"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    listed = {row["name"]: row for row in json.loads(result.stdout)["pretrained"]}
    for name in BUNDLED:
        assert listed[name]["metrics"] == ENTRIES[name].metrics
    text = subprocess.run([ZOO, "list", "pretrained"], capture_output=True, text=True, timeout=60).stdout
    for name in BUNDLED:
        metric, value = next(iter(ENTRIES[name].metrics.items()))
        assert name in text and f"{metric}={value:.4g}" in text


@pytest.mark.parametrize("name", BUNDLED)
def test_zoo_run_works_straight_after_install_without_network(name, tmp_path):
    args, expected = run_input(name)
    result = subprocess.run([ZOO, "run", name, *args], env=offline_env(tmp_path), capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    if expected is not None:
        assert result.stdout.strip() == expected
    elif ENTRIES[name].task == "charlm":
        assert result.stdout.startswith("ROMEO:") and len(result.stdout.strip()) >= len("ROMEO:") + 30
    elif ENTRIES[name].task == "names":  # the top three languages, best first, with probabilities
        lines = result.stdout.splitlines()
        assert len(lines) == 3 and lines[0].split()[0] == "Russian"
        probs = [float(line.split()[1]) for line in lines]
        assert probs == sorted(probs, reverse=True)
    else:
        assert result.stdout.strip().isdigit()


def _evaluable(name: str) -> bool:
    return ENTRIES[name].task != "charlm" or SHAKESPEARE.is_file()


@pytest.mark.parametrize("name", [n for n in BUNDLED if ENTRIES[n].task != "charlm"])
def test_zoo_eval_reproduces_the_registry_metrics(name):
    from zoo.cli.evaluate import eval_cmd

    result = CliRunner().invoke(eval_cmd, [name, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.splitlines()[0])
    assert report["reproduced"] and report["tolerance"] == ENTRIES[name].tolerance
    for metric, recorded in ENTRIES[name].metrics.items():
        assert abs(report["measured"][metric] - recorded) <= ENTRIES[name].tolerance


@pytest.mark.slow
@pytest.mark.skipif(not SHAKESPEARE.is_file(), reason="needs ../shared/data/tinyshakespeare.txt")
@pytest.mark.parametrize("name", [n for n in BUNDLED if ENTRIES[n].task == "charlm"])
def test_zoo_eval_reproduces_charlm_on_its_corpus(name):
    from zoo.cli.evaluate import eval_cmd

    result = CliRunner().invoke(eval_cmd, [name, "--set", f"data={SHAKESPEARE}"])
    assert result.exit_code == 0, result.output


def test_zoo_eval_fails_when_the_metrics_are_not_reproduced(tmp_path):
    """The real script: an entry claiming a better val_loss than its weights give exits 1."""
    name = next(n for n in BUNDLED if ENTRIES[n].task == "count")  # the quickest to evaluate
    entry = ENTRIES[name]
    claimed = entry.metrics["val_loss"] / 2
    lines = [f"[pretrained.{name}-claimed]", f'task = "{entry.task}"', f'model = "{entry.model}"',
             f'source = "{entry.source}"', 'summary = "over-claimed"', 'dataset = "x"', 'license = "MIT"',
             f"tolerance = {entry.tolerance}", f"metrics = {{ val_loss = {claimed} }}",
             f"[pretrained.{name}-claimed.files]"] + [f'"{k}" = "{v}"' for k, v in entry.files.items()]
    (tmp_path / "r.toml").write_text("\n".join(lines) + "\n")
    env = {**offline_env(tmp_path), "ZOO_REGISTRY": str(tmp_path / "r.toml")}
    result = subprocess.run([ZOO, "eval", f"{name}-claimed"], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "DIFFERS" in result.stdout and result.stderr.startswith("error: ") and "val_loss" in result.stderr
