"""How long a job is expected to take, before the site has a history of its own.

The catalog's figures are the real provider's. A provider that runs faster (the sandbox at
``time_scale`` 0.01 in the demo and in tests) is described by ``VIDEOGEN["POLL"]["TIME_SCALE"]``,
so the first poll, the poll rhythm and the progress bar follow it. At the default of 1 nothing
changes for a site that talks to the real API.
"""

from __future__ import annotations

from videogen import catalog
from videogen.conf import get_settings

#: Typical generation time for a model the catalog does not know (the sandbox's figure too).
UNKNOWN_MODEL_SECONDS = 120.0
#: The shortest expected duration: never plan on a job finishing in no time at all.
FLOOR_SECONDS = 1.0


def catalog_seconds(model: str) -> float:
    """The catalog's typical generation time of ``model``, times ``POLL["TIME_SCALE"]``."""
    spec = catalog.get_model(model)
    seconds = spec.typical_generation_seconds if spec else UNKNOWN_MODEL_SECONDS
    return max(FLOOR_SECONDS, seconds * get_settings().poll.time_scale)
