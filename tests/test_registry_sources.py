"""Registry sources: ``pkg://`` paths stay inside their package; ``zoo --registry`` reaches every command."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

ADDER = Path(__file__).resolve().parent.parent / "plugins" / "adder" / "zoo_adder" / "pretrained" / "adder-gru"


def entry(name: str, source: str, folder: Path) -> str:
    files = {n: hashlib.sha256((folder / n).read_bytes()).hexdigest() for n in ("model.safetensors", "config.json")}
    return (f'[pretrained.{name}]\ntask = "adder"\nmodel = "gru"\nsource = "{source}"\nsummary = "s"\n'
            f'dataset = "d"\nlicense = "MIT"\nmetrics = {{ exact_match = 1.0 }}\n'
            f'files = {{ "model.safetensors" = "{files["model.safetensors"]}", "config.json" = "{files["config.json"]}" }}\n')


@pytest.fixture
def adder() -> Path:
    if not ADDER.is_dir():
        pytest.skip("the adder plugin's bundled model is not in this checkout")
    return ADDER


def one_error(result) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize("path", ["/tmp/elsewhere", "pretrained/../../../tmp/elsewhere", "pretrained/..", "C:/x"])
def test_a_pkg_source_outside_its_package_is_refused(tmp_path: Path, zoo_cmd, adder: Path, path: str) -> None:
    registry = tmp_path / "r.toml"
    registry.write_text(entry("escape", f"pkg://zoo_adder/{path}", adder))
    line = one_error(zoo_cmd("--registry", str(registry), "info", "escape"))
    assert line.startswith(f"error: {registry}: pretrained.escape.source: 'pkg://zoo_adder/{path}'")


def test_a_pkg_source_that_leaves_its_package_through_a_symlink_is_refused(
    tmp_path: Path, zoo_cmd, adder: Path
) -> None:
    outside = Path(shutil.copytree(adder, tmp_path / "outside"))
    package = tmp_path / "site" / "escpkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "weights").symlink_to(outside, target_is_directory=True)
    registry = tmp_path / "r.toml"
    registry.write_text(entry("linked", "pkg://escpkg/weights", outside))
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path / "site"), os.environ.get("PYTHONPATH")]))}
    line = one_error(zoo_cmd("--registry", str(registry), "run", "linked", "1+1", env=env))
    assert line == (f"error: pretrained 'linked': pkg://escpkg/weights leads outside the package 'escpkg' "
                    f"({outside.resolve()}); refused")


def test_run_honours_the_registry_option(tmp_path: Path, zoo_cmd, adder: Path) -> None:
    registry = tmp_path / "mine.toml"
    registry.write_text(entry("my-adder", "pkg://zoo_adder/pretrained/adder-gru", adder))
    result = zoo_cmd("--registry", str(registry), "run", "my-adder", "81+113")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "194"
