from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from videogen.schedules import ensure_schedules
from videogen.webhooks.endpoints import sync_settings_endpoints


class Command(BaseCommand):
    help = _("Create or update videogen's django-q2 schedules (safe to run repeatedly).")

    def handle(self, *args: Any, **options: Any) -> None:
        for name in ensure_schedules():
            self.stdout.write(_("Schedule ready: %(name)s") % {"name": name})
        for endpoint in sync_settings_endpoints():
            self.stdout.write(_("Webhook endpoint from settings: %(key)s → %(url)s")
                              % {"key": endpoint.settings_key, "url": endpoint.url})
