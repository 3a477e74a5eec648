"""Print ``name==floor`` for every dependency of the core and the first-party plugins.

ci/min_versions.sh installs exactly these, to prove that the declared lower bounds are true.
``--extra NAME`` adds an optional-dependency group (the suite's plot tests need ``plot``).
torch is left out (CI pins it to one build first) and so are the project's own distributions
(installed from the checkout). A dependency without a ``>=`` floor is an error: it would have no
version to prove.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

SKIP = {"torch"}
_REQ = re.compile(r"^\s*([A-Za-z0-9_.\[\]-]+)\s*>=\s*([0-9][^,;\s]*)")


def floors(pyprojects: list[Path], extras: list[str]) -> dict[str, str]:
    """The highest of the floors declared for each distribution across the given projects."""
    own = {tomllib.loads(p.read_text())["project"]["name"] for p in pyprojects}
    out: dict[str, tuple[tuple[int, ...], str]] = {}
    for path in pyprojects:
        project = tomllib.loads(path.read_text())["project"]
        optional = project.get("optional-dependencies", {})
        for req in [*project.get("dependencies", []), *(r for e in extras for r in optional.get(e, []))]:
            match = _REQ.match(req)
            if not match:
                raise SystemExit(f"{path}: dependency {req!r} has no '>=' floor")
            name, version = match.group(1).split("[")[0].lower().replace("_", "-"), match.group(2)
            if name in SKIP or name in own:
                continue
            key = tuple(int(x) for x in re.findall(r"\d+", version))
            if name not in out or key > out[name][0]:
                out[name] = (key, version)
    return {name: version for name, (_, version) in sorted(out.items())}


if __name__ == "__main__":
    args = sys.argv[1:]
    extras = [args[i + 1] for i, a in enumerate(args) if a == "--extra"]
    files = [Path(a) for i, a in enumerate(args) if a != "--extra" and (i == 0 or args[i - 1] != "--extra")]
    print(" ".join(f"{name}=={version}" for name, version in floors(files, extras).items()))
