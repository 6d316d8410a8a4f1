"""Without PyAV (the "media" extra) the sandbox and its pytest plugin say so in one line.

PyAV is installed here, so each test hides it: ``sys.modules["av"] = None`` makes
``import av`` raise ImportError, as on a site that installed videogen without the extra.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

ROOT = Path(__file__).resolve().parents[2]
HIDE_AV = "import sys; sys.modules['av'] = None; "
EXTRA = 'pip install "django-videogen[media]"'


def without_av(code: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", HIDE_AV + code], cwd=cwd, capture_output=True,
                          text=True, timeout=120, env={"PATH": "/usr/bin:/bin",
                                                       "PYTHONPATH": str(ROOT)})


def test_the_module_entry_point_names_the_extra():
    result = without_av("from videogen.sandbox.cli import main; "
                        "sys.exit(main(['--port', '0']))")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "the videogen sandbox renders real clips with PyAV, which is not installed: " + EXTRA]


def test_the_pytest_plugin_names_the_extra(tmp_path):
    (tmp_path / "test_site.py").write_text(
        "def test_uses_the_sandbox(videogen_sandbox):\n    pass\n")
    result = without_av(
        "import pytest; sys.exit(pytest.main(['-q', '-p', 'no:django', '-p', 'no:cacheprovider',"
        " '-p', 'videogen.sandbox.testing', 'test_site.py']))", cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert EXTRA in result.stdout
    assert result.stdout.count(EXTRA) == 1, result.stdout  # once, not chained twice
    assert "ModuleNotFoundError" not in result.stdout and "Traceback" not in result.stdout


def test_the_management_command_names_the_extra(monkeypatch):
    from videogen.sandbox import render

    monkeypatch.setattr(render, "av", None)
    with pytest.raises(CommandError, match=r"django-videogen\[media\]"):
        call_command("videogen_sandbox", "--port", "0")
