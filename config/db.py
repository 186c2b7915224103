"""Database helpers that are not one app's business."""

from __future__ import annotations

from contextlib import contextmanager

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Field
from django.db.models.lookups import In


@contextmanager
def tuned_for_counting():
    """For one aggregate over a whole audience (previews of a million contacts): on PostgreSQL,
    enough work memory to hash-aggregate instead of sorting on disk (the planner cannot estimate
    the groups of a CASE and plans for a million) and no JIT, whose compile time costs more than
    it saves on such a query. The settings last for the transaction only."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('work_mem', %s, true)", [settings.AGGREGATE_WORK_MEM])
                cursor.execute("SET LOCAL jit = off")
        yield


def _int_literal(values) -> str:
    return "{" + ",".join(map(str, values)) + "}"


def _text_literal(values) -> str:
    return (
        "{"
        + ",".join("NULL" if v is None else '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
        + "}"
    )


def pg_text_array(values) -> str:
    """A text[] literal for strings (str subclasses too) and None (NULL); see pg_array_literal."""
    return _text_literal(values)


def pg_array_literal(values) -> str | None:
    """A PostgreSQL array literal ('{1,2,"a\\"b",NULL}') for ints and strings, built with one join:
    psycopg adapts a list element by element in Python (~1 µs each, the bulk of a dispatcher's
    per-batch CPU). Elements are double-quoted with backslash escapes, the literal syntax's only
    quoting rule, and the literal travels as a parameter. None when another type is present."""
    if all(type(v) is int for v in values):
        return _int_literal(values)
    if all(type(v) is str or v is None for v in values):
        return _text_literal(values)
    return None


_TEXT_FIELDS = frozenset({"CharField", "TextField", "EmailField", "SlugField"})
_INT_FIELDS = frozenset(
    {"AutoField", "BigAutoField", "SmallAutoField", "ForeignKey"}
    | {"IntegerField", "BigIntegerField", "SmallIntegerField", "PositiveIntegerField", "PositiveBigIntegerField"}
)


def _plain(field, values):
    """(the values as a list, their literal builder) when no conversion would change them (str for
    text columns, int for integer ones), else None: Django's per-value preparation costs more than
    the query for thousands."""
    if not isinstance(values, list | tuple | set | frozenset):
        return None
    kind = field.get_internal_type()
    if kind in _TEXT_FIELDS and all(type(v) is str for v in values):
        return list(values), _text_literal
    if kind in _INT_FIELDS and all(type(v) is int for v in values):
        return list(values), _int_literal
    return None


@Field.register_lookup
class AnyOf(In):
    """`field__any_of=[…]`: `IN (…)` with one array parameter on PostgreSQL (`= ANY(%s)`), so a
    thousand ids are one parameter to adapt and no thousand placeholders to parse; elsewhere IN."""

    lookup_name = "any_of"
    literal = None  # the array literal builder when the values were taken as they are

    def get_prep_lookup(self):
        plain = _plain(self.lhs.output_field, self.rhs) if hasattr(self.lhs, "output_field") else None
        if plain is None:
            return super().get_prep_lookup()
        values, self.literal = plain
        return values

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        field = self.lhs.output_field
        if self.literal is not None:
            param = self.literal(self.rhs)
        else:
            values = [field.get_db_prep_value(v, connection) for v in self.rhs]
            literal = pg_array_literal(values)
            param = values if literal is None else literal
        # typed like the column: an int2[] for small ids would make the planner guess 10 rows
        return f"{lhs} = ANY(%s::{field.cast_db_type(connection)}[])", [*lhs_params, param]


def claim_rows(candidates, *, order_by: str, limit: int, claim, now) -> int:
    """Claim up to `limit` rows of `candidates` (a queryset) for one worker: set `claim` and
    `claimed_at` in one conditional UPDATE. On PostgreSQL one statement: rows other workers hold
    are skipped (SKIP LOCKED), the first `limit` of the others claimed (ARRAY(…) runs the pick
    once, then the update goes by primary key); elsewhere (SQLite: one writer at a time) the pick
    and an UPDATE that claims only rows still unclaimed. Returns how many rows were claimed."""
    model = candidates.model
    with transaction.atomic():
        if connection.vendor == "postgresql":
            pick, params = (
                candidates.select_for_update(skip_locked=True, of=("self",))
                .order_by(order_by)
                .values("pk")[:limit]
                .query.sql_with_params()
            )
            table = connection.ops.quote_name(model._meta.db_table)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} SET claim = %s, claimed_at = %s WHERE id = ANY(ARRAY({pick}))",  # noqa: S608
                    [claim, now, *params],
                )
                return cursor.rowcount
        picked = list(candidates.order_by(order_by).values_list("pk", flat=True)[:limit])
        if not picked:
            return 0
        return candidates.filter(pk__in=picked).update(claim=claim, claimed_at=now)
