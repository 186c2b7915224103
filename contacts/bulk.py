"""Fast inserts for imports: rows as plain dicts (attname → value), ids returned in order.
On PostgreSQL the ids come from the table's sequence and the rows stream in with COPY, skipping the
ORM's per-instance work (the bulk of an import's time); elsewhere it falls back to bulk_create."""

from __future__ import annotations

import json
from operator import itemgetter

from django.db import connection, models


def _columns(model: type[models.Model]) -> dict[str, models.Field]:
    return {f.attname: f for f in model._meta.concrete_fields}


_SEQUENCES: dict[str, str] = {}


def sequence_name(cursor, model: type[models.Model]) -> str:
    """The name of the sequence behind the table's id, looked up once: inside a per-row nextval(),
    pg_get_serial_sequence() would read the catalog again for every row."""
    table = model._meta.db_table
    if table not in _SEQUENCES:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        _SEQUENCES[table] = cursor.fetchone()[0]
    return _SEQUENCES[table]


def allocate_ids(cursor, model: type[models.Model], count: int) -> list[int]:
    """`count` ids from the table's sequence."""
    cursor.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [sequence_name(cursor, model), count])
    return [r[0] for r in cursor.fetchall()]


def insert_rows(model: type[models.Model], rows: list[dict], ids: list[int] | None = None) -> list[int]:
    """Insert `rows` (attname → value, the same keys in each); returns their ids in order. `ids`:
    ids reserved with reserve_ids for these rows."""
    if not rows:
        return []
    fields = _columns(model)
    names = [n for n in rows[0] if n != "id"]
    if connection.vendor != "postgresql":
        assert ids is None, "ids are reserved on PostgreSQL only (reserve_ids returns None elsewhere)"
        objs = [model(**row) for row in rows]
        model.objects.bulk_create(objs)
        return [o.pk for o in objs]
    json_names = {n for n in names if isinstance(fields[n], models.JSONField)}
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(fields[n].column) for n in ["id", *names])
    with connection.cursor() as cursor, connection.wrap_database_errors:  # raw psycopg errors → Django's
        if ids is None:
            ids = allocate_ids(cursor, model, len(rows))
        values_of = itemgetter(*names) if len(names) > 1 else lambda row: (row[names[0]],)
        json_at = [i for i, n in enumerate(names) if n in json_names]
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for pk, row in zip(ids, rows, strict=True):
                values = values_of(row)  # a tuple, taken in C
                if json_at:
                    values = list(values)
                    for i in json_at:
                        values[i] = json.dumps(values[i])
                copy.write_row((pk, *values))
    return ids


def new_row(model: type[models.Model], now, **values) -> dict:
    """A row for insert_rows: every column at its default (auto_now/auto_now_add at `now`), then
    `values`. Defaults are computed per call, so a callable default is honoured each time."""
    row = {}
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            row[field.attname] = now
        elif field.attname in values:
            continue
        else:
            row[field.attname] = field.get_default()
    row.update(values)
    return row


def reserve_ids(model: type[models.Model], count: int) -> list[int] | None:
    """Ids for rows inserted later in this transaction (PostgreSQL: from the sequence), so other
    rows can refer to them first; None where ids cannot be reserved (SQLite)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        return allocate_ids(cursor, model, count)


def insert_objects(objs: list[models.Model]) -> None:
    """Insert unsaved instances of one model through insert_rows and give them their ids."""
    if not objs:
        return
    model = type(objs[0])
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    rows = [{f.attname: f.pre_save(obj, True) for f in fields} for obj in objs]
    for obj, pk in zip(objs, insert_rows(model, rows), strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = "default"


def update_rows(model: type[models.Model], rows: list[dict], fields: list[str]) -> int:
    """Set `fields` (attnames) on many rows at once; each row has "id" plus those fields. On
    PostgreSQL one UPDATE … FROM json_to_recordset(rows); elsewhere Django's bulk_update."""
    if not rows:
        return 0
    if connection.vendor != "postgresql":
        objs = [model(pk=row["id"], **{f: row[f] for f in fields}) for row in rows]
        return model.objects.bulk_update(objs, fields, batch_size=500)
    columns = _columns(model)
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    pk = model._meta.pk
    record = ", ".join(f"{qn(f.column)} {f.db_type(connection)}" for f in [pk, *(columns[name] for name in fields)])
    # one JSON document of the rows, typed by the column list: json.dumps is C, where psycopg would
    # adapt one array per column element by element in Python (the bulk of a batch's CPU)
    payload = json.dumps(
        [{pk.column: row["id"], **{columns[f].column: row[f] for f in fields}} for row in rows],
        default=str,  # datetimes, UUIDs and decimals in their text form, which PostgreSQL reads back
    )
    assignments = ", ".join(f"{qn(columns[f].column)} = v.{qn(columns[f].column)}" for f in fields)
    # identifiers come from model metadata and are quoted; every value is in the one parameter
    sql = (
        f"UPDATE {table} AS t SET {assignments} FROM json_to_recordset(%s::json) AS v({record}) "  # noqa: S608
        f"WHERE t.{qn(pk.column)} = v.{qn(pk.column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [payload])
        return cursor.rowcount
