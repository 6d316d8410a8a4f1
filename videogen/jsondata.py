"""JSON and text the app stores: what every supported database accepts.

PostgreSQL's ``jsonb`` refuses NUL characters (``\\u0000``) and ``NaN``/``Infinity``, which SQLite
and Python's ``json`` take; other values (sets, objects) fail to serialize at all; neither
database takes a lone surrogate (``"\\udc80"``, which has no UTF-8 form) in text. For what people
enter (job metadata, webhook headers), checking here turns what would be a database error — a
500 in the admin, an exception at ``save()`` — into a validation error on the field. What the
provider sends cannot be refused, so it is made storable instead (:func:`storable_json`,
:func:`storable_text`, :func:`storable_decimal`).
"""

from __future__ import annotations

import json
import math
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.db import DatabaseError
from django.utils.translation import gettext as _

from videogen.client.schemas import unstorable

# Objects and lists inside each other, at most. Python's json gives up near 1000 levels on 3.11
# but near 10000 on 3.12+, and SQLite's JSON_VALID check refuses more than 1000 (an
# IntegrityError): one fixed limit, far above any real document, gives the same answer
# everywhere.
MAX_DEPTH = 100
#: What a write of values the database refuses raises: its own errors, the driver's
#: ValueError/UnicodeEncodeError for text it cannot send, OverflowError for a date.
WRITE_ERRORS = (DatabaseError, ValueError, ArithmeticError)


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether ``value`` nests objects and lists more than ``limit`` levels deep."""
    containers = dict | list | tuple
    pending = [(value, 1)] if isinstance(value, containers) else []
    while pending:  # a loop, not recursion: the value may be deeper than Python's stack
        item, depth = pending.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        pending.extend((child, depth + 1) for child in children if isinstance(child, containers))
    return False


def json_problem(value: Any) -> str | None:
    """Why ``value`` cannot be stored as JSON in every database, or None when it can."""
    if too_deep(value):  # first: the same answer whether json.dumps recurses that far or not
        return _("must not nest objects and lists more than %(limit)d levels deep") % {
            "limit": MAX_DEPTH}
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
    # A loop, not recursion: too_deep() has already refused anything deep.
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


# --- Making what the provider sends storable ----------------------------------------------------


def storable_text(text: str) -> str:
    """``text`` with NULs and lone surrogates written out as escapes (``\\u0000``,
    ``\\udc80``): legible, and stored by every database. Idempotent."""
    if text.isascii() and "\x00" not in text:  # nearly every string, at C speed
        return text
    text = text.replace("\x00", "\\u0000")
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def storable_json(value: Any) -> Any:
    """``value`` (parsed JSON) with every string made storable (:func:`storable_text`, keys
    too) and ``NaN``/``Infinity`` as null."""
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False)
        text.encode("utf-8")  # a lone surrogate raises here
    except (TypeError, ValueError, RecursionError):
        pass
    else:
        if "\\u0000" not in text and not too_deep(value):  # a NUL is written as this escape
            return value
    if too_deep(value):
        return {"unstorable": "nested too deeply to store"}
    return _storable(value)


def _storable(value: Any) -> Any:
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {storable_text(key) if isinstance(key, str) else key: _storable(item)
                for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_storable(item) for item in value]
    return value


def storable_decimal(value: Decimal, max_digits: int, decimal_places: int) -> Decimal | None:
    """``value`` rounded to ``decimal_places``, or None when it does not fit a column of
    ``max_digits`` (PostgreSQL refuses it; SQLite stores it, then fails every read of the row)."""
    try:
        rounded = value.quantize(Decimal(1).scaleb(-decimal_places))
    except InvalidOperation:  # NaN, or more digits than the context holds
        return None
    if not rounded.is_finite() or abs(rounded) >= Decimal(10) ** (max_digits - decimal_places):
        return None
    return rounded


class DepthSafeDecoder(json.JSONDecoder):
    """Every malformed document is a JSONDecodeError, whatever Python's parser raised."""

    def decode(self, s: str, *args: Any, **kwargs: Any) -> Any:
        try:
            value = super().decode(s, *args, **kwargs)
        except RecursionError:
            raise json.JSONDecodeError("nested too deeply", s, 0) from None
        except ValueError as error:
            if isinstance(error, json.JSONDecodeError):
                raise
            # An integer of more than 4300 digits (sys.get_int_max_str_digits()).
            raise json.JSONDecodeError("a number too long to read", s, 0) from None
        if too_deep(value):  # what Python 3.12+ reads but 3.11 and the databases do not
            raise json.JSONDecodeError("nested too deeply", s, 0)
        return value


class JSONFormField(forms.JSONField):
    """Django's JSON form field, where JSON nested too deeply (``[[[[…]]]]``, past
    :data:`MAX_DEPTH`) or holding an integer too long for ``int()`` is "Enter a valid JSON."
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
