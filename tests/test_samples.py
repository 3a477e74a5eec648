"""``zoo train --sample-every N``: the task's own run on its fixed prompt, recorded and listed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import zoo
from zoo.cli import main as zoo_main


def records(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_samples_every_n_steps_are_the_tasks_run_with_a_fixed_seed(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "count"
    zoo.train("count", "lstm", settings=["hidden_size=4"], steps=4, eval_every=4, sample_every=2, out=run)
    samples = [r for r in records(run) if r.get("kind") == "sample"]
    assert [r["step"] for r in samples] == [2, 4]
    loaded = zoo.load(str(run))  # the final weights: the last sample is what run gives from the prompt
    assert samples[-1]["sample"] == loaded.run(loaded.task.sample_prompt())
    with pytest.raises(SystemExit) as done:
        zoo_main(["inspect", str(run), "--samples"])
    assert done.value.code in (0, None)
    out = capsys.readouterr().out
    assert "--- step 2 ---" in out and samples[-1]["sample"].strip() in out


def test_a_task_whose_run_does_not_generate_records_no_samples(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "adder"
    zoo.train("adder", "gru", settings=["hidden_size=4"], steps=2, eval_every=2, sample_every=1, out=run)
    assert not any(r.get("kind") == "sample" for r in records(run))
    with pytest.raises(SystemExit) as done:
        zoo_main(["inspect", str(run), "--samples"])
    assert done.value.code == 2
    assert "no samples recorded (train with --sample-every N)" in capsys.readouterr().err
