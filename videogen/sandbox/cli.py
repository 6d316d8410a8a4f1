"""``python -m videogen.sandbox`` and ``manage.py videogen_sandbox``: serve until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any, Protocol

from .render import MediaMissing
from .server import SandboxServer
from .shapes import SHAPES

DEFAULT_PORT = 8765


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options, shared by the module entry point and the management command."""
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"port (default {DEFAULT_PORT}; 0 = any free port)")
    parser.add_argument("--time-scale", type=float, default=1.0,
                        help="multiply simulated generation times (0.01: 3 min → ~2 s; 0: instant)")
    parser.add_argument("--shape", choices=SHAPES, default="sdk",
                        help="job JSON shape: SDK 3.1.1 VideoJob or the docs' 2025-10 example")
    parser.add_argument("--api-key", default=None,
                        help="accept only this key (default: any non-empty Bearer key)")
    parser.add_argument("--url-ttl", type=float, default=3600.0,
                        help="seconds a video_url works after completion (default 3600)")
    parser.add_argument("--pad-to-bytes", type=int, default=None,
                        help="pad every download to this many bytes (memory benchmarks)")
    parser.add_argument("--public-url", default=None,
                        help="scheme://host:port to put in video_url (default: the Host header)")
    parser.add_argument("--fault", action="append", default=[], metavar="RULE",
                        help="a fault rule, e.g. '503 route=retrieve rate=0.3' (repeatable)")
    parser.add_argument("--seed", type=int, default=0, help="seed for rate-based faults")
    parser.add_argument("--verbose", action="store_true", help="log every request")


def server_from(options: dict[str, Any]) -> SandboxServer:
    return SandboxServer(
        host=options["host"], port=options["port"], time_scale=options["time_scale"],
        shape=options["shape"], api_key=options["api_key"], url_ttl=options["url_ttl"],
        pad_to_bytes=options["pad_to_bytes"], public_url=options["public_url"],
        faults=options["fault"], seed=options["seed"], verbose=options["verbose"],
    )


class Output(Protocol):
    """Where :func:`serve` prints: ``sys.stdout``, or a management command's ``self.stdout``."""

    def write(self, text: str, /) -> object: ...

    def flush(self) -> object: ...


def serve(options: dict[str, Any], out: Output = sys.stdout) -> None:
    """Serve until Ctrl-C, printing the base URL once bound. Bad options (a fault rule, a
    shape) raise ``ValueError``; without PyAV, ``MediaMissing``."""
    sandbox = server_from(options)

    def announce(server: SandboxServer) -> None:
        out.write(f"videogen sandbox on {server.url}  (time_scale={options['time_scale']}, "
                  f"shape={options['shape']})\n")
        # No key and no settings to copy: a banner lands in logs and terminals, and the
        # site's own settings already say where the provider is.
        key = "the key given with --api-key" if options["api_key"] else "any API key"
        out.write(f"  accepts {key}; Ctrl-C to stop.\n")
        out.flush()

    previous = _stop_on_sigterm()
    try:
        sandbox.serve_forever(ready=announce)
    except KeyboardInterrupt:
        out.write("sandbox stopped\n")
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _stop_on_sigterm() -> Any:
    """Treat SIGTERM like Ctrl-C so the rendered files are deleted either way."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    return signal.signal(signal.SIGTERM, interrupt)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m videogen.sandbox", description=__doc__)
    add_arguments(parser)
    try:
        serve(vars(parser.parse_args(argv)))
    except MediaMissing as error:  # PyAV, the "media" extra
        parser.exit(1, f"{error}\n")
    except ValueError as error:  # FaultError too
        parser.error(str(error))
    except OSError as error:  # the port is taken, say
        parser.exit(1, f"cannot serve: {error}\n")
    return 0
