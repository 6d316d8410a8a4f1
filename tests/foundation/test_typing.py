"""The names re-exported lazily by videogen/__init__.py are typed as in videogen.api."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

import videogen

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_reexports_have_the_api_types(tmp_path):
    snippet = tmp_path / "snippet.py"
    snippet.write_text("import videogen\nimport videogen.api\n\n" + "".join(
        f"reveal_type(videogen.{name})\nreveal_type(videogen.api.{name})\n"
        for name in videogen.__all__))
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--follow-imports=silent", "--cache-dir",
         str(tmp_path / "cache"), str(snippet)],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    revealed = re.findall(r'Revealed type is "(.*)"', result.stdout)
    assert len(revealed) == 2 * len(videogen.__all__), result.stdout + result.stderr
    pairs = dict(zip(videogen.__all__, zip(revealed[::2], revealed[1::2], strict=True),
                     strict=True))
    assert {name: lazy for name, (lazy, _) in pairs.items() if lazy == "Any"} == {}
    assert {name: lazy for name, (lazy, real) in pairs.items() if lazy != real} == {}


def test_reexports_are_the_api_objects_and_listed():
    from videogen import api

    assert all(getattr(videogen, name) is getattr(api, name) for name in videogen.__all__)
    assert set(videogen.__all__) <= set(dir(videogen))
