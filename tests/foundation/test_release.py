"""The release files: the licence pyproject names, the changelog the upgrade guide points to,
and the built wheel and sdist carrying them and the translations."""

import os
import re
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.packaging import source_tree

ROOT = Path(__file__).resolve().parents[2]
LOCALE = "videogen/locale/de/LC_MESSAGES/django."


def test_license_is_the_mit_text_pyproject_names():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    text = (ROOT / "LICENSE").read_text()
    assert project["license"] == "MIT"
    assert text.startswith("MIT License\n")
    assert "the django-videogen authors" in text
    assert "THE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND" in text


def test_the_upgrade_guide_links_the_changelog():
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert "https://keepachangelog.com/" in changelog
    assert "## [Unreleased]" in changelog
    guide = (ROOT / "docs" / "embedding.md").read_text()
    upgrading = guide[guide.index("## Upgrading"):].split("\n## ")[0]
    links = re.findall(r"\]\(([^)#]+)\)", upgrading)
    assert links and all((ROOT / "docs" / link).resolve() == ROOT / "CHANGELOG.md"
                         for link in links)
    # The changelog's own links to docs/ resolve too.
    for link in re.findall(r"\]\((docs/[^)#]+)", changelog):
        assert (ROOT / link).is_file(), link


def build(kind: str, out: Path) -> Path:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(out)}
    subprocess.run([sys.executable, "-m", "build", f"--{kind}", "--no-isolation", "-o",
                    str(out / "dist"), str(source_tree(out))], env=env, check=True,
                   capture_output=True, timeout=300)
    return next((out / "dist").iterdir())


@pytest.mark.slow
def locked(lock: str) -> tuple[str, str]:
    """(Django major.minor, Python version) of a lock file, from its pin and uv's header."""
    text = (ROOT / lock).read_text()
    django = re.search(r"^django==(\d+\.\d+)", text, re.M)[1]
    python = re.search(r"--python-version (\d+\.\d+)", text)[1]
    return django, python


def test_classifiers_claim_exactly_what_the_locks_prove():
    # `make test` runs the suite on each lock: the classifiers promise those, nothing more.
    classifiers = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["classifiers"]
    versioned = r"(Framework :: Django|Programming Language :: Python) :: \d+\.\d+"
    claimed = {c.rsplit(" :: ", 1)[1] for c in classifiers if re.fullmatch(versioned, c)}
    proven = {version for lock in ("requirements.lock", "requirements-django6.lock")
              for version in locked(lock)}
    assert claimed == proven
    assert locked("requirements-django6.lock")[0].startswith("6.")
    makefile = (ROOT / "Makefile").read_text()
    assert "-r requirements-django6.lock" in makefile and "test-django6" in makefile


def test_the_wheel_ships_license_and_translations(tmp_path):
    with zipfile.ZipFile(build("wheel", tmp_path)) as wheel:
        names = set(wheel.namelist())
        info = next(name for name in names if name.endswith(".dist-info/METADATA"))
        metadata = wheel.read(info).decode()
    assert info.replace("METADATA", "licenses/LICENSE") in names
    assert {LOCALE + "po", LOCALE + "mo"} <= names
    assert "License-Expression: MIT" in metadata
    # Exactly the source's modules: nothing deleted since comes back from a build/ directory.
    source = {path.relative_to(ROOT).as_posix() for path in (ROOT / "videogen").rglob("*.py")}
    assert {name for name in names if name.endswith(".py")} == source


@pytest.mark.slow
def test_the_sdist_ships_license_changelog_and_translations(tmp_path):
    with tarfile.open(build("sdist", tmp_path)) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert {"LICENSE", "CHANGELOG.md", LOCALE + "po", LOCALE + "mo"} <= names
