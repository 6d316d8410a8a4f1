"""The demo's example webhook receiver: verifies the signature, logs and lists what arrived."""

import json
import logging
from collections import deque

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from videogen.models import WebhookEndpoint
from videogen.webhooks import WebhookVerificationError, verify

logger = logging.getLogger("videogen.demo")
RECEIVED: deque = deque(maxlen=50)
DEMO_ENDPOINT_KEY = "demo-receiver"


@csrf_exempt
def webhook_receiver(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        # What arrived is job data: staff only, like the admin it comes from.
        if not request.user.is_staff:
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        return render(request, "demo/webhooks.html", {"received": list(RECEIVED)})
    endpoint = WebhookEndpoint.objects.filter(settings_key=DEMO_ENDPOINT_KEY).first()
    secrets = endpoint.active_secrets() if endpoint else []
    try:
        verify(request.body, request.headers, secrets)
    except WebhookVerificationError as error:
        logger.warning("demo receiver refused a webhook: %s", error)
        return HttpResponse(str(error), status=400)
    event = json.loads(request.body)
    RECEIVED.appendleft({"id": request.headers["webhook-id"], "type": event["type"],
                         "job": event["data"].get("id"), "status": event["data"].get("status"),
                         "body": json.dumps(event, indent=2)})
    logger.info("demo receiver got %s %s for job %s (signature verified)", event["type"],
                request.headers["webhook-id"], event["data"].get("id"))
    return HttpResponse(status=204)
