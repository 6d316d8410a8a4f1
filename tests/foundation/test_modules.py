"""docs/modules.md maps every module of videogen/: a module added, renamed or removed without
its row there fails here, so the map a newcomer reads stays the tree."""

from __future__ import annotations

import re
from pathlib import Path

import videogen

ROOT = Path(videogen.__file__).parent
MAP = ROOT.parent / "docs" / "modules.md"


def mapped() -> set[str]:
    """The first cell of each table row: `name.py`, `package/` or `package/module.py`."""
    return set(re.findall(r"^\| `([\w/.]+)` \|", MAP.read_text(encoding="utf-8"), re.MULTILINE))


def in_tree(names: set[str]) -> set[str]:
    """The modules and packages of videogen/ that a row must name: a package named as a whole
    (``client/``) covers its modules; otherwise each of its modules needs a row."""
    found = set()
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).parts
        if parts[-1] == "__init__.py" and len(parts) == 1:
            continue
        covering = {f"{'/'.join(parts[:depth])}/" for depth in range(1, len(parts))}
        if covering & names:
            continue
        if parts[-1] == "__init__.py":
            continue  # a package's own __init__ needs no row of its own
        found.add("/".join(parts))
    return found


def test_every_module_has_a_row():
    names = mapped()
    assert in_tree(names) - names == set()


def test_every_row_names_a_module_that_exists():
    missing = {name for name in mapped() if not (ROOT / name.rstrip("/")).exists()}
    assert missing == set()
