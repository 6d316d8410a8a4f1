"""``manage.py videogen_sandbox``: run the local provider sandbox until Ctrl-C.

A thin wrapper over ``python -m videogen.sandbox`` (same options); see docs/sandbox.md.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from videogen.sandbox import cli
from videogen.sandbox.render import MediaMissing


class Command(BaseCommand):
    help = "Serve the local Together video API sandbox (real HTTP, real rendered clips)."

    def add_arguments(self, parser: CommandParser) -> None:
        cli.add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            cli.serve(options, out=self.stdout)
        except MediaMissing as error:  # PyAV, the "media" extra
            raise CommandError(str(error)) from None
        except ValueError as error:  # a bad --fault rule, say
            raise CommandError(str(error)) from None
        except OSError as error:  # the port is taken, say
            raise CommandError(f"cannot serve: {error}") from None
