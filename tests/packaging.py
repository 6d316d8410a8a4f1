"""The package's source as a clone would have it, for tests that build the wheel or sdist.

Building in the repository itself reuses setuptools' ``build/`` directory, which keeps modules
deleted since (a squashed migration came back in the wheel that way). A copy of the files git
would check out — tracked, plus new ones not ignored — has no such leftovers.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def source_tree(into: Path) -> Path:
    """Copy the repository's files (not its build leftovers) to ``into``/src; returns it."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, check=True, capture_output=True).stdout.decode()
    src = into / "src"
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # a file deleted in the working tree is still listed as cached
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, src / name)
    return src
