"""Many jobs' routine poll bookkeeping written back at once, each row guarded by its status.

The plain way gives the same rows: ``VideoJob.objects.filter(pk=job.pk,
status=job.status).update(**fields)`` for each job. Hand-written, one statement per handful
costs 0.23–0.27 ms per job on SQLite (``executemany`` of ``UPDATE … WHERE id = %s AND status
= %s``), a tenth of Django's ``bulk_update`` (a CASE WHEN per field and row); on PostgreSQL,
where a statement per row made the server update the row's seven indexes 2,000 separate times
(0.87–1.13 s for 2,000 rows), one ``UPDATE … FROM (VALUES …)`` per handful takes 0.36–0.52 s
(bench/README.md, P1, "What the numbers show" 4).

Which polls are routine (they change no status) and what they write is
:mod:`videogen.lifecycle`'s (``is_routine``, ``routine_fields``, ``storable_poll``); every
status change still goes through :func:`videogen.lifecycle.transition`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from django.db import connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field

from videogen.jsondata import WRITE_ERRORS
from videogen.models import VideoJob

# The logger these writes always had: a site's LOGGING that names it keeps working.
logger = logging.getLogger("videogen.lifecycle")

#: A job and the fields to write on it (already storable: ``lifecycle.storable_poll``).
Row = tuple[VideoJob, dict[str, Any]]


def write_guarded(rows: Sequence[Row]) -> list[tuple[VideoJob, Exception]]:
    """Write each row's fields, unless its job's status changed since the poller read it (a
    cancel, another poller); returns the rows the database refused, each with its error.

    Should the database refuse a value, the one statement fails for all: each row is then
    written alone, and only the rows refused again are returned. The written fields are set
    on the jobs too.
    """
    try:
        _write(rows)
    except WRITE_ERRORS as error:
        if len(rows) == 1:
            return [(rows[0][0], error)]
        logger.warning("a routine write of %d polls failed (%s); writing them one by one",
                       len(rows), type(error).__name__)
        return [failed for row in rows if (failed := _write_alone(row))]
    return []


def _write_alone(row: Row) -> tuple[VideoJob, Exception] | None:
    try:
        _write([row])
    except WRITE_ERRORS as error:
        return row[0], error
    return None


def _write(rows: Sequence[Row]) -> None:
    if not rows:
        return
    columns = [_field(name) for name in sorted({name for _, fields in rows for name in fields})]
    pk = _field(VideoJob._meta.pk.name)
    connection = connections[router.db_for_write(VideoJob)]
    # Every row writes every column any of these rows touched (its own value, or the one it
    # had), then its key and guard (the order of both statements' parameters).
    values = [[column.get_db_prep_save(fields[column.name] if column.name in fields
                                       else getattr(job, column.attname), connection)
               for column in columns]
              + [pk.get_db_prep_save(job.pk, connection), job.status]
              for job, fields in rows]
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_update_from_values(connection, columns, pk, len(values)),
                           [value for row in values for value in row])
        else:
            cursor.executemany(_update_one(connection, columns, pk), values)
    for job, fields in rows:
        for name, value in fields.items():
            setattr(job, name, value)


def _update_one(connection: BaseDatabaseWrapper, columns: list[Field[Any, Any]],
                pk: Field[Any, Any]) -> str:
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{_quoted(connection, column)} = %s" for column in columns)
    # Only quoted model column names are interpolated; every value is a parameter.
    return (f"UPDATE {quote(VideoJob._meta.db_table)} SET {assignments} "  # noqa: S608
            f"WHERE {_quoted(connection, pk)} = %s AND {_status_column(connection)} = %s")


def _update_from_values(connection: BaseDatabaseWrapper, columns: list[Field[Any, Any]],
                        pk: Field[Any, Any], count: int) -> str:
    table = connection.ops.quote_name(VideoJob._meta.db_table)
    # Typed placeholders: a VALUES list has no column types of its own (NULLs would be text).
    row = "(" + ", ".join(f"CAST(%s AS {field.db_type(connection)})"
                          for field in [*columns, pk]) + ", %s)"
    names = ", ".join(_quoted(connection, field) for field in [*columns, pk])
    assignments = ", ".join(f"{_quoted(connection, c)} = v.{_quoted(connection, c)}"
                            for c in columns)
    key = _quoted(connection, pk)
    return (f"UPDATE {table} SET {assignments} "  # noqa: S608 (names and types are the model's)
            f"FROM (VALUES {', '.join([row] * count)}) AS v({names}, seen_status) "
            f"WHERE {table}.{key} = v.{key} "
            f"AND {table}.{_status_column(connection)} = v.seen_status")


def _field(name: str) -> Field[Any, Any]:
    """The model field ``name``: every one written here is a column of the job's table."""
    field = VideoJob._meta.get_field(name)
    assert isinstance(field, Field)
    return field


def _quoted(connection: BaseDatabaseWrapper, field: Field[Any, Any]) -> str:
    assert field.column is not None  # a concrete field has its column
    return connection.ops.quote_name(field.column)


def _status_column(connection: BaseDatabaseWrapper) -> str:
    return _quoted(connection, _field("status"))
