"""``zoo compare``: same budget and seeds for every model, a leaderboard, compare.json, curves.png."""

from __future__ import annotations

import json
import math
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from zoo import compare
from zoo.cli import cli
from zoo.task import Metric


def outcome(model: str, seed: int, metric: float | None, **kw) -> compare.RunOutcome:
    return compare.RunOutcome(model=model, seed=seed, run_dir=f"runs/{model}-{seed}", metric=metric, **kw)


def test_summary_is_mean_and_sample_spread_over_seeds() -> None:
    runs = [outcome("gru", 0, 0.5, time_to_target=None, tokens_per_sec=900.0, params=10),
            outcome("gru", 1, 0.75, time_to_target=4.0, steps_to_target=40, tokens_per_sec=1100.0, params=10),
            outcome("gru", 2, 1.0, time_to_target=2.0, steps_to_target=30, tokens_per_sec=1000.0, params=10),
            outcome("gru", 3, None, error="diverged")]
    row = compare.summarise("gru", runs)
    values = [0.5, 0.75, 1.0]
    mean = sum(values) / 3
    assert row.metric_mean == pytest.approx(mean)
    assert row.metric_spread == pytest.approx(math.sqrt(sum((v - mean) ** 2 for v in values) / 2))
    assert (row.runs, row.failed, row.reached) == (4, 1, 2)
    assert row.time_to_target == pytest.approx(3.0)  # mean over the seeds that reached it
    assert row.steps_to_target == pytest.approx(35.0)
    assert row.tokens_per_sec == pytest.approx(1000.0)
    assert compare.summarise("x", [outcome("x", 0, 0.25)]).metric_spread == 0.0


def test_rank_by_metric_direction_then_time_to_target() -> None:
    rows = {m: compare.summarise(m, [outcome(m, 0, v, time_to_target=t)])
            for m, v, t in (("a", 0.9, None), ("b", 1.0, 5.0), ("c", 1.0, 2.0), ("d", None, None))}
    assert [r.model for r in compare.rank(list(rows.values()), "max")] == ["c", "b", "a", "d"]
    assert [r.model for r in compare.rank(list(rows.values()), "min")] == ["a", "c", "b", "d"]


def test_time_to_target_uses_elapsed_before_the_first_evaluation_that_reached_it() -> None:
    records = [{"step": 10, "kind": "train", "loss": 1.0, "elapsed": 1.5},
               {"step": 10, "kind": "eval", "accuracy": 0.5},
               {"step": 20, "kind": "train", "loss": 0.1, "elapsed": 2.5},
               {"step": 20, "kind": "eval", "accuracy": 1.0},
               {"step": 30, "kind": "train", "loss": 0.1, "elapsed": 3.5},
               {"step": 30, "kind": "eval", "accuracy": 1.0}]
    metric = Metric("accuracy", "max", target=1.0)
    assert compare.time_to_target(records, metric, seconds=4.0, steps=30) == (2.5, 20)
    no_clock = [{k: v for k, v in r.items() if k != "elapsed"} for r in records]
    assert compare.time_to_target(no_clock, metric, seconds=6.0, steps=30) == (pytest.approx(4.0), 20)
    assert compare.time_to_target(records, Metric("accuracy", "max"), 4.0, 30) is None
    assert compare.tokens_per_sec([{"tokens_per_s": v} for v in (10.0, 300.0, 20.0)]) == 20.0


def test_bad_requests_fail_before_training(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "cmp"
    res = runner.invoke(cli, ["compare", "count", "gru", "lstmm", "--steps", "5", "--out", str(out)])
    assert res.exit_code == 2
    assert "error: unknown model 'lstmm' (did you mean 'lstm'?)" in res.output
    res = runner.invoke(cli, ["compare", "count", "--steps", "5", "--time", "5s", "--out", str(out)])
    assert res.exit_code == 2 and "error: give either --time or --steps, not both" in res.output
    res = runner.invoke(cli, ["compare", "count", "gru", "--set", "hiden_size=4", "--steps", "5", "--out", str(out)])
    assert res.exit_code == 2 and "error: unknown setting 'hiden_size'" in res.output
    res = runner.invoke(cli, ["compare", "count", "gru", "--time", "soon", "--out", str(out)])
    assert res.exit_code == 2 and "error: bad time budget" in res.output
    assert not out.exists()


@pytest.mark.slow
def test_compare_trains_each_model_and_seed_under_one_budget(tmp_path: Path) -> None:
    from safetensors.torch import load_file

    out = tmp_path / "cmp"
    args = ["compare", "count", "gru", "rnn", "--steps", "20", "--seeds", "2",
            "--set", "pattern=0,1,2,1", "--set", "hidden_size=12", "--out", str(out), "--json"]
    proc = subprocess.run([sys.executable, "-m", "zoo", *args], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    assert data == json.loads((out / "compare.json").read_text())
    assert (data["task"], data["metric"], data["mode"], data["target"]) == ("count", "accuracy", "max", 1.0)
    # progress: one line as each run starts and one summary line as it ends, in order
    progress = [line for line in proc.stderr.splitlines() if line.startswith("[")]
    assert [line.split(":")[0] for line in progress] == [
        f"[{i}/4] count {m} seed {s}" for i, (m, s) in enumerate([("gru", 0), ("gru", 1), ("rnn", 0), ("rnn", 1)], 1)
        for _ in range(2)]
    assert all("accuracy=" in line for line in progress[1::2])

    for row in data["rows"]:
        runs = [r for r in data["runs"] if r["model"] == row["model"]]
        finals = []
        for run in runs:
            config = json.loads((Path(run["run_dir"]) / "config.json").read_text())
            assert config["training"]["seed"] == run["seed"]
            assert run["steps"] <= 20
            finals.append(config["metrics"]["accuracy"])
            weights = load_file(Path(run["run_dir"]) / "model.safetensors")
            assert run["params"] == sum(t.numel() for t in weights.values())
        mean = sum(finals) / 2
        assert row["metric_mean"] == pytest.approx(mean)
        assert row["metric_spread"] == pytest.approx(math.sqrt(sum((v - mean) ** 2 for v in finals)))
    # the leaderboard lists the rows in compare.json's ranked order
    table = proc.stdout.split("\n")
    ranked = [line.split()[1] for line in table if line[:1].isdigit()]
    assert ranked == [row["model"] for row in data["rows"]]
    assert (out / "curves.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.slow
def test_ctrl_c_stops_the_comparison_and_keeps_what_finished(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    args = ["compare", "count", "gru", "rnn", "--steps", "1000000", "--set", "length=20",  # one unit: never
            "--set", "hidden_size=1", "--out", str(out), "--no-plot"]                    # reaches the target
    proc = subprocess.Popen([sys.executable, "-m", "zoo", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    started = proc.stderr.readline()
    assert started.startswith("[1/2] count gru seed 0: training"), started
    # Signal once the engine's loop is logging: a SIGINT that lands earlier, inside an exec()
    # during imports, makes CPython end the process by SIGINT (-2) even after sys.exit(130).
    log = out / "gru-seed0" / "metrics.jsonl"
    deadline = time.monotonic() + 60
    while not (log.exists() and log.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "interrupted; stopping the comparison" in stderr
    assert "[2/2]" not in stderr  # the second model never started
    data = json.loads((out / "compare.json").read_text())
    assert data["interrupted"] is True
    assert [(r["model"], r["error"]) for r in data["runs"]] == [("gru", "interrupted")]
    assert "failed" in stdout and not (out / "rnn-seed0").exists()
