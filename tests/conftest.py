"""Shared fixtures for the core's tests: a clean plugin environment and fake installed plugins."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from zoo.plugins import use

ZOO_VARS = ("ZOO_LOAD_PLUGINS", "ZOO_DISABLE_PLUGINS", "ZOO_STRICT_PLUGINS", "ZOO_REGISTRY")
ZOO_SCRIPT = Path(sys.executable).with_name("zoo")


@pytest.fixture(autouse=True)
def clean_zoo(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No ZOO_* variables from the caller's shell, and a fresh process-wide zoo after each test."""
    for var in ZOO_VARS:
        monkeypatch.delenv(var, raising=False)
    yield
    use(None)


def make_dist(
    root: Path,
    dist: str,
    modules: Mapping[str, str],
    entry_points: Mapping[str, str],
    version: str = "1.2.3",
) -> Path:
    """Lay out an installed distribution by hand: modules plus ``*.dist-info`` with METADATA and
    ``entry_points.txt`` (group ``zoo``). Put ``root`` on sys.path or PYTHONPATH to install it."""
    root.mkdir(parents=True, exist_ok=True)
    for name, source in modules.items():
        (root / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    info = root / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n", encoding="utf-8")
    eps = "".join(f"{name} = {value}\n" for name, value in entry_points.items())
    (info / "entry_points.txt").write_text(f"[zoo]\n{eps}", encoding="utf-8")
    return root


WIDGET_PLUGIN = """
    from dataclasses import dataclass

    from zoo import hookimpl, option


    @dataclass
    class WidgetConfig:
        size: int = option(3, "widget size")


    @hookimpl
    def register_tasks(register):
        register("widget", "fakewidget_task:WidgetTask", config=WidgetConfig, summary="a widget task")
"""

BROKEN_PLUGIN = """
    import no_such_dependency_for_zoo_tests  # the plugin's own import fails
"""


@pytest.fixture
def fake_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder holding two hand-made installed plugins: ``widget`` (distribution ``zoo-widget``,
    registers task 'widget') and ``broken`` (distribution ``zoo-broken``, fails to import).

    The folder is not on sys.path yet: tests add it (``monkeypatch.syspath_prepend``) or pass it
    as PYTHONPATH to a subprocess.
    """
    site = tmp_path / "site"
    make_dist(site, "zoo-widget", {"fakewidget": WIDGET_PLUGIN}, {"widget": "fakewidget"}, version="1.2.3")
    make_dist(site, "zoo-broken", {"fakebroken": BROKEN_PLUGIN}, {"broken": "fakebroken"}, version="0.0.1")
    for module in ("fakewidget", "fakebroken"):
        monkeypatch.delitem(sys.modules, module, raising=False)
    return site


def run_zoo(*args: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed ``zoo`` script in a subprocess (the real console entry point)."""
    full_env = {k: v for k, v in os.environ.items() if k not in ZOO_VARS}
    full_env.update(env or {})
    return subprocess.run([str(ZOO_SCRIPT), *args], capture_output=True, text=True, env=full_env, timeout=60)


@pytest.fixture
def zoo_cmd() -> object:
    """``zoo_cmd("list", "--json", env={...})`` runs the installed ``zoo`` script."""
    return run_zoo


@pytest.fixture
def dist_maker() -> object:
    """``dist_maker(root, dist, modules, entry_points, version)``: lay out one more fake plugin."""
    return make_dist
