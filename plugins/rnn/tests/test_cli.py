"""The installed ``zoo`` script lists the plugin's models and their config fields, without torch."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ZOO = shutil.which("zoo", path=str(Path(sys.executable).parent)) or shutil.which("zoo")


def _zoo(*args: str) -> subprocess.CompletedProcess[str]:
    if ZOO is None:
        pytest.skip("the zoo script is not installed")
    return subprocess.run([ZOO, *args], capture_output=True, text=True, timeout=60, check=False)


def test_list_models_shows_rnn_lstm_gru_with_their_plugin() -> None:
    result = _zoo("list", "models", "--json")
    assert result.returncode == 0, result.stderr
    models = {m["name"]: m for m in json.loads(result.stdout)["models"]}
    for name in ("rnn", "lstm", "gru"):
        assert models[name]["plugin"] == "rnn"
        assert models[name]["distribution"] == "seqzoo-rnn"
    text = _zoo("list", "models").stdout
    assert any(line.split()[0] == "lstm" and "[seqzoo-rnn]" in line for line in text.splitlines()[1:])


def test_info_shows_the_config_fields() -> None:
    result = _zoo("info", "lstm", "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    fields = {f["name"]: f for f in info["config"]}
    assert list(fields) == ["hidden_size", "num_layers", "dropout", "bias", "forget_bias"]
    assert fields["forget_bias"]["default"] == 1.0 and fields["hidden_size"]["type"] == "int"
    text = _zoo("info", "rnn").stdout
    assert "nonlinearity (tanh|relu|identity, default 'tanh')" in text


def test_plugin_registration_does_not_import_torch() -> None:
    code = (
        "import sys; from zoo.plugins import current; "
        "assert {'rnn', 'lstm', 'gru'} <= set(current().models); "
        "assert 'torch' not in sys.modules, 'torch imported at registration'"
    )
    env = {**os.environ, "ZOO_LOAD_PLUGINS": "rnn"}  # this plugin alone, not its neighbours
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False, env=env
    )
    assert result.returncode == 0, result.stderr
