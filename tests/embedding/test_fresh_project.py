"""The proof that docs/embedding.md works: build the wheel, start a brand-new project with
django-admin, apply the page's `proof` blocks literally, and make a video against the sandbox."""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import av
import pytest

from tests.packaging import source_tree
from videogen.sandbox import SandboxServer

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "embedding.md"
# The new project has its own SQLite database: one run is enough (the SQLite pass).
pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    bool(os.environ.get("DATABASE_URL")), reason="runs once, in the SQLite pass")]


def proof_blocks(text: str) -> list[tuple[str, str]]:
    """(instruction, code) for every fenced block preceded by ``<!-- proof: … -->``."""
    pattern = re.compile(r"<!-- proof: (?P<what>[^>]+?) -->\s*```\w*\n(?P<code>.*?)```", re.S)
    return [(m["what"].strip(), m["code"]) for m in pattern.finditer(text)]


def run(args, cwd, env):
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_docs_embedding_works_in_a_fresh_project(tmp_path):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}
    dist, site = tmp_path / "dist", tmp_path / "site"
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(dist), str(source_tree(tmp_path))], tmp_path, env)
    wheel = next(dist.glob("django_videogen-*.whl"))
    run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site),
         str(wheel)], tmp_path, env)
    run([sys.executable, "-m", "django", "startproject", "mysite"], tmp_path, env)
    project = tmp_path / "mysite"
    blocks = proof_blocks(DOC.read_text())
    assert [what for what, _ in blocks] == ["append settings.py", "append urls.py", "shell",
                                            "shell"]
    with SandboxServer(time_scale=0) as sandbox:
        # The installed wheel, never the repository's source, provides videogen.
        env |= {"PYTHONPATH": str(site), "TOGETHER_BASE_URL": sandbox.url,
                "TOGETHER_API_KEY": "test-key", "DJANGO_SETTINGS_MODULE": "mysite.settings"}
        for what, code in blocks:
            if what.startswith("append "):
                target = project / "mysite" / what.removeprefix("append ")
                target.write_text(target.read_text() + "\n" + code)
                continue
            for line in filter(None, (line.strip() for line in code.splitlines())):
                args = shlex.split(line)
                args = [sys.executable, *args[1:]] if args[0] == "python" else args
                run(args, project, env)
        where = run([sys.executable, "-c", "import videogen; print(videogen.__file__)"],
                    project, env)
        assert where.strip().startswith(str(site))
        assert sandbox.stats()["jobs_created"] == 1
    with av.open(str(project / "lighthouse.mp4")) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (1280, 720)
    assert list((project / "media" / "videogen").rglob("*.mp4"))

