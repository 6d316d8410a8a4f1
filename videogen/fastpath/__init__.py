"""Speed-ups, each earned by a figure in ``bench/README.md``; the domain modules call them by
name and read as plain Django.

Each module says what it replaces (the plain way, which would give the same result) and
quotes the figure that keeps it:

- :mod:`~videogen.fastpath.fetcher`: the poller's GETs on an event loop in a thread of its own,
  while the caller claims and writes back (P1);
- :mod:`~videogen.fastpath.bulk_update`: routine polls written back in one statement per
  handful instead of a ``QuerySet.update`` per job (P1);
- :mod:`~videogen.fastpath.pipeline`: a download hashed and written on two threads while the
  next bytes arrive (P3);
- :mod:`~videogen.fastpath.snapshot`: after-commit follow-ups of a transition reuse the row it
  saved instead of reading it again (P4).

The client's two (it stays free of Django, so they live beside it): the connection pools
split in eights, :mod:`videogen.client.pools` (P1), and large network reads while a download
streams, :mod:`videogen.client.large_reads` (P3).

Arrows point one way: these modules import the models and Django, never the domain modules
(polling, archive, lifecycle) that call them.
"""
