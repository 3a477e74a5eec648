"""``zoo inspect``: the numbers it shows come from the real networks, and bad input is one line.

The golden values are recomputed here by another road: ``net.step`` one character at a time
(charlm), the bits of the true sum (adder). The bundled pretrained models are used offline.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import zoo
from zoo.cli import main as zoo_main
from zoo.inspect_report import records
from zoo.inspection import SCHEMA_VERSION, trace

ZOO = Path(sys.executable).with_name("zoo")


def run_zoo(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed ``zoo`` script; a generous timeout, as the machine may be busy."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZOO_")}
    return subprocess.run([str(ZOO), *args], capture_output=True, text=True, timeout=600, env=env)


def zoo_here(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The same command line run in this process (no torch start-up per case): exit code, out, err."""
    try:
        zoo_main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def charlm() -> zoo.artifacts.Loaded:  # type: ignore[name-defined]
    return zoo.load("charlm-lstm")


def test_charlm_steps_match_one_step_at_a_time(charlm) -> None:
    text = "He said, 'yes'.\nNo."
    result = trace(charlm.task, charlm.net, text)
    ids = charlm.task.encode(text)
    state = None
    with torch.inference_mode():
        for t in range(len(text)):
            logits, state = charlm.net.step(ids[t : t + 1], state)
            probs = torch.softmax(logits[0].double(), -1)
            torch.testing.assert_close(result.probs[t], probs, atol=1e-5, rtol=1e-4)
            if t + 1 < len(text):
                assert result.p_target(t) == pytest.approx(float(probs[ids[t + 1]]), abs=1e-5)
            h, c = state
            torch.testing.assert_close(result.internals["h"][t], h[0, 0].double(), atol=1e-5, rtol=1e-4)
            torch.testing.assert_close(result.internals["c"][t], c[0, 0].double(), atol=1e-5, rtol=1e-4)
    assert result.targets[-1] is None
    assert set(result.gates) == {"input", "forget", "output"}


def test_json_records_follow_the_documented_schema(charlm) -> None:
    result = trace(charlm.task, charlm.net, "to be")
    rows = list(records(result, top_k=3, states=True, gates=True))
    assert [r["step"] for r in rows] == list(range(5))
    first = rows[0]
    assert first["schema_version"] == SCHEMA_VERSION == 1
    assert set(first) == {"schema_version", "step", "input", "target", "p_target", "loss", "top", "states", "gates"}
    assert first["input"] == "t" and first["target"] == "o"
    assert first["loss"] == pytest.approx(-math.log(first["p_target"]))
    assert [t["p"] for t in first["top"]] == sorted((t["p"] for t in first["top"]), reverse=True)
    assert len(first["states"]["h"]) == len(first["states"]["c"]) == result.units
    assert rows[-1]["target"] is None and rows[-1]["loss"] is None
    json.dumps(rows, allow_nan=False)


def test_adder_is_inspected_bit_by_bit() -> None:
    done = run_zoo("inspect", "adder-gru", "5+3", "--json", "--states", "--gates", "--top-k", "2")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    truth = [(8 >> i) & 1 for i in range(4)]  # 5 + 3 = 8, least significant bit first, one carry step
    assert [r["input"] for r in rows] == [f"{(5 >> i) & 1}+{(3 >> i) & 1}" for i in range(4)]
    assert [r["target"] for r in rows] == [str(b) for b in truth]
    assert [r["top"][0]["token"] for r in rows] == [str(b) for b in truth]  # the bundled model adds
    assert set(rows[0]["gates"]) == {"reset", "update"} and len(rows[0]["states"]["h"]) == 16


def test_table_colours_a_unit_and_suggests_units() -> None:
    done = run_zoo("inspect", "charlm-lstm", "First Citizen:\nWe are all resolved.\n", "--unit", "3", "--top-k", "2")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split()[:5] == ["step", "input", "next", "p(next)", "loss"]
    assert lines[1].split()[:3] == ["0", "F", "i"]
    assert "\x1b[48;2;" in done.stdout  # the text coloured by unit 3
    assert "interesting units of 256" in done.stdout and "unit " in lines[-1]


def test_html_page_is_self_contained(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    done = run_zoo("inspect", "count-lstm", "0 1 2 1 0 1", "--html", str(page))
    assert done.returncode == 0, done.stderr
    content = page.read_text(encoding="utf-8")
    assert "KiB" in done.stderr and content.startswith("<!DOCTYPE html>")
    for external in ("http://", "https://", "src=", "@import", "url("):
        assert external not in content
    assert "Gate saturation" in content and content.count('<span id="s') == 6


def test_seq2seq_scores_a_given_target_per_decoder_step() -> None:
    loaded = zoo.load("seq2seq-antonyms")
    result = trace(loaded.task, loaded.net, "king => queen")
    assert result.inputs == ["<s>", *"queen"]
    assert [result.classes[t] for t in result.targets] == [*"queen", "</s>"]
    free = trace(loaded.task, loaded.net, "king")
    assert all(t is None for t in free.targets) and free.inputs[0] == "<s>"


@pytest.fixture(scope="module")
def gateless_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An Elman RNN (no gates) trained for a few steps: enough to inspect."""
    out = tmp_path_factory.mktemp("runs") / "count-rnn"
    zoo.train("count", "rnn", settings=["hidden_size=4"], steps=3, out=out, eval_every=3)
    return out


def test_a_model_without_gates_gets_states_and_refuses_gates(capsys: pytest.CaptureFixture[str],
                                                              gateless_run: Path) -> None:
    done = run_zoo("inspect", str(gateless_run), "0 1 2", "--states")
    assert done.returncode == 0, done.stderr
    assert "h: " in done.stdout  # 4 units: whole vectors
    code, _, err = zoo_here(capsys, "inspect", str(gateless_run), "0 1 2", "--gates")
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("error: model 'rnn' has no gates")


@pytest.mark.parametrize(
    "args, says",
    [
        (["no/such/run", "hi"], "no/such/run: no such model directory"),
        (["charlm-lstm", "hello", "--unit", "999"], "unit 999 is out of range: this model has 256 units"),
        (["charlm-lstm", "h\u00e9llo \u2603"], "'\u00e9', '\u2603'"),
        (["charlm-lstm", "hello", "--html", "/proc/no-such-dir/page.html"], "--html /proc/no-such-dir/page.html"),
        (["charlm-lstm"], "give some input"),
    ],
    ids=["ref", "unit", "vocabulary", "html", "empty"],
)
def test_bad_input_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], args: list[str], says: str) -> None:
    code, out, err = zoo_here(capsys, "inspect", *args)
    assert code == 2, out + err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert says in err


def test_bad_input_through_the_script() -> None:
    done = run_zoo("inspect", "charlm-lstm", "caf\u00e9")
    assert done.returncode == 2 and done.stderr == (
        "error: character '\u00e9' is not in the model's vocabulary of 65 characters (the characters of its training text)\n")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_html_target_is_refused(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    done = run_zoo("inspect", "count-lstm", "0 1", "--html", str(locked / "page.html"))
    assert done.returncode == 2 and "not writable" in done.stderr
