"""Journeys' part of a contact's timeline (settings.CONTACT_TIMELINE_SOURCES): each entry into a
journey, each step passed with the branch taken (and why a send was refused), and how it ended."""

from __future__ import annotations

from django.utils.translation import gettext as _

from contacts.timeline import Entry, admin_url
from journeys.models import Enrolment, EnrolmentState, EnrolmentStep
from journeys.selectors import branch_label


def journey_entries(contact, *, limit: int) -> list[Entry]:
    enrolments = list(
        Enrolment.objects.filter(contact=contact).select_related("journey").order_by("-entered_at", "-id")[:limit]
    )
    names = {e.pk: e.journey.name for e in enrolments}
    entries = []
    for enrolment in enrolments:
        url = admin_url("journeys_journey_change", enrolment.journey_id)
        title = _("Journey “%(name)s”: entered") % {"name": names[enrolment.pk]}
        entries.append(
            Entry(at=enrolment.entered_at, kind="journey", title=title, detail=enrolment.entered_by, url=url)
        )
        if enrolment.state != EnrolmentState.ACTIVE and enrolment.finished_at:
            ended = _("finished") if enrolment.state == EnrolmentState.FINISHED else _("stopped")
            title = _("Journey “%(name)s”: %(ended)s") % {"name": names[enrolment.pk], "ended": ended}
            entries.append(
                Entry(at=enrolment.finished_at, kind="journey", title=title, detail=enrolment.reason, url=url, order=1)
            )
    steps = EnrolmentStep.objects.filter(enrolment_id__in=list(names)).order_by("-at", "-id")[:limit]
    for step in steps:
        label = f"{step.step}: {branch_label(step.branch)}" if step.branch else step.step
        title = _("Journey “%(name)s”, step %(step)s") % {"name": names[step.enrolment_id], "step": label}
        entries.append(
            Entry(at=step.at, kind="journey", title=title, detail=step.reason,
                  url=admin_url("messaging_message_change", step.message_id) if step.message_id else "", order=step.pk)
        )  # fmt: skip
    return entries
