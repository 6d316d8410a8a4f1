"""Migrations are complete and the repository works from a fresh clone."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_migrations_are_complete():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_a_fresh_install_is_one_schema_migration():
    """Squashed before the first release: one ``0001_initial`` that only creates the schema
    (there are no older rows for a data step to repair)."""
    from django.db.migrations import RunPython, RunSQL
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    names = sorted(name for app, name in loader.disk_migrations if app == "videogen")
    assert names == ["0001_initial"]
    operations = loader.disk_migrations["videogen", "0001_initial"].operations
    assert [op for op in operations if isinstance(op, RunPython | RunSQL)] == []


@pytest.mark.slow
def test_fresh_clone_passes_check(tmp_path):
    if not (ROOT / ".git").exists() or shutil.which("git") is None:
        pytest.skip("not a git checkout")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--fail-level", "WARNING"],
        cwd=clone, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
