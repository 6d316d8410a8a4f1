"""Every example request of the provider's docs is accepted: by the catalog (warnings at most),
by the sandbox over real HTTP through videogen's client, and as the raw body the docs send.

The examples are parsed from the code blocks of ``provider_examples.md`` (a committed copy, as
/work/shared is not in the repository and CI runs in a fresh clone); when the shared
``together-api.md`` sits beside the repository, its request blocks are sent too and must have
their copy in the fixture.
"""

from __future__ import annotations

import ast
import base64
import json
import re
import struct
import zlib
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.client.scripted import client_for
from videogen import catalog
from videogen.client.schemas import RemoteJob

HERE = Path(__file__).resolve().parent
FIXTURE = HERE / "provider_examples.md"
SHARED = HERE.parents[2] / "shared" / "together-api.md"
# Raise when adding a block to provider_examples.md: extraction must never silently find less.
EXPECTED_EXAMPLES = 21


def _png() -> str:
    """A real 8×8 grey PNG, raw base64 as the docs send keyframes."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    pixels = zlib.compress(b"".join(b"\0" + b"\x80" * 8 for _ in range(8)))
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 0, 0, 0, 0))
           + chunk(b"IDAT", pixels) + chunk(b"IEND", b""))
    return base64.b64encode(png).decode()


PNG = _png()
# What the docs leave for the reader to fill in: their base64-encoded image.
PLACEHOLDERS = {"img_data": PNG, "image_base64": PNG, "base64Image": PNG, "$BASE64_IMAGE": PNG,
                "true": True, "false": False, "null": None}
_BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)


# --- Extraction ----------------------------------------------------------------------------------


class _Fill(ast.NodeTransformer):
    """Names in an example (``img_data``) become the placeholder's value."""

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id not in PLACEHOLDERS:
            raise ValueError(f"unknown name {node.id!r} in an example")
        return ast.Constant(PLACEHOLDERS[node.id])


def _literal(node: ast.AST) -> Any:
    return ast.literal_eval(_Fill().visit(node))


def _create_call(tree: ast.AST) -> ast.Call | None:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr == "create" and isinstance(node.func.value, ast.Attribute) and \
                node.func.value.attr == "videos":
            return node
    return None


def _from_python(code: str) -> dict[str, Any] | None:
    call = _create_call(ast.parse(code))
    return None if call is None else {kw.arg: _literal(kw.value) for kw in call.keywords}


def _from_typescript(code: str) -> dict[str, Any] | None:
    match = re.search(r"videos\.create\((\{.*\})\s*\)", code, re.S)
    if not match:
        return None
    # An object literal is a Python dict once its bare keys are quoted.
    literal = re.sub(r"([{,]\s*)([A-Za-z_]\w*)\s*:", r'\1"\2":', match[1])
    return _literal(ast.parse(literal, mode="eval").body)


def _from_shell(code: str) -> dict[str, Any] | None:
    match = re.search(r"-X POST .*?-d '(.*?)'", code, re.S)
    return None if match is None else _from_json(match[1])


def _from_json(code: str) -> dict[str, Any] | None:
    data = json.loads(code.replace('"$BASE64_IMAGE"', json.dumps(PNG)))
    # A block with a status is a job the API answers, not a request.
    return data if isinstance(data, dict) and "model" in data and "status" not in data else None


PARSERS = {"python": _from_python, "typescript": _from_typescript, "shell": _from_shell,
           "bash": _from_shell, "json": _from_json}


def extract(markdown: str) -> list[tuple[str, dict[str, Any]]]:
    """(``section: language #n``, request body) for each block that creates a video."""
    examples = []
    for match in _BLOCK.finditer(markdown):
        parser = PARSERS.get(match[1])
        body = parser(match[2]) if parser else None
        if body is not None:
            headings = re.findall(r"^#+ (.+)$", markdown[:match.start()], re.M)
            label = f"{headings[-1] if headings else '?'}: {match[1]} #{len(examples) + 1}"
            examples.append((label, body))
    return examples


FIXTURE_EXAMPLES = extract(FIXTURE.read_text())
SHARED_EXAMPLES = extract(SHARED.read_text()) if SHARED.exists() else []
ALL = FIXTURE_EXAMPLES + [(f"together-api.md, {label}", body) for label, body in SHARED_EXAMPLES]
IDS = [label for label, _ in ALL]


def test_extraction_finds_every_example():
    assert len(FIXTURE_EXAMPLES) == EXPECTED_EXAMPLES
    assert all(body["model"] for _label, body in FIXTURE_EXAMPLES)
    languages = {label.rsplit(": ", 1)[1].split(" ")[0] for label, _ in FIXTURE_EXAMPLES}
    assert languages == {"python", "typescript", "shell", "json"}
    # The placeholders were filled: the docs' keyframe examples carry a real image.
    keyframes = [body for label, body in FIXTURE_EXAMPLES if "Keyframes" in label]
    assert len(keyframes) == 3
    assert all(body["frame_images"][0]["input_image"] == PNG for body in keyframes)


