"""Journeys (product.md Journeys; CONVENTIONS 13-14): a journey's entry and re-entry rule, its
steps as versioned definitions (journeys.graph), one enrolment per (journey, contact, entry)
unique in the database, with its current step and when it is due (the durable timer), and one
row per step an enrolment passed, unique per (enrolment, step): the key a send step's message
hangs on, so a replay finds what the step did instead of doing it again."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from consent.models import ConsentStatus, ConsentType
from contacts.models import Contact, ContactList
from messaging.models import Message, Segment


class JourneyStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    ARCHIVED = "archived", _("Archived")


class Entry(models.TextChoices):
    LIST = "list", _("A contact joins a list")
    EVENT = "event", _("An event from the API")
    CONSENT = "consent", _("A consent change")
    AUDIENCE = "audience", _("Once, an audience (segment)")


class ReEntry(models.TextChoices):
    ONCE = "once", _("Once ever")
    ONE_AT_A_TIME = "one_at_a_time", _("Again after finishing (one at a time)")
    EVERY_TIME = "every_time", _("Every time")


class Journey(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    description = models.CharField(_("description"), max_length=500, blank=True, default="")
    status = models.CharField(
        _("status"), max_length=20, choices=JourneyStatus.choices, default=JourneyStatus.DRAFT, db_index=True
    )
    entry = models.CharField(_("entry"), max_length=20, choices=Entry.choices, default=Entry.LIST)
    entry_list = models.ForeignKey(
        ContactList, verbose_name=_("list"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    entry_event = models.CharField(_("event name"), max_length=100, blank=True, default="")
    entry_consent_type = models.CharField(
        _("consent type"), max_length=20, choices=ConsentType.choices, blank=True, default=""
    )
    entry_consent_status = models.CharField(
        _("consent status"), max_length=10, choices=ConsentStatus.choices, blank=True, default=""
    )
    entry_segment = models.ForeignKey(
        Segment, verbose_name=_("audience"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    re_entry = models.CharField(_("re-entry"), max_length=20, choices=ReEntry.choices, default=ReEntry.ONCE)
    # the definition new enrolments follow (the latest version); contacts in flight keep theirs
    version = models.ForeignKey(
        "JourneyVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    status_reason = models.CharField(_("status reason"), max_length=255, blank=True, default="", editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    activated_at = models.DateTimeField(_("activated"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("journey")
        verbose_name_plural = _("journeys")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class JourneyVersion(models.Model):
    """A journey's steps as they were saved: never edited once contacts entered it."""

    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    definition = models.JSONField(_("steps"), default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("journey version")
        verbose_name_plural = _("journey versions")
        ordering = ["journey", "-number"]
        constraints = [models.UniqueConstraint(fields=["journey", "number"], name="journey_version_once")]

    def __str__(self) -> str:
        return f"{self.journey} v{self.number}"


class EnrolmentState(models.TextChoices):
    ACTIVE = "active", _("In the journey")
    FINISHED = "finished", _("Finished")
    STOPPED = "stopped", _("Stopped")  # the journey was archived, or the step could not run


class Enrolment(models.Model):
    """One contact's way through one version of a journey. `entry_key` makes the re-entry rule a
    database constraint: "once" for once ever, "active" while in it for one at a time (cleared when
    it ends), none for every time."""

    id = models.BigAutoField(primary_key=True)
    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="enrolments", db_index=False)
    version = models.ForeignKey(JourneyVersion, on_delete=models.PROTECT, related_name="enrolments")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="enrolments", db_index=False)
    entry_key = models.CharField(max_length=10, null=True, blank=True, editable=False)
    entered_by = models.CharField(_("entered by"), max_length=120, blank=True, default="")
    state = models.CharField(_("state"), max_length=10, choices=EnrolmentState.choices, default=EnrolmentState.ACTIVE)
    step = models.CharField(_("current step"), max_length=40)
    arrived_at = models.DateTimeField(_("at this step since"))
    due_at = models.DateTimeField(_("due"), null=True, blank=True)  # the timer: when a worker runs the step
    # a wait for delivery: the message whose final status wakes the enrolment before its timeout
    waiting_for = models.BigIntegerField(null=True, blank=True, editable=False)
    claim = models.UUIDField(null=True, blank=True, editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    entered_at = models.DateTimeField(_("entered"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=255, blank=True, default="")

    class Meta:
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["journey", "contact", "entry_key"],
                condition=Q(entry_key__isnull=False),
                name="enrolment_re_entry_rule",
            ),
        ]
        indexes = [
            models.Index(fields=["contact", "entered_at"], name="enrolment_contact"),
            models.Index(fields=["journey", "state", "step"], name="enrolment_journey_step"),
            # the timers: due, unclaimed enrolments in order of their due time
            models.Index(fields=["due_at"], name="enrolment_due", condition=Q(state="active", claim__isnull=True)),
            models.Index(fields=["claimed_at"], name="enrolment_claimed", condition=Q(claim__isnull=False)),
            models.Index(fields=["waiting_for"], name="enrolment_waiting_for", condition=Q(waiting_for__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.contact_id} in {self.journey_id} at {self.step}"


class EnrolmentStep(models.Model):
    """A step an enrolment passed: the branch it took, the message a send step made, the reason a
    send was refused. Unique per (enrolment, step): a step runs once per enrolment, whatever crashes."""

    id = models.BigAutoField(primary_key=True)
    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="steps", db_index=False)
    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="+", db_index=False)
    version = models.ForeignKey(JourneyVersion, on_delete=models.CASCADE, related_name="+", db_index=False)
    step = models.CharField(_("step"), max_length=40)
    branch = models.CharField(_("branch"), max_length=20, blank=True, default="")
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False,
        related_name="+",
    )  # fmt: skip
    reason = models.CharField(_("reason"), max_length=255, blank=True, default="")
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("step passed")
        verbose_name_plural = _("steps passed")
        ordering = ["at", "id"]
        constraints = [models.UniqueConstraint(fields=["enrolment", "step"], name="enrolment_step_once")]
        indexes = [models.Index(fields=["journey", "step", "branch"], name="enrolment_step_counts")]

    def __str__(self) -> str:
        return f"{self.enrolment_id}: {self.step} → {self.branch}"
