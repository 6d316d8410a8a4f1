"""A real HTTP receiver on 127.0.0.1 that records what it gets and answers as scripted.

A script entry is a status code, or a hostile behaviour: a function given the request
handler that writes whatever raw answer it likes (see :func:`redirect_to`, :func:`endless`,
:func:`trickle`)."""

import contextlib
import json
import threading
import time

import pytest

from tests.servers import LocalServer, QuietHandler, Stops


class Receiver(Stops):
    def __init__(self):
        self.received = []  # (headers dict, body bytes)
        self.raw_headers = []  # [(name, value), ...] per request, repeats kept
        self.script = []  # statuses or behaviours to answer, in order; then `default`
        self.default = 200
        self.sent_bytes = 0  # body bytes a behaviour managed to write
        self.lock = threading.Lock()
        receiver = self

        class Handler(QuietHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with receiver.lock:
                    receiver.received.append(({k.lower(): v for k, v in self.headers.items()},
                                              body))
                    receiver.raw_headers.append(list(self.headers.items()))
                    answer = receiver.script.pop(0) if receiver.script else receiver.default
                self.close_connection = True
                if callable(answer):
                    with contextlib.suppress(OSError):  # the client hung up, as it should
                        answer(self)
                    return
                self.send_response(answer)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.http = LocalServer(Handler, path="/hooks")
        self.url = self.http.url

    def count(self, sent):
        with self.lock:
            self.sent_bytes += sent

    def events(self):
        return [json.loads(body) for _, body in self.received]

    def types(self):
        return [event["type"] for event in self.events()]

    def stop(self):
        self.http.stop()


def redirect_to(location, status=302):
    def answer(handler):
        handler.send_response(status)
        handler.send_header("location", location)
        handler.send_header("content-length", "0")
        handler.end_headers()
    return answer


def endless(receiver, status=200, chunk=64 * 1024, total=2 * 1024 ** 3):
    """A 2 GiB body (declared, and written until the client hangs up)."""
    def answer(handler):
        handler.send_response(status)
        handler.send_header("content-length", str(total))
        handler.end_headers()
        block = b"x" * chunk
        for _ in range(total // chunk):
            handler.wfile.write(block)
            receiver.count(chunk)
    return answer


def trickle(every, status_line=b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"):
    """The answer one byte at a time, ``every`` seconds apart: no read ever times out."""
    def answer(handler):
        for byte in status_line:
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            time.sleep(every)
    return answer


@pytest.fixture
def receiver():
    with Receiver() as instance:
        yield instance
