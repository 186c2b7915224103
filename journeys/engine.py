"""The journey engine (CONVENTIONS 13-14): workers claim due enrolments with a conditional UPDATE
(SKIP LOCKED on PostgreSQL, as dispatch claims messages), run their steps in one transaction per
batch (a step's effects, its EnrolmentStep row and the enrolment's move commit together), and
release them at their next due time. Nothing waits in a worker's memory: a wait is the
enrolment's due_at; a wait for delivery is also woken by the message's final status
(enrolments_wake, on the core's status_moved signal). A worker killed mid-batch leaves its claim;
after JOURNEY_CLAIM_TIMEOUT_SECONDS it is freed and the batch runs again from what had
committed, which is nothing of that batch; (enrolment, step) is unique, so even a worker that
outlived its claim cannot make a step's message twice."""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone, translation

from config.db import claim_rows
from contacts.bulk import insert_objects, update_rows
from journeys.graph import steps_of
from journeys.models import Enrolment, EnrolmentState, EnrolmentStep, JourneyStatus, JourneyVersion, ReEntry
from journeys.steps import Outcome, run_step

logger = logging.getLogger(__name__)
BATCH = 500
MAX_ROUNDS = 100  # a batch passes at most this many steps per enrolment (a graph has no loops)


@dataclass
class Row:
    id: int
    journey_id: int
    version_id: int
    contact_id: int
    step: str
    arrived_at: datetime
    re_entry: str
    journey_name: str


def enrolments_claim(*, limit: int = BATCH, now: datetime | None = None) -> uuid.UUID | None:
    """Claim up to `limit` due enrolments of active journeys; None when none is due."""
    now = now or timezone.now()
    claim = uuid.uuid4()
    due = Enrolment.objects.filter(
        state=EnrolmentState.ACTIVE, claim__isnull=True, due_at__lte=now, journey__status=JourneyStatus.ACTIVE
    )
    return claim if claim_rows(due, order_by="due_at", limit=limit, claim=claim, now=now) else None


class ClaimLost(RuntimeError):
    """The batch's claim was freed and taken by another worker while this one ran: roll back."""


def enrolments_advance(*, claim: uuid.UUID) -> int:
    """Run the claimed enrolments' steps until each waits or ends; returns the steps passed. A
    batch that fails is run again one enrolment at a time, and an enrolment whose step cannot run
    is stopped with the error as its reason (logged with its id), never retried forever."""
    rows = _rows(claim)
    if not rows:
        return 0
    with translation.override("en"):  # reasons are stored in one language, as every send reason
        return _advance_or_stop(rows, claim)


def _advance_or_stop(rows: list[Row], claim: uuid.UUID) -> int:
    try:
        with transaction.atomic():
            return _advance(rows, claim)
    except ClaimLost:
        logger.warning("journey batch %s: claim lost while running; its new owner runs it", claim)
        return 0
    except Exception:
        logger.warning("journey batch of %d failed; running its enrolments one by one", len(rows), exc_info=True)
    passed = 0
    for row in _rows(claim):  # read again: the failed attempt moved the rows in memory only
        try:
            with transaction.atomic():
                passed += _advance([row], claim)
        except ClaimLost:
            continue
        except Exception as exc:
            logger.exception("journey %s: enrolment %s stopped at step %s", row.journey_id, row.id, row.step)
            _stop(row, claim, reason=f"the step {row.step} could not run: {exc}"[:255])
    return passed


def _rows(claim: uuid.UUID) -> list[Row]:
    fields = (
        "id",
        "journey_id",
        "version_id",
        "contact_id",
        "step",
        "arrived_at",
        "journey__re_entry",
        "journey__name",
    )
    return [
        Row(*values[:6], re_entry=values[6], journey_name=values[7])
        for values in Enrolment.objects.filter(claim=claim, state=EnrolmentState.ACTIVE)
        .order_by("pk")
        .values_list(*fields)
    ]


