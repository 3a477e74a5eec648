"""Package metadata of the core and of every first-party plugin, and what the core's sdist holds."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECTS = sorted([ROOT, *(p.parent for p in ROOT.glob("plugins/*/pyproject.toml")),
                   *(p.parent for p in ROOT.glob("examples/*/pyproject.toml"))])


@pytest.mark.parametrize("folder", PROJECTS, ids=lambda p: p.name)
def test_every_distribution_has_a_readme_urls_and_classifiers(folder: Path) -> None:
    project = tomllib.loads((folder / "pyproject.toml").read_text())["project"]
    assert project.get("readme") and (folder / project["readme"]).is_file()
    assert len((folder / project["readme"]).read_text()) > 200  # a README, not a stub
    urls = project.get("urls", {})
    assert urls.get("Homepage", "").startswith("https://")
    classifiers = project.get("classifiers", [])
    assert "License :: OSI Approved :: MIT License" in classifiers and project["license"] == {"text": "MIT"}
    assert any(c.startswith("Programming Language :: Python :: 3") for c in classifiers)
    assert project["description"] and project["requires-python"] == ">=3.11"


def test_the_core_sdist_holds_the_core_only(tmp_path: Path) -> None:
    pytest.importorskip("hatchling")
    built = subprocess.run([sys.executable, "-m", "hatchling", "build", "-t", "sdist", "-d", str(tmp_path)],
                           cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert built.returncode == 0, built.stderr
    (sdist,) = tmp_path.glob("seqzoo-*.tar.gz")
    with tarfile.open(sdist) as tar:
        tops = {Path(name).parts[1] for name in tar.getnames() if len(Path(name).parts) > 1}
    assert tops <= {"zoo", "registry.toml", "README.md", "pyproject.toml", "PKG-INFO", ".gitignore"}, tops
    assert {"zoo", "registry.toml"} <= tops
    assert sdist.stat().st_size < 200_000  # it was 2.5 MB with every plugin's weights
