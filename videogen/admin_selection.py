"""What staff pick in the admin — the rows ticked for an action, an id in the address bar —
read as the model's primary keys before any query sees them.

A tampered or stale value must not reach the database: ``pk__in=["abc"]`` raises in Django,
an integer beyond 64 bits raises OverflowError on SQLite and NUL is refused by PostgreSQL,
each a 500. And a row deleted in another tab is left out of an action silently unless
someone counts.

:class:`ReadOnlyAdmin` is the base of the admins of machine-written rows (job events, webhook
deliveries and events).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db.models import Field, Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import ngettext


def pk_value(field: Field, value: str) -> Any:
    """``value`` as a value of the primary key ``field``, or None when no row can have it."""
    if "\x00" in value:
        return None
    try:
        pk = field.to_python(value)
    except ValidationError:
        return None
    if isinstance(pk, int) and not -(2**63) <= pk < 2**63:
        return None
    return pk


def pk_values(field: Field, values: Iterable[str]) -> list[Any]:
    """The values that can be primary keys, once each, in their first order."""
    keys = (pk_value(field, value) for value in values)
    return list(dict.fromkeys(key for key in keys if key is not None))


if TYPE_CHECKING:
    # What the mixin is mixed into, for the type checker: super() calls reach a ModelAdmin.
    _AdminBase = admin.ModelAdmin[Any]
else:
    _AdminBase = object


class CheckedSelectionMixin(_AdminBase):
    """For a ModelAdmin: actions see only well-formed ids, and staff are told when some of
    the rows they ticked are no longer in the list (deleted, or changed so that the list's
    filters leave them out). When none is left the action does not run at all, so nothing
    asks to confirm an empty selection."""

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None
                        ) -> HttpResponse:
        _keep_valid_selection(request, self.model._meta.pk)
        return super().changelist_view(request, extra_context)

    def response_action(self, request: HttpRequest, queryset: QuerySet[Any], *args: Any,
                        **kwargs: Any) -> HttpResponse | None:
        # *args, **kwargs: Django 6.1 passes action_location (actions on the change form too).
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        if selected and request.POST.get("select_across") != "1":
            gone = len(selected) - queryset.filter(pk__in=selected).count()
            if gone:
                self.message_user(request, ngettext(
                    "%(n)d selected item is no longer in this list (deleted, or changed so "
                    "the filters leave it out); the action left it alone.",
                    "%(n)d selected items are no longer in this list (deleted, or changed so "
                    "the filters leave them out); the action left them alone.", gone)
                    % {"n": gone}, messages.WARNING)
            if gone == len(selected):
                return None
        return super().response_action(request, queryset, *args, **kwargs)


def _keep_valid_selection(request: HttpRequest, field: Field) -> None:
    if request.method != "POST" or helpers.ACTION_CHECKBOX_NAME not in request.POST:
        return
    post = request.POST.copy()
    post.setlist(helpers.ACTION_CHECKBOX_NAME, [
        str(pk) for pk in pk_values(field, request.POST.getlist(helpers.ACTION_CHECKBOX_NAME))])
    request.POST = post  # type: ignore[assignment]


class ReadOnlyAdmin(CheckedSelectionMixin, admin.ModelAdmin):
    """Machine-written rows: staff look and act, never edit."""

    class Media:
        css = {"all": ["videogen/admin/videogen.css"]}

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
