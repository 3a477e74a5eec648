"""Two installed distributions offering the same model name, through the real ``zoo`` script.

The newcomer is a real (hand-made) installed distribution found through its entry point; its
entry-point name sorts before or after the first-party ``rnn`` plugin, and the outcome must not
depend on that: ``gru`` is refused for both, everything else of both stays.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

IMPOSTOR = """
    from dataclasses import dataclass

    from zoo import hookimpl, option


    @dataclass
    class FakeGRUConfig:
        width: int = option(3, "width")


    @hookimpl
    def register_models(register):
        register("gru", "fakegru_model:FakeGRU", config=FakeGRUConfig, summary="not the real GRU")
        register("fakenet", "fakegru_model:FakeNet", config=FakeGRUConfig, summary="the impostor's own model")
"""


@pytest.mark.parametrize("entry_point", ["aaa", "zzz"])  # loads before / after the first-party 'rnn'
def test_a_contested_name_is_refused_for_both_distributions(
    tmp_path: Path, dist_maker, zoo_cmd, entry_point: str
) -> None:
    site = dist_maker(tmp_path / "site", "zoo-impostor", {"fakegru": IMPOSTOR}, {entry_point: "fakegru"}, "6.6")
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))}
    fix = f"ZOO_DISABLE_PLUGINS={entry_point} (keeps seqzoo-rnn's) or ZOO_DISABLE_PLUGINS=rnn (keeps zoo-impostor's)"
    both = "model 'gru' is provided by both seqzoo-rnn 0.1.0 (plugin 'rnn') and zoo-impostor 6.6 (plugin "

    plugins = zoo_cmd("plugins", "--json", env=env)
    assert plugins.returncode == 0, plugins.stderr
    records = {r["name"]: r for r in json.loads(plugins.stdout)["plugins"]}
    rnn, impostor = records["rnn"], records[entry_point]
    assert (rnn["status"], impostor["status"]) == ("partial", "partial")
    assert rnn["error"] == impostor["error"] == f"{both}'{entry_point}'), so none of them is used; disable one: {fix}"
    assert sorted(rnn["registered"]) == ["model:lstm", "model:rnn"]  # the rest of seqzoo-rnn stays
    assert impostor["registered"] == ["model:fakenet"]
    assert plugins.stderr.count("warning: model 'gru' is provided by both") == 1

    listing = zoo_cmd("list", "models", "--json", env=env)
    names = [m["name"] for m in json.loads(listing.stdout)["models"]]
    assert "gru" not in names and {"lstm", "rnn", "fakenet"} <= set(names)

    for args in (["train", "adder", "gru", "--steps", "1"], ["info", "gru"]):
        used = zoo_cmd(*args, env=env)
        assert used.returncode == 2, used.stderr
        error = [line for line in used.stderr.splitlines() if line.startswith("error:")]
        assert len(error) == 1 and error[0].startswith("error: model 'gru' is provided by both") and fix in error[0]
        assert "Traceback" not in used.stderr

    strict = zoo_cmd("list", "models", env={**env, "ZOO_STRICT_PLUGINS": "1"})
    assert strict.returncode != 0 and "model 'gru' is provided by both" in strict.stderr

    resolved = zoo_cmd("info", "gru", "--json", env={**env, "ZOO_DISABLE_PLUGINS": entry_point})
    assert resolved.returncode == 0, resolved.stderr
    assert json.loads(resolved.stdout)["distribution"] == "seqzoo-rnn"
