"""The architecture as tests: stages in chain order, no loops, Streamlit only in the UI.

Layers, lowest first: the shared base (top-level modules and ``models/``, and each stage's
import-free ``constants`` module), then the stage packages in chain order, then the faces
(``cli/``, ``ui/``). A module may import its own layer
and lower ones; the one exception is declared in :mod:`casestudy.seams` (loaded by name there).
"""

from __future__ import annotations

import ast
from pathlib import Path

import casestudy

PACKAGE = Path(casestudy.__file__).resolve().parent
STAGES = ("interviews", "codebook", "coding", "reconstruction", "masking", "panel", "reports", "exchange", "demo")
FACES = ("cli", "ui")


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imports(path: Path, top_level_only: bool = False) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else ast.walk(tree)
    names = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}
    return names


def _rank(module: str) -> int:
    """0 = base, 1.. = the stages in order, then the faces."""
    parts = module.split(".")
    if parts[-1] == "constants":
        return 0  # a stage's import-free vocabulary (see test_constants_are_leaves)
    if parts[-1] == "__main__":
        return 1 + len(STAGES)
    if len(parts) < 2:
        return 0
    if parts[1] in STAGES:
        return 1 + STAGES.index(parts[1])
    if parts[1] in FACES:
        return 1 + len(STAGES)
    return 0


def test_constants_are_leaves():
    """``<stage>/constants.py`` holds vocabulary the models and the CLI need before any stage
    module loads; it imports nothing of Casestudy (the standard library at most), so any layer
    may read it."""
    for name, path in _modules().items():
        if name.endswith(".constants"):
            assert not [i for i in _imports(path) if i.split(".")[0] == "casestudy"], name


def test_streamlit_only_in_the_ui():
    offenders = [name for name, path in _modules().items()
                 if not name.startswith("casestudy.ui") and any(i.split(".")[0] == "streamlit" for i in _imports(path))]
    assert offenders == []


def test_every_import_goes_to_the_same_or_an_earlier_layer():
    modules = _modules()
    wrong = []
    for name, path in modules.items():
        for imported in _imports(path):
            if imported in modules and _rank(imported) > _rank(name):
                wrong.append(f"{name} -> {imported}")
    assert wrong == []


def test_no_import_loops():
    modules = _modules()
    graph = {name: {i for i in _imports(path, top_level_only=True) if i in modules and i != name} for name, path in modules.items()}
    # a package imports its submodules' parents implicitly; drop edges to one's own ancestors
    graph = {name: {i for i in deps if not name.startswith(i + ".")} for name, deps in graph.items()}
    state: dict[str, int] = {}
    loops = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                loops.append(" -> ".join(trail[trail.index(nxt):] + [nxt]) if nxt in trail else f"{node} -> {nxt}")
            elif nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert loops == []


def test_the_one_seam_is_declared():
    from casestudy import seams

    holders = seams.code_references()
    assert list(holders) == ["codings", "relations"]
    assert all(module in _modules() for module in seams.CODE_REFERENCE_HOLDERS)
    library = {name: path for name, path in _modules().items() if _rank(name) <= len(STAGES)}
    # (``importlib.metadata`` only reads installed packages' versions: the sentence rules check spaCy's.)
    importlib_users = [name for name, path in library.items()
                       if "importlib" in {i.split(".")[0] for i in _imports(path) if i != "importlib.metadata"}]
    # The faces list their own command and page modules by scanning their package; the library
    # loads nothing by name except through the seam.
    assert importlib_users == ["casestudy.seams"], "library modules import each other plainly; only the seam loads by name"
