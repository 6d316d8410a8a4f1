from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VideogenConfig(AppConfig):
    name = "videogen"
    verbose_name = _("Video generation")
    # Pinned so host projects on either default (Django 5.2 or 6) get no spurious migration.
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate
        from django_q.signals import post_spawn

        from videogen import catalog, checks  # noqa: F401  (checks: registers the system checks)
        from videogen.conf import site_catalog
        from videogen.schedules import on_post_migrate
        from videogen.tasks import warm_up

        post_migrate.connect(on_post_migrate, sender=self, dispatch_uid="videogen-schedules")
        post_spawn.connect(warm_up, dispatch_uid="videogen-warm-up")
        catalog.use_site_catalog(site_catalog)
        # VIDEOGEN is not validated here: a bad key would stop every command, `check` too.
        # Check videogen.E008 reports it instead, and commands that run checks (runserver,
        # migrate, qcluster) stop on it.
