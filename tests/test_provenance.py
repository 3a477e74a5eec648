"""Loading checks where a model's task and architecture come from (config.json's distributions)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

ADDER = Path(__file__).resolve().parent.parent / "plugins" / "adder" / "zoo_adder" / "pretrained" / "adder-gru"


@pytest.fixture
def model(tmp_path: Path) -> Path:
    """A copy of the bundled adder-gru model folder (task from seqzoo-adder, gru from seqzoo-rnn)."""
    if not ADDER.is_dir():
        pytest.skip("the adder plugin's bundled model is not in this checkout")
    return Path(shutil.copytree(ADDER, tmp_path / "adder-gru"))


def edit(folder: Path, section: str, **values: str) -> None:
    config = json.loads((folder / "config.json").read_text())
    config[section].update(values)
    (folder / "config.json").write_text(json.dumps(config))


def error_line(result) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr.strip().splitlines()[-1]


def test_the_untouched_model_runs(model: Path, zoo_cmd) -> None:
    result = zoo_cmd("run", str(model), "81+113")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(81 + 113)


def test_a_name_now_provided_by_another_distribution_is_refused(model: Path, zoo_cmd) -> None:
    edit(model, "model", distribution="zoo-other", version="9.9")
    line = error_line(zoo_cmd("run", str(model), "81+113"))
    assert line == (
        f"error: {model} was trained with model 'gru' from zoo-other 9.9, but here 'gru' comes from seqzoo-rnn "
        "0.1.0; refusing to load it with another distribution's code (install zoo-other, or disable the other "
        "one: ZOO_DISABLE_PLUGINS=rnn)"
    )


def test_a_disabled_distribution_is_named_as_disabled(model: Path, zoo_cmd) -> None:
    line = error_line(zoo_cmd("run", str(model), "81+113", env={"ZOO_DISABLE_PLUGINS": "rnn"}))
    assert line == ("error: model 'gru' comes from seqzoo-rnn, which is installed but disabled "
                    "(ZOO_LOAD_PLUGINS / ZOO_DISABLE_PLUGINS)")


def test_an_installed_distribution_that_failed_to_load_is_named(model: Path, zoo_cmd, fake_site: Path) -> None:
    edit(model, "model", name="brokenmodel", distribution="zoo-broken", version="0.0.1")
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(fake_site), os.environ.get("PYTHONPATH")]))}
    line = error_line(zoo_cmd("run", str(model), "81+113", env=env))
    assert line == ("error: model 'brokenmodel' comes from zoo-broken, which is installed but failed to load: "
                    "ModuleNotFoundError: No module named 'no_such_dependency_for_zoo_tests' (see `zoo plugins`)")


def test_a_missing_distribution_says_what_to_install(model: Path, zoo_cmd) -> None:
    edit(model, "task", name="nosuchtask", distribution="seqzoo-nosuch")
    line = error_line(zoo_cmd("run", str(model), "81+113"))
    assert line == "error: task 'nosuchtask' is not installed; install the distribution that provides it: " \
                   "pip install seqzoo-nosuch"
