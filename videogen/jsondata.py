"""JSON the app stores for people (job metadata, webhook headers): what every supported
database accepts.

PostgreSQL's ``jsonb`` refuses NUL characters (``\\u0000``), lone surrogates (``\\udc80``) and
``NaN``/``Infinity``, which SQLite and Python's ``json`` take; other values (sets, objects) fail
to serialize at all. Checking here turns what would be a database error — a 500 in the admin,
an exception at ``save()`` — into a validation error on the field.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext as _

from videogen.client.schemas import unstorable


def json_problem(value: Any) -> str | None:
    """Why ``value`` cannot be stored as JSON in every database, or None when it can."""
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return _("must be plain JSON (objects, lists, strings, finite numbers, true, false, "
                 "null)")
    if _has_unstorable(value):
        return _("must not contain NUL (\\u0000) or lone surrogate (\\ud800-\\udfff) "
                 "characters")
    return None


def _has_unstorable(value: Any) -> bool:
    # A loop, not recursion: json.dumps has already refused anything absurdly deep.
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str) and unstorable(item):
            return True
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return False


class DepthSafeDecoder(json.JSONDecoder):
    """Every malformed document is a JSONDecodeError, whatever Python's parser raised."""

    def decode(self, s: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().decode(s, *args, **kwargs)
        except RecursionError:
            raise json.JSONDecodeError("nested too deeply", s, 0) from None
        except ValueError as error:
            if isinstance(error, json.JSONDecodeError):
                raise
            # An integer of more than 4300 digits (sys.get_int_max_str_digits()).
            raise json.JSONDecodeError("a number too long to read", s, 0) from None


class JSONFormField(forms.JSONField):
    """Django's JSON form field, where JSON nested too deeply for Python's parser
    (``[[[[…]]]]``) or holding an integer too long for ``int()`` is "Enter a valid JSON."
    instead of a RecursionError or ValueError (a 500)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["decoder"] = kwargs.get("decoder") or DepthSafeDecoder
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        # A refused value is shown again as typed; a lone surrogate in it has no UTF-8 form
        # and would fail the whole page (a 500), so such a value is shown escaped.
        text = super().prepare_value(value)
        if isinstance(text, str) and unstorable(text.replace("\x00", "")):
            return json.dumps(value, ensure_ascii=True, cls=self.encoder)
        return text
