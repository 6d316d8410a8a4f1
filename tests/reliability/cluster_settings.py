"""Settings of the qcluster nodes the reliability runs start: the demo project's, with polls
sized for the sandbox's accelerated clock (the test process uses the same values)."""

from project.settings import *  # noqa: F403
from project.settings import Q_CLUSTER, VIDEOGEN

# Generation runs at a few percent of real time, so jobs finish in seconds: poll early and often,
# and let one poll task run a short loop so that several overlap across the two nodes.
POLL = {"FIRST_POLL_FRACTION": 0.05, "MIN_INTERVAL": 2, "LOOP_SECONDS": 20,
        "CLAIM_SECONDS": 30, "CONCURRENCY": 16}
VIDEOGEN = {**VIDEOGEN, "POLL": POLL, "TIMEOUT": 10}
Q_CLUSTER = {**Q_CLUSTER, "timeout": 60, "retry": 120}
