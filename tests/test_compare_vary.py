"""``zoo compare --vary``: every model with every combination of varied settings, labelled rows."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from zoo import ZooError, compare
from zoo.compare.variants import expand

ZOO = str(Path(sys.executable).with_name("zoo"))


def test_variants_are_every_combination_in_order():
    got = expand(["length=5,20", "lr=0.01,0.1"])
    assert [v.label for v in got] == ["length=5 lr=0.01", "length=5 lr=0.1", "length=20 lr=0.01", "length=20 lr=0.1"]
    assert got[1].settings == ("length=5",) and got[1].engine == {"lr": 0.1}
    assert expand([]) == [expand([])[0]] and expand([])[0].label == ""


@pytest.mark.parametrize(("spec", "message"), [
    ("length", "expected NAME=V1,V2"),
    ("length=5,,6", "expected NAME=V1,V2"),
    ("steps=10,20", "shares the budget"),
    ("batch_size=0,8", "--vary batch_size=0: bad value '0' for batch size: must be positive"),
    ("lr=1,1", "a value is listed twice"),
])
def test_bad_vary_specs_are_refused(spec, message):
    with pytest.raises(ZooError, match=message):
        expand([spec])


def test_a_setting_both_set_and_varied_is_refused():
    with pytest.raises(ZooError, match="also fixed with --set"):
        expand(["length=5,20"], ["length=7"])


def test_compare_varies_task_and_engine_settings_and_labels_rows(tmp_path):
    comparison, folder = compare.compare("count", ["rnn"], steps=20, vary=["length=3,6", "lr=0.01,0.02"],
                                         settings=["symbols=4"], out=tmp_path / "c")
    labels = sorted(r.model for r in comparison.rows)
    assert labels == ["rnn length=3 lr=0.01", "rnn length=3 lr=0.02", "rnn length=6 lr=0.01", "rnn length=6 lr=0.02"]
    for run in comparison.runs:
        saved = json.loads((Path(run.run_dir) / "config.json").read_text())
        assert f"length={saved['task']['config']['length']}" in run.label
        assert f"lr={saved['training']['settings']['lr']:g}" in run.label
    assert json.loads((folder / "compare.json").read_text())["vary"] == ["length=3,6", "lr=0.01,0.02"]
    assert "model and setting" in compare.leaderboard(comparison)


def test_cli_refuses_a_bad_vary_before_training(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run([ZOO, "compare", "count", "rnn", "--vary", "lenght=5,20", "--steps", "5",
                          "--out", str(tmp_path / "c"), "--no-plot"], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 2 and not (tmp_path / "c").exists()
    assert out.stderr.startswith("error: --vary lenght=5: unknown setting 'lenght' (did you mean 'length'?)")
    assert out.stderr.count("\n") == 1
