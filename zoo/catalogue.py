"""The pretrained catalogue: ``registry.toml`` files parsed with tomllib and validated.

Sources, in order: the catalogue shipped with seqzoo, entries contributed by plugins
(``register_pretrained``), files in ``ZOO_REGISTRY`` (``os.pathsep``-separated) and files given
with ``zoo --registry``. The schema is documented in docs/registry.md.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zoo.errors import ZooError, did_you_mean
from zoo.fileio import read_document
from zoo.layout import CONFIG, WEIGHTS
from zoo.registry import Provider

SCHEMA_VERSION = 1
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_HF = re.compile(r"^hf://(?P<repo>[A-Za-z0-9][\w.-]*/[\w.-]+)@(?P<rev>[0-9a-f]{40})$")
_PKG = re.compile(r"^pkg://(?P<package>[A-Za-z_][\w.]*)/(?P<path>[^\s]+)$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_REQUIRED = ("task", "model", "source", "summary", "dataset", "license")
_OPTIONAL_TEXT = ("command",)
_KEYS = (*_REQUIRED, "files", "metrics", "tolerance", *_OPTIONAL_TEXT)


@dataclass(frozen=True)
class Pretrained:
    """One catalogue entry: a trained model users can fetch by name."""

    name: str
    task: str
    model: str
    source: str
    summary: str
    dataset: str
    license: str
    files: dict[str, str]
    metrics: dict[str, float]
    origin: str
    tolerance: float = 0.0
    provider: Provider | None = None
    command: str = ""

    @property
    def is_hub(self) -> bool:
        return self.source.startswith("hf://")

    def hub_location(self) -> tuple[str, str]:
        """(repo_id, revision) of a Hub-hosted entry."""
        m = _HF.match(self.source)
        assert m, self.source
        return m["repo"], m["rev"]

    def package_location(self) -> tuple[str, str]:
        """(package, relative path) of an entry bundled in an installed package."""
        m = _PKG.match(self.source)
        assert m, self.source
        return m["package"], m["path"]

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "pretrained",
            "name": self.name,
            "summary": self.summary,
            "plugin": self.provider.plugin if self.provider else None,
            "distribution": self.provider.distribution if self.provider else None,
            "version": self.provider.version if self.provider else None,
            "origin": self.origin,
            "task": self.task,
            "model": self.model,
            "source": self.source,
            "dataset": self.dataset,
            "license": self.license,
            "metrics": dict(self.metrics),
            "tolerance": self.tolerance,
            "files": dict(self.files),
            "command": self.command,
        }


def _fail(where: str, key: str, message: str) -> ZooError:
    return ZooError(f"{where}: {key}: {message}")


def validate_entry(
    name: str, raw: Mapping[str, Any], where: str, provider: Provider | None = None
) -> Pretrained:
    """Check one entry against the schema; errors name the file (``where``) and the key."""
    key = f"pretrained.{name}"
    if not _NAME.match(name):
        raise _fail(where, key, "names use letters, digits, '.', '_' and '-'")
    if not isinstance(raw, Mapping):
        raise _fail(where, key, "must be a table")
    for k in raw:
        if k not in _KEYS:
            raise _fail(where, f"{key}.{k}", f"unknown key{did_you_mean(k, _KEYS)}; expected {', '.join(_KEYS)}")
    for req in _REQUIRED:
        if req not in raw:
            raise _fail(where, f"{key}.{req}", "missing")
        if not isinstance(raw[req], str) or not raw[req].strip():
            raise _fail(where, f"{key}.{req}", "must be a non-empty string")
    for opt in _OPTIONAL_TEXT:
        if not isinstance(raw.get(opt, ""), str):
            raise _fail(where, f"{key}.{opt}", "must be a string")
    source = raw["source"]
    pkg = _PKG.match(source)
    if pkg and not _inside(pkg["path"]):
        raise _fail(where, f"{key}.source", f"{source!r}: the path after the package must stay inside it "
                                            "(relative, no '..')")
    if not (_HF.match(source) or pkg) or ".." in source.split("/"):
        raise _fail(
            where, f"{key}.source",
            f"{source!r} must be hf://OWNER/NAME@<40-hex commit> or pkg://PACKAGE/PATH",
        )
    files = raw.get("files")
    if not isinstance(files, Mapping) or not files:
        raise _fail(where, f"{key}.files", "must map each file name to its sha256")
    for fname, digest in files.items():
        if fname.startswith("/") or ".." in fname.split("/"):
            raise _fail(where, f"{key}.files.{fname}", "must be a path inside the model folder")
        if not isinstance(digest, str) or not _SHA256.match(digest):
            raise _fail(where, f"{key}.files.{fname}", "must be a 64-hex sha256")
    if WEIGHTS not in files or CONFIG not in files:
        raise _fail(where, f"{key}.files", f"must list {WEIGHTS} and {CONFIG}")
    metrics = raw.get("metrics")
    if not isinstance(metrics, Mapping) or not metrics:
        raise _fail(where, f"{key}.metrics", "must map metric names to numbers")
    for mname, value in metrics.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _fail(where, f"{key}.metrics.{mname}", "must be a number")
    tolerance = raw.get("tolerance", 0.0)
    if isinstance(tolerance, bool) or not isinstance(tolerance, int | float) or tolerance < 0:
        raise _fail(where, f"{key}.tolerance", "must be a non-negative number")
    return Pretrained(
        name=name,
        task=raw["task"],
        model=raw["model"],
        source=source,
        summary=raw["summary"],
        dataset=raw["dataset"],
        license=raw["license"],
        files=dict(files),
        metrics={k: float(v) for k, v in metrics.items()},
        origin=where,
        tolerance=float(tolerance),
        provider=provider,
        command=raw.get("command", ""),
    )


def _inside(relative: str) -> bool:
    """A path that, joined to a package folder, cannot leave it: relative, no ``..``, no drive."""
    parts = relative.replace("\\", "/").split("/")
    return not relative.startswith(("/", "\\")) and ".." not in parts and ":" not in parts[0]


def read_catalogue(path: str | os.PathLike[str], provider: Provider | None = None) -> list[Pretrained]:
    """Parse and validate one registry file (``provider``: who ships it, if a package does)."""
    path = Path(path)
    where = str(path)
    data = read_document(path, missing=f"{where}: registry file not found", parse=tomllib.loads, kind="TOML")
    version = data.get("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        raise _fail(where, "schema_version", f"expected {SCHEMA_VERSION}, got {version!r}")
    unknown = set(data) - {"schema_version", "pretrained"}
    if unknown:
        raise _fail(where, sorted(unknown)[0], "unknown top-level key (expected schema_version, pretrained)")
    entries = data.get("pretrained", {})
    if not isinstance(entries, Mapping):
        raise _fail(where, "pretrained", "must be a table of entries")
    return [validate_entry(name, raw, where, provider) for name, raw in entries.items()]


def builtin_catalogue() -> Path | None:
    """The catalogue shipped with seqzoo: inside the wheel, or at the root of a source checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "registry.toml", here.parent / "registry.toml"):
        if candidate.is_file():
            return candidate
    return None


def user_catalogues(extra: Iterable[str] = ()) -> list[Path]:
    """Registry files from ``ZOO_REGISTRY`` and ``--registry``, in that order."""
    paths = [p for p in os.environ.get("ZOO_REGISTRY", "").split(os.pathsep) if p]
    return [Path(p) for p in [*paths, *extra]]


def merge(groups: Iterable[Iterable[Pretrained]]) -> dict[str, Pretrained]:
    """Combine entries; the same name from two places is an error naming both."""
    out: dict[str, Pretrained] = {}
    for group in groups:
        for entry in group:
            if entry.name in out:
                raise ZooError(
                    f"pretrained '{entry.name}' is defined twice: in {out[entry.name].origin} and in {entry.origin}"
                )
            out[entry.name] = entry
    return out