def _advance(rows: list[Row], claim: uuid.UUID) -> int:
    now = timezone.now()
    ids = [r.id for r in rows]
    held = Enrolment.objects.filter(pk__in=ids, claim=claim)
    if connection.vendor == "postgresql":  # hold them: a reaper freeing a slow batch waits for its end
        if len(held.select_for_update().values_list("pk")) != len(rows):
            raise ClaimLost(claim)
    # the versions' steps, read with each batch (a few rows; ids may be reused where tests roll back)
    graphs = {
        pk: steps_of(definition)
        for pk, definition in JourneyVersion.objects.filter(pk__in={r.version_id for r in rows}).values_list(
            "pk", "definition"
        )
    }
    done: dict[tuple[int, str], Outcome] = {}
    running = list(rows)
    final: dict[int, dict] = {}
    for _round in range(MAX_ROUNDS):
        if not running:
            break
        groups: dict[tuple[int, str], list[Row]] = {}
        for row in running:
            groups.setdefault((row.version_id, row.step), []).append(row)
        running = []
        for (version_id, step_id), group in groups.items():
            graph = graphs[version_id]
            step = graph.get(step_id)
            if step is None:
                for row in group:
                    final[row.id] = _ended(row, now, EnrolmentState.STOPPED, f"the step {step_id} no longer exists")
                continue
            outcomes = run_step(step, group, journey_name=group[0].journey_name, done=done, now=now)
            for row in group:
                outcome = outcomes[row.id]
                if outcome.wait_until is not None:
                    final[row.id] = {
                        "step": row.step, "arrived_at": row.arrived_at, "due_at": outcome.wait_until,
                        "waiting_for": outcome.waiting_for,
                    }  # fmt: skip
                    continue
                done[(row.id, step_id)] = outcome
                target = step.branch(outcome.branch) if outcome.branch else ""
                if not target:
                    final[row.id] = _ended(row, now, EnrolmentState.FINISHED, "")
                    continue
                row.step, row.arrived_at = target, now
                running.append(row)
    for row in running:  # still moving after MAX_ROUNDS (only a graph longer than that): next batch
        final[row.id] = {"step": row.step, "arrived_at": row.arrived_at, "due_at": now, "waiting_for": None}
    if done:
        by_id = {r.id: r for r in rows}
        insert_objects(
            [
                EnrolmentStep(
                    enrolment_id=enrolment_id,
                    journey_id=by_id[enrolment_id].journey_id,
                    version_id=by_id[enrolment_id].version_id,
                    step=step_id,
                    branch=o.branch,
                    message_id=o.message_id,
                    reason=o.reason[:255],
                    at=now,
                )
                for (enrolment_id, step_id), o in done.items()
            ]
        )
    if held.count() != len(rows):  # under the write lock now (SQLite), or the rows' locks (PostgreSQL)
        raise ClaimLost(claim)
    changes: dict[tuple, list[dict]] = {}
    for pk, change in final.items():
        change = {**change, "claim": None, "claimed_at": None}
        changes.setdefault(tuple(sorted(change)), []).append({"id": pk, **change})
    for fields, group in changes.items():
        update_rows(Enrolment, group, list(fields))
    return len(done)


def _ended(row: Row, now: datetime, state: str, reason: str) -> dict:
    change = {
        "state": state, "step": row.step, "arrived_at": row.arrived_at, "finished_at": now, "due_at": None,
        "waiting_for": None, "reason": reason,
    }  # fmt: skip
    if row.re_entry == ReEntry.ONE_AT_A_TIME:
        change["entry_key"] = None  # the contact may enter again
    return change


def _stop(row: Row, claim: uuid.UUID, reason: str = "") -> None:
    change = _ended(row, timezone.now(), EnrolmentState.STOPPED, reason or f"the step {row.step} could not run")
    Enrolment.objects.filter(pk=row.id, claim=claim).update(**change, claim=None, claimed_at=None)


def enrolments_run_due(*, budget_seconds: float | None = None, limit: int = BATCH) -> int:
    """Claim and run due enrolments until none is due or the time budget is spent."""
    deadline = None if budget_seconds is None else time.monotonic() + budget_seconds
    passed = 0
    while deadline is None or time.monotonic() < deadline:
        claim = enrolments_claim(limit=limit)
        if claim is None:
            break
        passed += enrolments_advance(claim=claim)
    return passed


def enrolments_free_stale(*, now: datetime | None = None) -> int:
    """Claims of workers that stopped: their batches rolled back, so they simply run again."""
    older = (now or timezone.now()) - timedelta(seconds=settings.JOURNEY_CLAIM_TIMEOUT_SECONDS)
    return Enrolment.objects.filter(claim__isnull=False, claimed_at__lt=older).update(claim=None, claimed_at=None)


def enrolments_wake(*, message_ids: list[int], now: datetime | None = None) -> int:
    """Enrolments waiting for these messages' delivery are due now (the report decides at once)."""
    if not message_ids:
        return 0
    # waiting_for is cleared whenever an enrolment moves or ends, so its partial index alone finds them
    return Enrolment.objects.filter(waiting_for__in=message_ids).update(due_at=now or timezone.now(), waiting_for=None)
