"""Fault injection: rules that make the sandbox misbehave the way a real provider does.

A rule says *what* goes wrong (``kind``), *where* (``route``), *how often* (``rate``, a
probability per matching request) and *how many times* (``count``, then the rule is used up).
Rules come from the server's settings, from ``SandboxServer.faults.add(...)``, from
``POST /_sandbox/faults``, or for a single request from the ``X-Sandbox-Fault`` header.

The same one-line text form works everywhere (CLI ``--fault``, the header, the control API)::

    503 route=retrieve rate=0.3        # 30 % of job GETs answer 503
    lost_response route=create count=2 # the next two creates make a job, then drop the socket
    latency=100                        # every request waits 100 ms
    rate_limit=2 count=1               # one 429 with Retry-After: 2
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, fields
from typing import Any

# When each kind acts while a request is handled.
STAGES = {
    "latency": "delay",          # sleep ``ms`` before answering (adds up with other faults)
    "error": "before",           # answer ``status`` (500/502/503/...) without doing anything
    "rate_limit": "before",      # 429 with Retry-After / retry-after-ms, nothing done
    "drop": "before",            # close the socket without an answer, nothing done
    "lost_response": "after",    # do the work (create the job), then close without an answer
    "malformed": "after",        # do the work, answer 200 with a cut-off JSON body
    "fail_job": "create",        # the created job ends as ``failed``
    "truncate": "download",      # Content-Length says N, the socket closes after ``bytes``
    "expire": "download",        # the download URL answers 403 as if it had expired
    "corrupt": "download",       # the whole length arrives, every byte zero (damaged file)
    "trickle": "download",       # the body comes one byte every ``ms`` (default 1000 ms)
}
ROUTES = ("any", "create", "retrieve", "download")
# Kinds that only make sense on some routes.
_ONLY_ON = {
    "lost_response": ("create", "retrieve"),
    "malformed": ("create", "retrieve"),
    "fail_job": ("create",),
    "truncate": ("download",),
    "expire": ("download",),
    "corrupt": ("download",),
    "trickle": ("download",),
}
# What a bare value means for each kind: ``latency=100`` is 100 ms, ``error=503`` a status.
_VALUE_FIELD = {"latency": "ms", "error": "status", "rate_limit": "retry_after",
                "truncate": "bytes", "fail_job": "message", "trickle": "ms"}


class FaultError(ValueError):
    """A fault rule or its text form is not understood."""


@dataclass
class Fault:
    """One rule. ``count=None`` means forever; ``rate`` is the chance per matching request."""

    kind: str
    route: str = "any"
    count: int | None = None
    rate: float = 1.0
    ms: float = 0.0                 # latency; trickle: the pause between bytes (0 = 1000)
    status: int = 503               # error
    retry_after: float = 1.0        # rate_limit, seconds
    bytes: int | None = None        # truncate: bytes sent before closing (default: half)
    message: str | None = None      # fail_job: the job's error message
    fired: int = 0

    def __post_init__(self) -> None:
        if self.kind not in STAGES:
            raise FaultError(f"unknown fault kind {self.kind!r}; known: {sorted(STAGES)}")
        if self.route not in ROUTES:
            raise FaultError(f"unknown route {self.route!r}; known: {list(ROUTES)}")
        if not 0.0 <= self.rate <= 1.0:
            raise FaultError("rate must be between 0 and 1")
        if self.count is not None and self.count < 0:
            raise FaultError("count must be positive")
        if self.kind == "error" and not 400 <= self.status <= 599:
            raise FaultError("error status must be a 4xx or 5xx code")

    @property
    def stage(self) -> str:
        return STAGES[self.kind]

    def applies_to(self, route: str) -> bool:
        if self.route not in ("any", route):
            return False
        return route in _ONLY_ON.get(self.kind, (route,))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fault:
        known = {f.name for f in fields(cls)} - {"fired"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise FaultError(f"unknown fault fields {unknown}; known: {sorted(known)}")
        try:
            return cls(**data)
        except TypeError as error:
            raise FaultError(str(error)) from None

    @classmethod
    def parse(cls, text: str) -> Fault:
        """``"503 route=retrieve rate=0.3"`` → ``Fault(kind="error", status=503, ...)``."""
        words = text.split()
        if not words:
            raise FaultError("empty fault")
        head, _, value = words[0].partition("=")
        data: dict[str, Any] = {}
        if head.isdigit():
            head, value = "error", head
        data["kind"] = head
        if value:
            if head not in _VALUE_FIELD:
                raise FaultError(f"{head!r} takes no value; use key=value options")
            data[_VALUE_FIELD[head]] = value
        for word in words[1:]:
            key, sep, item = word.partition("=")
            if not sep:
                raise FaultError(f"expected key=value, got {word!r}")
            data[key] = item
        return cls.from_dict(_typed(data))


def _typed(data: dict[str, Any]) -> dict[str, Any]:
    """Text values turned into the field types (``count=2`` → 2)."""
    kinds = {"count": int, "rate": float, "ms": float, "status": int, "retry_after": float,
             "bytes": int}
    try:
        return {key: kinds[key](value) if key in kinds else value for key, value in data.items()}
    except ValueError as error:
        raise FaultError(str(error)) from None


def parse_many(text: str) -> list[Fault]:
    """Several rules separated by commas or semicolons (the header form)."""
    parts = [part.strip() for part in text.replace(";", ",").split(",")]
    return [Fault.parse(part) for part in parts if part]


class FaultPlan:
    """The server's rules, consulted on every request. Thread-safe; random draws come from a
    seeded generator so a run with ``rate`` rules can be replayed."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._rules: list[Fault] = []
        self._random = random.Random(seed)

    def add(self, kind: str, **options: Any) -> Fault:
        """``add("lost_response", route="create", count=2)``, ``add("error", status=503,
        route="retrieve", rate=0.3)``, ``add("latency", ms=100)``."""
        return self.add_rule(Fault(kind=kind, **options))

    def add_rule(self, fault: Fault) -> Fault:
        with self._lock:
            self._rules.append(fault)
        return fault

    def add_spec(self, text: str) -> list[Fault]:
        """Add rules from their text form (comma-separated)."""
        return [self.add_rule(fault) for fault in parse_many(text)]

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def reset(self, seed: int = 0) -> None:
        """No rules, and the random draws start over."""
        with self._lock:
            self._rules.clear()
            self._random.seed(seed)

    @property
    def rules(self) -> list[Fault]:
        with self._lock:
            return list(self._rules)

    def take(self, stage: str, route: str) -> list[Fault]:
        """The rules that fire now: every matching latency rule, else at most one rule."""
        with self._lock:
            fired = []
            for rule in self._rules:
                if rule.stage != stage or not rule.applies_to(route):
                    continue
                if rule.rate < 1.0 and self._random.random() >= rule.rate:
                    continue
                rule.fired += 1
                if rule.count is not None:
                    rule.count -= 1
                fired.append(rule)
                if stage != "delay":
                    break
            self._rules = [r for r in self._rules if r.count is None or r.count > 0]
            return fired


class RequestFaults:
    """One request's faults: its ``X-Sandbox-Fault`` header first, then the server's plan."""

    def __init__(self, plan: FaultPlan, header: str | None) -> None:
        self.plan = plan
        self.once = parse_many(header) if header else []

    def take(self, stage: str, route: str) -> list[Fault]:
        mine = [f for f in self.once if f.stage == stage and f.applies_to(route)]
        if stage == "delay":
            self.once = [f for f in self.once if f not in mine]
            return mine + self.plan.take(stage, route)
        if mine:
            # The header wins over the plan, and the plan's counts are left untouched.
            self.once.remove(mine[0])
            return mine[:1]
        return self.plan.take(stage, route)

    def first(self, stage: str, route: str) -> Fault | None:
        fired = self.take(stage, route)
        return fired[0] if fired else None
