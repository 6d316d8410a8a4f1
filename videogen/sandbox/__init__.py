"""A local, real-HTTP stand-in for Together's video API (``/v2/videos``) that renders real clips.

    from videogen.sandbox import SandboxServer

    with SandboxServer(time_scale=0.01, shape="sdk") as sb:
        ...  # point VIDEOGEN["BASE_URL"] at sb.url, send sb.api_key
        sb.faults.add("lost_response", route="create", count=1)
        sb.advance()  # finish every job now
        sb.stats()["creates_by_fingerprint"]

Startable on its own (``python -m videogen.sandbox``): it imports only the client schemas and
the catalog from the rest of the app, and needs no Django settings. See docs/sandbox.md.
"""

from .faults import Fault, FaultError, FaultPlan
from .render import RenderSpec
from .server import SandboxConfig, SandboxServer
from .stats import fingerprint

__all__ = ["Fault", "FaultError", "FaultPlan", "RenderSpec", "SandboxConfig", "SandboxServer",
           "fingerprint"]
