"""Writes to journeys (CONVENTIONS: services): saving steps as a new version, the status moves
(activate checks the graph and what it sends through; pause; resume; archive stops who is in it),
moving contacts in flight to the latest version, and a definition as a file (export/import)."""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from journeys.entry import kick
from journeys.graph import SEND_SMS, SEND_WHATSAPP, definition_problems, steps_of
from journeys.models import (
    Enrolment,
    EnrolmentState,
    Entry,
    Journey,
    JourneyStatus,
    JourneyVersion,
    ReEntry,
)
from messaging.channels import adapter
from messaging.selectors import NoAccount, channel_account
from providers.base import Channel

FILE_FORMAT = "panel-journey/1"


class JourneyError(ValueError):
    """A status move or an import the journey does not allow, in the user's words."""


@transaction.atomic
def journey_save_steps(*, journey: Journey, definition: dict, acting_user=None) -> JourneyVersion:
    """Save the steps as the journey's next version (the same steps: nothing new). Contacts in
    flight stay on the version they entered; new ones follow this one."""
    if problems := definition_problems(definition):
        raise ValidationError({"definition": problems})
    if acting_user is not None and not acting_user.has_perm("messaging.send_transactional"):
        for sid, step in steps_of(definition).items():
            if step.type == SEND_SMS and step.config.get("kind") == "transactional":
                raise ValidationError(
                    {"definition": [f"step {sid}: you may not choose transactional (it skips the SMS consent checks)"]}
                )
    current = journey.version
    if current is not None and current.definition == definition:
        return current
    if current is not None and journey.status == JourneyStatus.DRAFT:  # nobody can have entered: edited in place
        JourneyVersion.objects.filter(pk=current.pk).update(definition=definition)
        current.definition = definition
        Journey.objects.filter(pk=journey.pk).update(updated_at=timezone.now())
        return current
    number = (journey.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = JourneyVersion.objects.create(
        journey=journey, number=number, definition=definition, created_by=acting_user
    )
    Journey.objects.filter(pk=journey.pk).update(version=version, updated_at=timezone.now())
    journey.version = version
    return version


def activation_problems(journey: Journey) -> list[str]:
    """The graph's problems, the entry's, and what needs the database: every account a send step
    names exists and is active, every WhatsApp template is approved for it."""
    if journey.version is None:
        return ["the journey has no steps"]
    definition = journey.version.definition
    problems = definition_problems(definition)
    problems += entry_problems(journey)
    if problems:
        return problems
    for sid, step in steps_of(definition).items():
        if step.type not in (SEND_SMS, SEND_WHATSAPP):
            continue
        channel = Channel.SMS if step.type == SEND_SMS else Channel.WHATSAPP
        try:
            account = channel_account(channel, step.config.get("account") or None)
        except NoAccount as exc:
            problems.append(f"step {sid}: {exc}".replace("with --account", "in the step"))
            continue
        problems += [
            f"step {sid}: {p}"
            for p in adapter(channel).content_problems(
                account=account,
                kind=step.config.get("kind") or "",
                text=step.config.get("text") or "",
                template=step.config.get("template") or "",
                language=step.config.get("language") or "",
                sender=step.config.get("sender") or "",
            )
        ]
    return problems


def entry_problems(journey: Journey) -> list[str]:
    if journey.entry == Entry.LIST and journey.entry_list_id is None:
        return ["choose the list whose new members enter"]
    if journey.entry == Entry.EVENT and not journey.entry_event:
        return ["name the event that makes contacts enter"]
    if journey.entry == Entry.CONSENT and not (journey.entry_consent_type and journey.entry_consent_status):
        return ["choose the consent type and status that make contacts enter"]
    if journey.entry == Entry.AUDIENCE and journey.entry_segment_id is None:
        return ["choose the audience that enters"]
    return []


@transaction.atomic
def journey_activate(*, journey: Journey, acting_user=None) -> Journey:
    """Draft or paused → active, once the graph and what it sends through are checked. A one-off
    audience enters as soon as it commits (journeys.tasks)."""
    journey = Journey.objects.select_for_update(of=("self",)).select_related("version").get(pk=journey.pk)
    if journey.status not in (JourneyStatus.DRAFT, JourneyStatus.PAUSED):
        raise JourneyError(f"a journey that is {journey.get_status_display().lower()} cannot be activated")
    if problems := activation_problems(journey):
        raise JourneyError("; ".join(problems))
    first = journey.activated_at is None
    journey.status, journey.status_reason = JourneyStatus.ACTIVE, ""
    journey.activated_at = journey.activated_at or timezone.now()
    journey.save(update_fields=["status", "status_reason", "activated_at", "updated_at"])
    if first and journey.entry == Entry.AUDIENCE:
        transaction.on_commit(lambda: _enrol_audience(journey.pk))
    transaction.on_commit(kick)
    return journey


def _enrol_audience(journey_id: int) -> None:
    from journeys.tasks import enrol_audience

    enrol_audience.delay(journey_id)


@transaction.atomic
def journey_pause(*, journey: Journey, acting_user=None) -> Journey:
    """Active → paused: nobody moves on (timers that come due wait) and nobody enters."""
    journey = Journey.objects.select_for_update().get(pk=journey.pk)
    if journey.status != JourneyStatus.ACTIVE:
        raise JourneyError("only an active journey can be paused")
    journey.status = JourneyStatus.PAUSED
    journey.save(update_fields=["status", "updated_at"])
    return journey


@transaction.atomic
def journey_archive(*, journey: Journey, acting_user=None) -> int:
    """Any state → archived: the contacts in it stop where they are. Returns how many stopped."""
    journey = Journey.objects.select_for_update().get(pk=journey.pk)
    journey.status = JourneyStatus.ARCHIVED
    journey.save(update_fields=["status", "updated_at"])
    return Enrolment.objects.filter(journey=journey, state=EnrolmentState.ACTIVE).update(
        state=EnrolmentState.STOPPED, reason="the journey was archived", finished_at=timezone.now(), due_at=None,
        waiting_for=None, entry_key=None if journey.re_entry == ReEntry.ONE_AT_A_TIME else F("entry_key"),
    )  # fmt: skip


@transaction.atomic
def journey_move_to_latest(*, journey: Journey, acting_user=None) -> int:
    """Move the contacts in flight on older versions to the latest one, at the step of the same
    name (those whose step it lacks stay where they are). Returns how many moved."""
    latest = journey.version
    if latest is None:
        return 0
    names = list(steps_of(latest.definition))
    return (
        Enrolment.objects.filter(journey=journey, state=EnrolmentState.ACTIVE, step__in=names, claim__isnull=True)
        .exclude(version=latest)
        .update(version=latest)
    )


def journey_export(*, journey: Journey) -> str:
    """The journey as a file ops can keep under version control and import elsewhere."""
    document = {
        "format": FILE_FORMAT,
        "name": journey.name,
        "description": journey.description,
        "entry": {
            "kind": journey.entry,
            "list": journey.entry_list.name if journey.entry_list_id else "",
            "event": journey.entry_event,
            "consent_type": journey.entry_consent_type,
            "consent_status": journey.entry_consent_status,
            "segment": journey.entry_segment.name if journey.entry_segment_id else "",
        },
        "re_entry": journey.re_entry,
        "definition": journey.version.definition if journey.version_id else {},
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


@transaction.atomic
def journey_import(*, text: str, acting_user=None) -> Journey:
    """A file of journey_export as a journey: a new draft, or the steps saved as the next version
    of the journey of that name (its status is kept). Lists and segments are found by name."""
    from contacts.models import ContactList
    from messaging.models import Segment

    try:
        document = json.loads(text)
    except ValueError as exc:
        raise JourneyError(f"the file is not JSON: {exc}") from None
    if not isinstance(document, dict) or document.get("format") != FILE_FORMAT:
        raise JourneyError(f"the file is not a journey (its format is not {FILE_FORMAT})")
    name = str(document.get("name") or "").strip()
    if not name:
        raise JourneyError("the journey in the file has no name")
    entry = document.get("entry") or {}
    fields = {
        "description": str(document.get("description") or "")[:500],
        "entry": entry.get("kind") or Entry.LIST,
        "entry_event": entry.get("event") or "",
        "entry_consent_type": entry.get("consent_type") or "",
        "entry_consent_status": entry.get("consent_status") or "",
        "re_entry": document.get("re_entry") or ReEntry.ONCE,
        "entry_list": None,
        "entry_segment": None,
    }
    if fields["entry"] not in Entry.values:
        raise JourneyError(f"'{fields['entry']}' is not a kind of entry")
    if fields["re_entry"] not in ReEntry.values:
        raise JourneyError(f"'{fields['re_entry']}' is not a re-entry rule")
    if entry.get("list"):
        fields["entry_list"] = ContactList.objects.filter(name=entry["list"]).first()
        if fields["entry_list"] is None:
            raise JourneyError(f"there is no list named '{entry['list']}'")
    if entry.get("segment"):
        fields["entry_segment"] = Segment.objects.filter(name=entry["segment"]).first()
        if fields["entry_segment"] is None:
            raise JourneyError(f"there is no segment named '{entry['segment']}'")
    journey = Journey.objects.filter(name=name).first()
    if journey is None:
        journey = Journey.objects.create(name=name[:200], created_by=acting_user, **fields)
    else:
        for field, value in fields.items():
            setattr(journey, field, value)
        journey.save()
    try:
        journey_save_steps(journey=journey, definition=document.get("definition") or {}, acting_user=acting_user)
    except ValidationError as exc:
        raise JourneyError("; ".join(exc.messages)) from None
    return journey
