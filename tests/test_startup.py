"""The installed `zoo` script in real subprocesses: start-up without torch, broken plugins, errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

FIRST_PARTY = {"rnn", "charlm", "count", "adder", "seq2seq"}

# Runs the CLI in-process, then reports what got imported (stdout stays the command's own).
PROBE = """
import json, sys
from zoo.cli import main
code = 0
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
from zoo.plugins import current
report = {
    "code": code,
    "torch": sorted(m for m in sys.modules if m == "torch" or m.startswith("torch.")),
    "heavy": [m for m in ("numpy", "matplotlib", "huggingface_hub", "safetensors") if m in sys.modules],
    "plugins": {r.name: r.status for r in current().plugins},
}
print("PROBE " + json.dumps(report), file=sys.stderr)
"""


@pytest.mark.parametrize(
    "args",
    [["--help"], ["list"], ["list", "--json"], ["plugins"], ["plugins", "--json"], ["info", "lstm"]],
    ids=" ".join,
)
def test_listing_commands_never_import_torch(args: list[str]) -> None:
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=60)
    report = json.loads(proc.stderr.rsplit("PROBE ", 1)[1])
    assert report["code"] in (0, None), proc.stderr
    assert report["torch"] == [], f"zoo {' '.join(args)} imported {report['torch'][:5]}"
    assert report["heavy"] == []  # nor the other slow imports: they belong inside the commands that use them
    # ... with the real installed plugins loaded, not an empty zoo
    assert {name: report["plugins"].get(name) for name in FIRST_PARTY} == dict.fromkeys(FIRST_PARTY, "loaded")


def test_the_installed_script(zoo_cmd) -> None:
    version = zoo_cmd("--version")
    assert (version.returncode, version.stdout.split()[0]) == (0, "seqzoo,")
    listing = zoo_cmd("list", "--json")
    assert listing.returncode == 0, listing.stderr
    data = json.loads(listing.stdout)
    assert list(data) == ["schema_version", "tasks", "models", "pretrained"] and data["schema_version"] == 1
    assert {"charlm", "seq2seq"} <= {t["name"] for t in data["tasks"]}
    assert {"rnn", "lstm", "gru"} <= {m["name"] for m in data["models"]}
    typo = zoo_cmd("info", "charml")
    assert (typo.returncode, typo.stdout, typo.stderr) == (2, "", "error: unknown task 'charml' (did you mean 'charlm'?)\n")
    unknown = zoo_cmd("train-all")
    assert unknown.returncode == 2 and unknown.stderr.startswith("error: unknown command 'train-all'")


def test_a_broken_installed_plugin_is_reported_and_the_zoo_still_works(zoo_cmd, fake_site: Path) -> None:
    env = {"PYTHONPATH": str(fake_site)}
    warning = (
        "warning: plugin 'broken' failed to load: "
        "ModuleNotFoundError: No module named 'no_such_dependency_for_zoo_tests'\n"
    )
    listing = zoo_cmd("list", env=env)
    assert (listing.returncode, listing.stderr) == (0, warning)
    assert any(line.split()[:1] == ["widget"] and "[zoo-widget]" in line for line in listing.stdout.splitlines())
    as_json = zoo_cmd("list", "tasks", "--json", env=env)
    assert "widget" in {t["name"] for t in json.loads(as_json.stdout)["tasks"]}

    plugins = zoo_cmd("plugins", env=env)
    assert plugins.returncode == 0
    lines = plugins.stdout.splitlines()
    at = lines.index("broken  (zoo-broken 0.0.1)  [failed]")
    assert lines[at + 1] == "  error: ModuleNotFoundError: No module named 'no_such_dependency_for_zoo_tests'"
    assert "widget  (zoo-widget 1.2.3)  [loaded]" in lines

    strict = zoo_cmd("list", env={**env, "ZOO_STRICT_PLUGINS": "1"})
    assert strict.returncode != 0 and "ModuleNotFoundError" in strict.stderr and "Traceback" in strict.stderr
    blocked = zoo_cmd("plugins", "--json", env={**env, "ZOO_DISABLE_PLUGINS": "zoo-broken"})
    assert blocked.stderr == ""
    status = {p["name"]: p["status"] for p in json.loads(blocked.stdout)["plugins"]}
    assert (status["broken"], status["widget"]) == ("blocked", "loaded")