@pytest.mark.skipif(not SHARED.exists(), reason="together-api.md is not beside the repository")
def test_the_shared_pages_requests_have_their_committed_copy():
    copies = [body for _label, body in FIXTURE_EXAMPLES]
    assert [body for _label, body in SHARED_EXAMPLES if body not in copies] == []


def _answers(markdown: str) -> list[dict[str, Any]]:
    """The page's JSON blocks that are jobs the API answers."""
    blocks = [json.loads(m[2]) for m in _BLOCK.finditer(markdown) if m[1] == "json"]
    return [b for b in blocks if isinstance(b, dict) and "status" in b]


@pytest.mark.skipif(not SHARED.exists(), reason="together-api.md is not beside the repository")
def test_the_sandbox_answers_in_the_shape_the_shared_page_shows(videogen_sandbox):
    answers = _answers(SHARED.read_text())
    assert answers, "together-api.md's example answer was not found"
    videogen_sandbox.configure(shape="docs")
    client, _ = client_for(videogen_sandbox.url)
    created = client.create(FIXTURE_EXAMPLES[0][1])
    ours = client.retrieve(created.id).raw
    for answer in answers:
        theirs = RemoteJob.from_payload(answer)
        assert theirs.status == "completed" and theirs.video_url
        assert set(ours) == set(answer)
        assert set(ours["inputs"]) == set(answer["inputs"])
        assert set(ours["info"]) == set(answer["info"])


@pytest.mark.parametrize(("label", "body"), ALL, ids=IDS)
def test_the_catalog_never_refuses_a_docs_example(label, body):
    _request, problems = catalog.parse(body, catalog=catalog.BUILTIN)
    assert [p for p in problems if p.is_error] == []


@pytest.mark.parametrize(("label", "body"), ALL, ids=IDS)
def test_sent_through_the_client_it_is_accepted_and_completes(videogen_sandbox, label, body):
    client, _ = client_for(videogen_sandbox.url)
    created = client.create(body)
    assert created.status == "queued" and created.id
    job = client.retrieve(created.id)  # the test sandbox finishes a job at its first poll
    assert job.status == "completed" and job.model == body["model"]
    assert job.video_url and job.cost is not None and job.cost > 0


@pytest.mark.parametrize(("label", "body"), ALL, ids=IDS)
def test_sent_as_the_docs_write_it_the_sandbox_accepts_it(videogen_sandbox, label, body):
    """The exact body, legacy top-level fields and integer seconds included, as curl and the
    TypeScript and Go SDKs send it."""
    response = httpx.post(f"{videogen_sandbox.url}/v2/videos", json=body, timeout=30,
                          headers={"Authorization": f"Bearer {videogen_sandbox.api_key}"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "queued"


def test_what_the_docs_never_allow_is_still_refused_by_the_sandbox(videogen_sandbox):
    body = {"model": "minimax/hailuo-02", "prompt": "a cat",
            "media": {"source_video": "https://example.com/in.mp4"}}
    response = httpx.post(f"{videogen_sandbox.url}/v2/videos", json=body, timeout=30,
                          headers={"Authorization": f"Bearer {videogen_sandbox.api_key}"})
    assert response.status_code == 400
    assert response.json()["error"] == {
        "message": "minimax/hailuo-02 does not accept source_video (accepts: frame_images)",
        "type": "invalid_request_error", "param": "media.source_video",
        "code": "invalid_parameter"}


# Arguments the official Python SDK (together 3.x) takes by name; the rest of a docs body (the
# legacy top-level frame_images/reference_images) goes as extra_body, as the SDK's users send it.
_SDK_ARGUMENTS = {"model", "prompt", "negative_prompt", "media", "seconds", "fps", "steps",
                  "seed", "guidance_scale", "width", "height", "ratio", "resolution",
                  "generate_audio", "output_format", "output_quality"}


@pytest.mark.parametrize(("label", "body"), ALL, ids=IDS)
def test_sent_through_the_official_sdk_it_is_accepted_and_completes(videogen_sandbox, label,
                                                                     body):
    together = pytest.importorskip("together")  # a test extra of pyproject.toml: CI has it
    sdk = together.Together(api_key=videogen_sandbox.api_key, base_url=videogen_sandbox.url,
                            max_retries=0)
    arguments = {key: value for key, value in body.items() if key in _SDK_ARGUMENTS}
    if "seconds" in arguments:
        arguments["seconds"] = str(arguments["seconds"])  # the SDK types it as a string
    extra = {key: value for key, value in body.items() if key not in _SDK_ARGUMENTS}
    created = sdk.videos.create(**arguments, extra_body=extra or None)
    assert created.status == "queued" and created.id
    job = sdk.videos.retrieve(created.id)
    assert job.status == "completed" and job.model == body["model"]
