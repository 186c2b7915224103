"""Database helpers that are not one app's business."""

from __future__ import annotations

from contextlib import contextmanager

from django.conf import settings
from django.db import connection, transaction


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
