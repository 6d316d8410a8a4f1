"""The import graph inside videogen/: no cycles, and the Django-free parts stay Django-free.

Read from the source with ``ast`` (nothing is imported), counting every ``import`` anywhere in a
file — a function-level import is still an arrow, only a deferred one. Imports under
``if TYPE_CHECKING:`` are left out: they never run. The design's arrows:
admin/commands/tasks → lifecycle/polling/archive/webhooks → client/catalog/media/conf.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import videogen

ROOT = Path(videogen.__file__).parent

#: Modules that must not import Django or the Django-facing rest of the app, and what of the
#: app each may import (prefixes). The client: plain arguments, no Django. The sandbox: must
#: start on its own (catalog, media and the client's schemas only).
DJANGO_FREE = {
    "videogen.client": ("videogen.client", "videogen.exceptions", "videogen.version"),
    "videogen.sandbox": ("videogen.sandbox", "videogen.catalog", "videogen.media",
                         "videogen.client.schemas", "videogen.exceptions", "videogen.version"),
    "videogen.catalog": ("videogen.catalog", "videogen.media", "videogen.client.schemas",
                         "videogen.exceptions"),
    "videogen.media": ("videogen.media",),
    "videogen.exceptions": ("videogen.exceptions",),
    "videogen.version": (),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(path): path for path in ROOT.rglob("*.py")
           if "migrations" not in path.parts}


def owning_module(dotted: str) -> str:
    """The module of the app ``dotted`` names (a name inside a module counts as the module)."""
    while dotted and dotted not in MODULES:
        dotted = dotted.rpartition(".")[0]
    return dotted


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in ast.iter_child_nodes(tree):
        if _is_type_checking(node):
            # Only the else branch runs.
            for child in node.orelse:
                yield from _imports(ast.Module(body=[child], type_ignores=[]))
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        yield from _imports(node)


def imported_names(name: str) -> set[str]:
    """Every dotted name ``name``'s file imports, relative imports resolved."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    names: set[str] = set()
    for node in _imports(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
            base = ".".join([*anchor, base] if base else anchor)
        # ``from videogen import lifecycle`` imports the module videogen.lifecycle; only a name
        # that is no module (``from videogen import __version__``) is read from ``base``.
        for alias in node.names:
            names.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    return names


def app_imports(name: str) -> set[str]:
    """The app's modules ``name`` imports: the module each imported name lives in. (Python
    also runs the parent packages' ``__init__`` first; those are not counted as arrows of
    ``name``: ``videogen/__init__`` imports nothing at its top level.)"""
    return {owning_module(dotted) for dotted in imported_names(name)
            if dotted == "videogen" or dotted.startswith("videogen.")} - {name}


def graph() -> dict[str, set[str]]:
    return {name: app_imports(name) for name in MODULES}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a path ``[a, b, ..., a]``, or None."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == "open":
                return [*stack[stack.index(target):], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_finder_sees_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_graph_sees_function_level_imports():
    # videogen/api.py imports polling inside refresh(): still an arrow.
    assert "videogen.polling" in app_imports("videogen.api")


def test_videogen_has_no_import_cycle():
    cycle = find_cycle(graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_django_free_modules_import_neither_django_nor_the_app():
    problems = []
    for name in MODULES:
        allowed = next((allowed for prefix, allowed in DJANGO_FREE.items()
                        if name == prefix or name.startswith(prefix + ".")), None)
        if allowed is None:
            continue
        problems += [f"{name} imports {dotted}" for dotted in sorted(imported_names(name))
                     if not _may_import(dotted, allowed)]
    assert problems == []


#: What the fast paths may import of the app: never the domain modules that call them (polling,
#: archive, lifecycle...), so the arrows point one way.
FASTPATH_MAY_IMPORT = ("videogen.fastpath", "videogen.models", "videogen.client",
                       "videogen.exceptions", "videogen.jsondata")


def test_the_fast_paths_import_no_domain_module():
    problems = [f"{name} imports {target}"
                for name in MODULES if name.startswith("videogen.fastpath")
                for target in sorted(app_imports(name))
                if not any(target == ok or target.startswith(ok + ".")
                           for ok in FASTPATH_MAY_IMPORT)]
    assert problems == []


def _may_import(dotted: str, allowed: tuple[str, ...]) -> bool:
    top = dotted.partition(".")[0]
    if top in ("django", "django_q", "asgiref"):
        return False
    target = owning_module(dotted)
    return top != "videogen" or any(target == ok or target.startswith(ok + ".") for ok in allowed)


def test_every_task_reaches_the_broker_through_one_seam():
    """Only videogen.schedules queues tasks (django-q2's ``async_task``), and its callers say
    ``schedules.enqueue(...)`` instead of importing the name: a test (or a host site) that
    replaces ``videogen.schedules.enqueue`` replaces it for all of them. (A retry due later is
    a one-off django-q2 schedule, written by the webhook delivery: the scheduler's, not the
    queue's.)"""
    brokers, bound = [], []
    for name, path in MODULES.items():
        for node in _imports(ast.parse(path.read_text(), str(path))):
            module = getattr(node, "module", None) or ""
            names = {alias.name for alias in node.names}
            if name != "videogen.schedules" and "async_task" in names:
                brokers.append(name)
            if module.endswith("schedules") and "enqueue" in names:
                bound.append(name)
    assert (brokers, bound) == ([], [])
