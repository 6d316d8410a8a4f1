"""The async client's connections, split over small httpx pools.

The plain way is one ``httpx.AsyncClient`` with ``max_connections`` connections. httpcore's
pool spends CPU in proportion to the connections it juggles (its bookkeeping walks every
connection for every request): 640 GETs at 64 in flight and 100 ms a request ran at 71 GETs/s
through one pool of 64 (efficiency 0.11, 13.9 ms of CPU per GET) and at 514–537 GETs/s through
pools of 8 (0.80–0.84, 1.06–1.43 ms per GET). Pools of 8 instead of 16 took the poll loop at
concurrency 64 from 36.5–37.8× its sequential baseline to 44.5–47.0× (bench/README.md, P1).
"""

from __future__ import annotations

import ssl

import httpx

#: The most connections one pool holds.
CONNECTIONS_PER_POOL = 8


def small_pools(max_connections: int, *, timeout: httpx.Timeout,
                transport: httpx.AsyncBaseTransport | None, verify: ssl.SSLContext
                ) -> list[httpx.AsyncClient]:
    """As few pools of at most ``CONNECTIONS_PER_POOL`` as hold ``max_connections`` in all,
    of equal size; the caller takes them in turn."""
    count = max(1, -(-max_connections // CONNECTIONS_PER_POOL))
    size = max(1, -(-max_connections // count))
    limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
    return [httpx.AsyncClient(timeout=timeout, transport=transport, verify=verify,
                              limits=limits) for _ in range(count)]
