"""The provider's answers: create, retrieve, auth and Together's JSON error bodies.

Plain functions from request data to a ``Reply``; the HTTP plumbing lives in ``handler``.
"""

from __future__ import annotations

import hmac
import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from videogen import catalog

from .faults import Fault, RequestFaults
from .jobs import build_job, failure_for
from .shapes import job_payload
from .stats import fingerprint

if TYPE_CHECKING:
    from .server import SandboxServer

INVALID_KEY_MESSAGE = ("Invalid API key provided. You can find your API key at "
                       "https://api.together.xyz/settings/api-keys.")
_STATUS_MESSAGES = {
    402: ("Credit limit exceeded. Please add credits to your account.", "invalid_request_error",
          "credit_limit"),
    403: ("You do not have permission to access this resource.", "invalid_request_error",
          "forbidden"),
    500: ("Internal server error.", "server_error", None),
    503: ("The server is overloaded or not ready yet.", "server_error", "service_unavailable"),
    504: ("Gateway timeout.", "server_error", None),
}
# Proxies in front of the API answer 502 with HTML, not JSON: clients must parse tolerantly.
_BAD_GATEWAY = (b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
                b"<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n")


@dataclass
class Reply:
    status: int
    payload: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None  # a body sent as is instead of ``payload``
    content_type: str = "application/json"

    def body(self) -> bytes:
        if self.raw is not None:
            return self.raw
        return json.dumps(self.payload, separators=(",", ":")).encode()


def error_reply(status: int, message: str, *, type_: str = "invalid_request_error",
                param: str | None = None, code: str | None = None) -> Reply:
    """Together's (OpenAI-style) error body."""
    return Reply(status, {"error": {"message": message, "type": type_, "param": param,
                                    "code": code}})


def check_auth(sandbox: SandboxServer, header: str | None) -> Reply | None:
    """None when the ``Authorization: Bearer`` key is acceptable, else the 401."""
    scheme, _, key = (header or "").partition(" ")
    key = key.strip()
    expected = sandbox.config.api_key
    if scheme.lower() == "bearer" and key and (
            expected is None or hmac.compare_digest(key.encode(), expected.encode())):
        return None
    return error_reply(401, INVALID_KEY_MESSAGE, code="invalid_api_key")


def create(sandbox: SandboxServer, body: bytes, faults: RequestFaults, *, base_url: str,
           pad_to_bytes: int | None) -> Reply:
    """``POST /v2/videos``: validate, make the job, answer it as ``queued``."""
    try:
        data = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError) as error:
        return error_reply(400, f"Invalid JSON in request body: {error}", code="invalid_json")
    if not isinstance(data, dict):
        return error_reply(400, "The request body must be a JSON object.", code="invalid_json")
    print_ = fingerprint(data)
    sandbox.stats_counter.create_request(print_)
    request, problems = catalog.parse(data, catalog=catalog.BUILTIN)
    errors = [p for p in problems if p.is_error]
    if request is None or errors:
        first = errors[0]
        param = None if first.field == "request" else first.field
        return error_reply(400, first.message, param=param, code="invalid_parameter")
    config = sandbox.config
    failing = faults.first("create", "create")
    if failing:
        sandbox.stats_counter.fault(failing.kind)
    job = build_job(request, print_, time_scale=config.time_scale, url_ttl=config.url_ttl,
                    pad_to_bytes=pad_to_bytes if pad_to_bytes is not None else config.pad_to_bytes,
                    failure=failure_for(failing.message) if failing else None)
    sandbox.store.add(job)
    sandbox.stats_counter.created(print_)
    reply = Reply(200, job_payload(job, config.shape, base_url, status="queued"))
    warnings = [str(p) for p in problems if not p.is_error]
    if warnings:
        # Not Together's; lets a developer see what the catalog would have flagged.
        reply.headers["X-Sandbox-Warnings"] = "; ".join(warnings).encode(
            "ascii", "replace").decode()[:1000]
    return reply


def retrieve(sandbox: SandboxServer, job_id: str | None, *, base_url: str) -> Reply:
    """``GET /v2/videos/{id}`` (and the older ``/v2/videos/status?id=``)."""
    if not job_id:
        return error_reply(400, "Missing required parameter: id", param="id",
                           code="invalid_parameter")
    job = sandbox.store.retrieve(job_id)
    if job is None:
        return error_reply(404, f"Video job '{job_id}' not found.", param="id", code="not_found")
    status = job.status()
    if status == "completed":
        job.issue_url()
    return Reply(200, job_payload(job, sandbox.config.shape, base_url, status=status))


def fault_reply(fault: Fault) -> Reply:
    """The answer an injected ``error`` or ``rate_limit`` fault gives instead of the real one."""
    if fault.kind == "rate_limit":
        seconds = max(0.0, fault.retry_after)
        reply = error_reply(429, "Rate limit exceeded. Please slow down your requests.",
                            type_="rate_limit_exceeded", code="rate_limit_exceeded")
        reply.headers.update({
            "Retry-After": str(math.ceil(seconds)),
            "retry-after-ms": str(round(seconds * 1000)),
            "x-ratelimit-limit": "60",
            "x-ratelimit-remaining": "0",
            "x-ratelimit-reset": str(math.ceil(seconds)),
        })
        return reply
    if fault.status == 502:
        return Reply(502, raw=_BAD_GATEWAY, content_type="text/html")
    message, type_, code = _STATUS_MESSAGES.get(
        fault.status, (f"Injected error {fault.status}.", "server_error"
                       if fault.status >= 500 else "invalid_request_error", None))
    return error_reply(fault.status, message, type_=type_, code=code)


def malformed(reply: Reply) -> Reply:
    """The real answer cut in half: a 200 whose JSON does not parse."""
    body = reply.body()
    return Reply(reply.status, raw=body[: max(1, len(body) // 2)], headers=reply.headers)
