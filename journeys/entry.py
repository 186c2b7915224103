"""How contacts enter journeys (product.md Journeys, entry and re-entry): the receivers of what
the contacts, consent and messaging apps announce, inside the transaction that did it, so an
enrolment commits with the list join, the event or the consent change that caused it. The
re-entry rule is the database's: journeys.models.Enrolment.entry_key under a unique constraint."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from consent.models import ConsentType
from contacts.models import Contact
from journeys.models import Enrolment, Entry, Journey, JourneyStatus, ReEntry

logger = logging.getLogger(__name__)
ENTRY_KEY = {ReEntry.ONCE: "once", ReEntry.ONE_AT_A_TIME: "active", ReEntry.EVERY_TIME: None}
CHUNK = 2000


def journey_enrol(*, journey: Journey, contact_ids: Iterable[int], entered_by: str, now: datetime | None = None) -> int:
    """Enter contacts into an active journey at its first step, due at once. A contact the re-entry
    rule keeps out (in it now, or ever, by the rule) is left out by the unique constraint, so two
    triggers racing cannot enter one contact twice. Returns how many entered."""
    if journey.status != JourneyStatus.ACTIVE or journey.version_id is None:
        return 0
    now = now or timezone.now()
    start = journey.version.definition["start"]
    # a one-off audience enters once, whatever the rule: a redelivered task must not enter it twice
    key = "once" if journey.entry == Entry.AUDIENCE else ENTRY_KEY[journey.re_entry]
    ids = list(dict.fromkeys(contact_ids))
    entered = 0
    for at in range(0, len(ids), CHUNK):
        chunk = ids[at : at + CHUNK]
        Enrolment.objects.bulk_create(
            [
                Enrolment(
                    journey=journey,
                    version_id=journey.version_id,
                    contact_id=pk,
                    entry_key=key,
                    entered_by=entered_by[:120],
                    step=start,
                    arrived_at=now,
                    due_at=now,
                    entered_at=now,
                )
                for pk in chunk
            ],
            ignore_conflicts=key is not None,
        )
        # who entered (the rule may have kept some out): the chunk's rows of this instant
        entered += _count(journey, chunk, now) if key is not None else len(chunk)
    if entered:
        transaction.on_commit(kick)
    return entered


def _count(journey: Journey, contact_ids: list[int], now: datetime) -> int:
    return Enrolment.objects.filter(journey=journey, contact_id__in=contact_ids, entered_at=now).count()


def kick() -> None:
    """Run due steps now (after the transaction that made them due commits)."""
    from journeys.tasks import run_journeys

    run_journeys.delay()


def _journeys(**filters) -> list[Journey]:
    return list(Journey.objects.filter(status=JourneyStatus.ACTIVE, **filters).select_related("version"))


def on_list_joined(sender, *, contact_list, contact_ids, **kwargs) -> None:
    for journey in _journeys(entry=Entry.LIST, entry_list=contact_list):
        journey_enrol(journey=journey, contact_ids=contact_ids, entered_by=f"joined the list '{contact_list.name}'")


def on_event_recorded(sender, *, event, **kwargs) -> None:
    for journey in _journeys(entry=Entry.EVENT, entry_event=event.name):
        journey_enrol(journey=journey, contact_ids=[event.contact_id], entered_by=f"event '{event.name}'")


ADDRESS = {ConsentType.MESAJ: "phone", ConsentType.ARAMA: "phone", ConsentType.EPOSTA: "email"}


def on_consent_changes(sender, *, changes, **kwargs) -> None:
    journeys = _journeys(entry=Entry.CONSENT)
    if not journeys:
        return  # the ledger's writes (a million-line import) cost nothing when no journey listens
    wanted = {(j.entry_consent_type, j.entry_consent_status) for j in journeys}
    recipients: dict[tuple[str, str], set[str]] = {}
    for change in changes:
        if change["status"] == change.get("previous_status"):
            continue  # not a change of state
        if (change["type"], change["status"]) in wanted:
            recipients.setdefault((change["type"], change["status"]), set()).add(change["recipient"])
    for journey in journeys:
        found = recipients.get((journey.entry_consent_type, journey.entry_consent_status))
        if not found:
            continue
        field = ADDRESS.get(journey.entry_consent_type, "whatsapp_number")
        ids = Contact.objects.filter(Q(**{f"{field}__in": found})).values_list("pk", flat=True)
        journey_enrol(
            journey=journey,
            contact_ids=list(ids),
            entered_by=f"consent {journey.entry_consent_type} {journey.entry_consent_status}",
        )


def journey_enrol_audience(*, journey: Journey) -> int:
    """A one-off audience: everyone its segment holds now, in chunks of ids (journeys.tasks)."""
    from messaging.segments import segment_contacts

    if journey.entry != Entry.AUDIENCE or journey.entry_segment_id is None:
        return 0
    contacts = segment_contacts(journey.entry_segment.definition).order_by("pk")
    entered, last = 0, 0
    while True:
        chunk = list(contacts.filter(pk__gt=last).values_list("pk", flat=True)[:CHUNK])
        if not chunk:
            return entered
        with transaction.atomic():
            journey = Journey.objects.select_related("version").get(pk=journey.pk)
            entered += journey_enrol(
                journey=journey, contact_ids=chunk, entered_by=f"audience '{journey.entry_segment}'"
            )
        last = chunk[-1]


def on_status_moved(sender, *, changes, **kwargs) -> None:
    """A wait for delivery takes its branch as soon as the message's final status is known."""
    from journeys.engine import enrolments_wake
    from messaging.delivery import FINAL

    final = [c["id"] for c in changes if c["status"] in FINAL]
    if final and enrolments_wake(message_ids=final):
        transaction.on_commit(kick)
