"""Reads for the journey pages: the diagram (steps by layer, each in words, with how many contacts
are at it now and how many took each of its branches)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from journeys.graph import BRANCHES, layers, steps_of
from journeys.models import Enrolment, EnrolmentState, EnrolmentStep, Journey


def branch_label(name: str) -> str:
    return {
        "next": _("then"),
        "not_sent": _("not sent"),
        "delivered": _("delivered"),
        "not_delivered": _("not delivered"),
        "yes": _("yes"),
        "no": _("no"),
    }.get(name, name)


def step_type_label(kind: str) -> str:
    return {
        "send_sms": _("Send SMS"),
        "send_whatsapp": _("Send WhatsApp template"),
        "wait": _("Wait"),
        "wait_delivery": _("Wait for delivery"),
        "condition": _("Condition"),
        "exit": _("Exit"),
    }.get(kind, kind)


def duration_words(seconds: int) -> str:
    if seconds and seconds % 86400 == 0:
        return ngettext("%(n)d day", "%(n)d days", seconds // 86400) % {"n": seconds // 86400}
    if seconds and seconds % 3600 == 0:
        return ngettext("%(n)d hour", "%(n)d hours", seconds // 3600) % {"n": seconds // 3600}
    if seconds and seconds % 60 == 0:
        return ngettext("%(n)d minute", "%(n)d minutes", seconds // 60) % {"n": seconds // 60}
    return ngettext("%(n)d second", "%(n)d seconds", seconds) % {"n": seconds}


def step_summary(step: dict) -> str:
    """One line saying what the step does, in the user's language."""
    kind = step.get("type")
    if kind == "send_sms":
        what = (
            _("template “%(name)s”") % {"name": step["template"]}
            if step.get("template")
            else f"“{step.get('text', '')[:60]}”"
        )
        kind_word = _("transactional") if step.get("kind") == "transactional" else _("newsletter")
        return f"{what} · {kind_word}"
    if kind == "send_whatsapp":
        return _("template “%(name)s” (%(language)s)") % {
            "name": step.get("template", ""),
            "language": step.get("language") or "—",
        }
    if kind == "wait":
        if step.get("until"):
            return _("until %(time)s (Istanbul time)") % {"time": step["until"]}
        return _("for %(duration)s") % {"duration": duration_words(int(step.get("seconds") or 0))}
    if kind == "wait_delivery":
        return _("of %(step)s, at most %(duration)s") % {
            "step": step.get("of", ""),
            "duration": duration_words(int(step.get("seconds") or 0)),
        }
    if kind == "condition":
        n = len((step.get("conditions") or {}).get("conditions") or [])
        match = (step.get("conditions") or {}).get("match", "all")
        words = ngettext("%(n)d condition", "%(n)d conditions", n) % {"n": n}
        if n > 1:
            words += " · " + (_("all must hold") if match == "all" else _("any may hold"))
        if message := step.get("message"):
            check = (
                _("the message of %(step)s was delivered")
                if message.get("state") == "delivered"
                else _("the message of %(step)s was not delivered")
            ) % {"step": message.get("of", "")}
            words = f"{words} · {check}" if n else check
        return words
    return ""


@dataclass
class Branch:
    name: str
    label: str
    target: str
    count: int


@dataclass
class Box:
    id: str
    type: str
    type_label: str
    summary: str
    here: int
    passed: int
    branches: list[Branch] = field(default_factory=list)


def journey_diagram(journey: Journey) -> dict:
    """The steps of the journey's latest version, layer by layer from the first, with counts over
    every version (a step keeps its name across versions)."""
    definition = journey.version.definition if journey.version_id else {"start": "", "steps": {}}
    here = dict(
        Enrolment.objects.filter(journey=journey, state=EnrolmentState.ACTIVE)
        .values_list("step")
        .annotate(n=Count("pk"))
        .order_by()
    )
    taken: dict[tuple[str, str], int] = {}
    for step, branch, n in (
        EnrolmentStep.objects.filter(journey=journey).values_list("step", "branch").annotate(n=Count("pk")).order_by()
    ):
        taken[(step, branch)] = n
    graph = steps_of(definition)
    rows = []
    for layer in layers(definition) if graph else []:
        row = []
        for sid in layer:
            step = graph[sid]
            box = Box(
                id=sid,
                type=step.type,
                type_label=step_type_label(step.type),
                summary=step_summary(step.config),
                here=here.get(sid, 0),
                passed=sum(n for (s, _b), n in taken.items() if s == sid),
            )
            box.branches = [
                Branch(name, branch_label(name), step.branch(name), taken.get((sid, name), 0))
                for name in BRANCHES.get(step.type, ())
            ]
            row.append(box)
        rows.append(row)
    return {"rows": rows, "start": definition.get("start", ""), "empty": not graph}
