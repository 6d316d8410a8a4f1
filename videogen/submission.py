"""Sending a job to the provider: the one POST of its life, and what its answer means.

The state changes are :mod:`videogen.lifecycle`'s; this module decides which one an answer
calls for. ``draft → submitting`` is committed *before* the POST (the API has no idempotency
key), so a crash or an unknown outcome leaves the job visibly in ``submitting``; it is never
re-POSTed automatically (staff may, with :func:`resubmit`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from videogen import budget, catalog, lifecycle
from videogen.client import errors as api_errors
from videogen.client.schemas import CreateVideoRequest
from videogen.conf import require_api_key
from videogen.models import VideoJob
from videogen.provider import video_client

if TYPE_CHECKING:
    from videogen.models import Actor

#: Answers that refuse the create: nothing was started at the provider.
REFUSALS = (api_errors.BadRequest, api_errors.AuthenticationError, api_errors.PermissionDenied,
            api_errors.PaymentRequired, api_errors.NotFound, api_errors.RateLimited)


def build_request(job: VideoJob) -> CreateVideoRequest:
    """The create request a job stands for (raises pydantic's ``ValidationError``)."""
    return CreateVideoRequest.model_validate(job.request_fields())


def check_request(job: VideoJob) -> list[catalog.Problem]:
    """Problems with the job's request against the site's catalog."""
    _, problems = catalog.parse(job.request_fields())
    return problems


def submit(job: VideoJob, *, actor: Actor = None) -> VideoJob:
    """draft → submitting (committed) → POST → queued/in_progress, or failed, or left
    submitting when the outcome is unknown. Raises InvalidTransition / BudgetExceeded /
    NotConfigured (the job then stays a draft)."""
    require_api_key()
    problems = [p for p in check_request(job) if p.is_error]
    if problems:
        return lifecycle.invalid_request(job, problems, actor=actor)
    budget.check_budget(job)
    lifecycle.start_sending(job, actor=actor)
    return _send_create(job, actor)


def resubmit(job: VideoJob, *, actor: Actor = None) -> VideoJob:
    """Staff explicitly send an uncertain ``submitting`` job again (they accept the risk)."""
    lifecycle.back_to_draft(job, actor=actor)
    return submit(job, actor=actor)


def _send_create(job: VideoJob, actor: Actor) -> VideoJob:
    request = build_request(job)
    client = video_client()
    try:
        remote = client.create(request)
    except api_errors.SubmissionOutcomeUnknown as error:
        return lifecycle.outcome_unknown(job, str(error), actor=actor)
    except REFUSALS as error:
        return lifecycle.refused_by_provider(job, error, actor=actor)
    except api_errors.APIConnectionError as error:
        if getattr(error, "request_sent", False):
            return lifecycle.outcome_unknown(job, str(error), actor=actor)
        return lifecycle.refused_by_provider(job, error, actor=actor)
    except api_errors.VideoAPIError as error:
        if error.status_code == 503:
            # "Overloaded": the provider refused the create; nothing was started.
            return lifecycle.refused_by_provider(job, error, actor=actor)
        # Any other 5xx after the request arrived: the job may or may not exist.
        return lifecycle.outcome_unknown(job, str(error), actor=actor)
    finally:
        client.close()
    return lifecycle.accepted(job, remote, actor=actor)
