"""The core's modules import each other without cycles, and plugins use only what ``zoo`` exports.

Both are read from the source with ``ast``, so every import counts, including the ones inside
functions that run late: a cycle hidden behind a lazy import is still two modules that cannot be
understood, tested or moved one without the other.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import zoo

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "zoo"


def module_name(file: Path) -> str:
    parts = file.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def core_modules() -> dict[str, Path]:
    return {module_name(f): f for f in sorted(CORE.rglob("*.py"))}


def _type_checking_only(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return True
    return False


def imports(file: Path, package: str, known: set[str] | None = None) -> Iterator[tuple[str, int]]:
    """(module, line) of every import in ``file``, resolved to the module actually imported.

    ``from a import b`` counts as importing ``a.b`` when that is a module, else ``a``. Imports
    under ``if TYPE_CHECKING:`` are left out: they never run.
    """
    tree = ast.parse(file.read_text(encoding="utf-8"))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    for node in ast.walk(tree):
        if _type_checking_only(node, parents):
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                here = package.split(".")
                base = ".".join(here[: len(here) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                yield (full if known is not None and full in known else base), node.lineno


def core_graph() -> dict[str, set[str]]:
    modules = core_modules()
    known = set(modules)
    graph: dict[str, set[str]] = {}
    for name, file in modules.items():
        package = name if file.name == "__init__.py" else name.rpartition(".")[0]
        graph[name] = {m for m, _ in imports(file, package, known) if m in known and m != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first == last), or None."""
    colour: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        colour[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if colour.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in colour and (found := visit(nxt)):
                return found
        stack.pop()
        colour[node] = 2
        return None

    for node in sorted(graph):
        if node not in colour and (found := visit(node)):
            return found
    return None


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_the_graph_sees_lazy_imports() -> None:
    graph = core_graph()
    assert "zoo.card" in graph["zoo.artifacts"]  # imported inside save_model_dir
    assert "zoo.layout" in graph["zoo.card"]


def test_core_modules_import_each_other_without_cycles() -> None:
    cycle = find_cycle(core_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_core_never_imports_the_cli() -> None:
    graph = core_graph()
    offenders = [m for m, deps in graph.items() if not m.startswith("zoo.cli") and m != "zoo.__main__"
                 and any(d == "zoo.cli" or d.startswith("zoo.cli.") for d in deps)]
    assert offenders == []


# -- plugins and examples import only the public API ------------------------------------------------

ALLOWED_IN_TESTS = {"zoo.testing"}


def first_party_files() -> Iterator[tuple[Path, bool]]:
    """(file, is_test) of every Python file of the first-party plugins and the examples."""
    for top in (ROOT / "plugins", ROOT / "examples"):
        for file in sorted(top.rglob("*.py")):
            parts = file.relative_to(top).parts
            if any(p.startswith(".") or p in ("build", "__pycache__") for p in parts):
                continue
            yield file, "tests" in parts or file.name.startswith("test_") or file.name == "conftest.py"


def private_imports(file: Path, is_test: bool) -> list[str]:
    allowed = {"zoo"} | (ALLOWED_IN_TESTS if is_test else set())
    where = file.relative_to(ROOT) if file.is_relative_to(ROOT) else file
    found = []
    tree = ast.parse(file.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] if node.module != "zoo" else [f"zoo.{a.name}" for a in node.names
                                                                 if a.name not in zoo.__all__]
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "zoo":
            names = [f"zoo.{node.attr}"] if node.attr not in zoo.__all__ and node.attr != "testing" else []
        for name in names:
            if (name == "zoo" or name.startswith("zoo.")) and name not in allowed:
                found.append(f"{where}:{node.lineno}: {name}")
    return found


def test_the_scan_finds_private_imports(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import zoo\nfrom zoo.state import detach\nfrom zoo import plugins, Task\nimport zoo.testing\n"
                   "x: zoo.engine.TrainResult = zoo.load('m')\n")
    found = sorted(line.split(": ", 1)[1] for line in private_imports(bad, is_test=False))
    assert found == ["zoo.engine", "zoo.plugins", "zoo.state", "zoo.testing"]
    assert sorted(line.split(": ", 1)[1] for line in private_imports(bad, is_test=True)) == [
        "zoo.engine", "zoo.plugins", "zoo.state"]


def test_plugins_and_examples_import_only_what_zoo_exports() -> None:
    files = list(first_party_files())
    assert any("zoo_charlm" in str(f) for f, _ in files) and any("examples" in str(f) for f, _ in files)
    offenders = [line for file, is_test in files for line in private_imports(file, is_test)]
    assert offenders == [], "\n".join(offenders)
