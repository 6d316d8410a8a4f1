"""``/_sandbox/...``: the control API for tests and benchmarks in other processes.

No key (the sandbox binds 127.0.0.1) and never subject to faults. Not for browsers, though: a
page on any site can make a browser send a request to 127.0.0.1, so a request with a foreign
``Origin`` is refused (403), and so is a body not declared ``application/json`` (415): a page
can send ``text/plain`` or a form without the CORS preflight the sandbox never answers, but
not JSON. Programs (``RemoteSandbox``, curl with ``-H 'content-type: application/json'``) send
no ``Origin``.

    GET    /_sandbox/stats     counters (see ``Stats.snapshot``)
    GET    /_sandbox/faults    the active rules
    POST   /_sandbox/faults    add rules: {"spec": "503 route=retrieve rate=0.3"}, a rule object
                               ({"kind": "lost_response", "route": "create", "count": 2}), a list
                               of either, or {"rules": [...], "replace": true}
    DELETE /_sandbox/faults    remove every rule
    POST   /_sandbox/reset     forget jobs, counters, faults; restore start-up settings
    POST   /_sandbox/advance   {"job_id": optional, "to": "completed" | "in_progress"}
    GET    /_sandbox/jobs      [{id, model, status, fingerprint, failing, retrieves,
                               min_retrieve_gap}]
    GET    /_sandbox/config    the current settings
    POST   /_sandbox/config    change settings: {"time_scale": 0.01, "shape": "docs", ...}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .api import Reply, error_reply
from .faults import Fault, FaultError, parse_many

if TYPE_CHECKING:
    from email.message import Message

    from .server import SandboxServer

    #: The request's headers: a mapping, or http.server's ``self.headers``.
    Headers = Mapping[str, str] | Message[str, str]


def handle(sandbox: SandboxServer, method: str, name: str, body: bytes,
           headers: Headers | None = None) -> Reply:
    refused = cross_site(headers or {}, body)
    if refused is not None:
        return refused
    try:
        data = json.loads(body) if body.strip() else {}
    except ValueError as error:
        return error_reply(400, f"Invalid JSON: {error}", code="invalid_json")
    action = _ACTIONS.get((method, name.strip("/")))
    if action is None:
        return error_reply(404, f"No control endpoint {method} /_sandbox/{name}",
                           code="not_found")
    try:
        return Reply(200, action(sandbox, data))
    except (FaultError, ValueError, TypeError, KeyError) as error:
        return error_reply(400, str(error), code="invalid_parameter")


def cross_site(headers: Headers, body: bytes) -> Reply | None:
    """The refusal of a request a web page may have made, or None."""
    origin, host = headers.get("Origin"), headers.get("Host") or ""
    if origin is not None and origin.rstrip("/").lower() not in (f"http://{host}".lower(),
                                                                  f"https://{host}".lower()):
        return error_reply(403, "The control API refuses requests from another Origin "
                                "(a web page); call it from a program.", code="forbidden")
    kind = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if (kind or body.strip()) and kind != "application/json":
        return error_reply(415, "Send the body as JSON with Content-Type: application/json.",
                           code="unsupported_media_type")
    return None


def _stats(sandbox: SandboxServer, data: Any) -> Any:
    return sandbox.stats()


def _rules(sandbox: SandboxServer, data: Any = None) -> Any:
    return {"rules": [rule.to_dict() for rule in sandbox.faults.rules]}


def _add_faults(sandbox: SandboxServer, data: Any) -> Any:
    if isinstance(data, dict) and "rules" in data:
        if data.get("replace"):
            sandbox.faults.clear()
        data = data["rules"]
    for rule in _parse_rules(data):
        sandbox.faults.add_rule(rule)
    return _rules(sandbox)


def _parse_rules(data: Any) -> list[Fault]:
    items = data if isinstance(data, list) else [data]
    rules: list[Fault] = []
    for item in items:
        if isinstance(item, str):
            rules.extend(parse_many(item))
        elif isinstance(item, dict) and set(item) == {"spec"}:
            rules.extend(parse_many(str(item["spec"])))
        elif isinstance(item, dict):
            rules.append(Fault.from_dict(item))
        else:
            raise FaultError(f"a fault is an object or its text form, got {item!r}")
    return rules


def _clear_faults(sandbox: SandboxServer, data: Any) -> Any:
    sandbox.faults.clear()
    return _rules(sandbox)


def _reset(sandbox: SandboxServer, data: Any) -> Any:
    sandbox.reset()
    return {"reset": True}


def _advance(sandbox: SandboxServer, data: Any) -> Any:
    if not isinstance(data, dict):
        raise ValueError("send an object: {\"job_id\": ..., \"to\": ...}")
    count = sandbox.advance(data.get("job_id"), to=data.get("to", "completed"))
    return {"advanced": count}


def _jobs(sandbox: SandboxServer, data: Any) -> Any:
    return {"jobs": [
        {"id": job.id, "model": job.model, "status": job.status(),
         "fingerprint": job.fingerprint, "failing": job.failure is not None,
         "retrieves": job.retrieves, "min_retrieve_gap": job.min_retrieve_gap}
        for job in sandbox.jobs()
    ]}


def _config(sandbox: SandboxServer, data: Any) -> Any:
    return sandbox.config_dict()


def _configure(sandbox: SandboxServer, data: Any) -> Any:
    if not isinstance(data, dict):
        raise ValueError("send an object of settings")
    sandbox.configure(**data)
    return sandbox.config_dict()


_ACTIONS = {
    ("GET", "stats"): _stats,
    ("GET", "faults"): _rules,
    ("POST", "faults"): _add_faults,
    ("DELETE", "faults"): _clear_faults,
    ("POST", "reset"): _reset,
    ("POST", "advance"): _advance,
    ("GET", "jobs"): _jobs,
    ("GET", "config"): _config,
    ("POST", "config"): _configure,
}
