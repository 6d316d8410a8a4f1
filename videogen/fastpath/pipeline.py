"""A download hashed and written on two threads of their own while the next bytes arrive.

The plain way, ``digest.update(chunk); file.write(chunk)`` in the receiving loop, queues the
three steps behind one another. hashlib and file writes release the GIL, so on two cores they
overlap each other and the receiving (sha256 alone costs 0.6 s per GiB). These threads and
the large reads of :mod:`videogen.client.large_reads` together took a 1 GiB archive from 0.59
of ``curl -o file``'s throughput to 0.73–0.76 (medians of two runs of 4 rounds), with peak
RSS growth at 17.6–17.8 MiB (bench/README.md, P3).
"""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Callable
from typing import IO

from videogen.exceptions import ArchiveError

#: What one thread's queue carries: a batch of chunks, or None to stop.
_Batch = list[bytes] | None


class HashingWriter:
    """``put`` each chunk; ``stop``, then ``result()`` is the sha256 and ``size`` the byte count.

    Chunks go over in batches of about ``BATCH_BYTES`` (one queue hand-off per batch, not per
    network read); each thread's queue holds at most ``QUEUED_BATCHES``, so memory stays flat
    whatever the file's size (about 15 MiB of P3's peak). A failed write raises
    :class:`~videogen.exceptions.ArchiveError` from the next ``put`` or from ``result``.
    """

    BATCH_BYTES = 1024 * 1024
    QUEUED_BATCHES = 8

    def __init__(self, file: IO[bytes]) -> None:
        self.size = 0
        self._digest = hashlib.sha256()
        self._error: Exception | None = None
        self._batch: list[bytes] = []
        self._batch_bytes = 0
        self._queues: list[queue.Queue[_Batch]] = []
        self._threads = [self._start(self._digest.update, "hash"), self._start(file.write, "write")]

    def _start(self, consume: Callable[[bytes], object], name: str) -> threading.Thread:
        batches: queue.Queue[_Batch] = queue.Queue(maxsize=self.QUEUED_BATCHES)
        self._queues.append(batches)
        thread = threading.Thread(target=self._run, args=(batches, consume), daemon=True,
                                  name=f"videogen-archive-{name}")
        thread.start()
        return thread

    def put(self, chunk: bytes) -> None:
        if self._error is not None:
            raise self._failed()
        self.size += len(chunk)
        self._batch.append(chunk)
        self._batch_bytes += len(chunk)
        if self._batch_bytes >= self.BATCH_BYTES:
            self._hand_over(self._batch)

    def _hand_over(self, batch: _Batch) -> None:
        for batches in self._queues:
            batches.put(batch)
        self._batch, self._batch_bytes = [], 0

    def _run(self, batches: queue.Queue[_Batch], consume: Callable[[bytes], object]) -> None:
        while (batch := batches.get()) is not None:
            if self._error is None:  # after a failure, drain so the caller never blocks
                try:
                    for chunk in batch:
                        consume(chunk)
                except Exception as error:
                    self._error = error

    def stop(self) -> None:
        self._hand_over(self._batch)
        self._hand_over(None)
        for thread in self._threads:
            thread.join()

    def result(self) -> str:
        if self._error is not None:
            raise self._failed()
        return self._digest.hexdigest()

    def _failed(self) -> ArchiveError:
        return ArchiveError(f"could not write the download to a temporary file: {self._error}")
