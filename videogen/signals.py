"""The public signals. Each is sent once per transition, after the transaction commits.

Receivers get ``sender=VideoJob`` and ``job`` (the job as committed); see docs/signals.md for the
other arguments. A receiver that raises is logged and does not stop other receivers, the job or
the worker (signals are sent with ``send_robust``). Keep receivers fast: they run in the web
request or task that made the change; enqueue slow work instead.
"""

from django.dispatch import Signal

#: ``job``, ``remote_id``: the provider accepted the job.
job_submitted = Signal()
#: ``job``, ``old``, ``new``: any status change (also sent alongside the specific signals below).
job_status_changed = Signal()
#: ``job``: the video is completed *and* archived (``job.video`` is a durable file).
job_completed = Signal()
#: ``job``, ``error_code``, ``error_message``: the job failed (provider, validation or time-out).
job_failed = Signal()
#: ``job``, ``remote_may_finish``: the job was cancelled (locally when the provider cannot).
job_cancelled = Signal()
#: ``job``, ``name``, ``size``, ``sha256``: the archived file was saved to storage.
video_archived = Signal()
