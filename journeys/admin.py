"""Journeys in the panel: the list with who is in each, the journey's page with its entry, the
diagram (steps layer by layer, counts at and through each step and branch, a "+" on every
branch to add a step there), the status buttons, and the step pages (journeys.admin_steps)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from journeys.admin_steps import StepViews
from journeys.forms import JourneyForm
from journeys.models import Enrolment, EnrolmentStep, Journey, JourneyStatus
from journeys.selectors import journey_diagram
from journeys.services import (
    JourneyError,
    activation_problems,
    journey_activate,
    journey_archive,
    journey_move_to_latest,
    journey_pause,
)


@admin.register(Journey)
class JourneyAdmin(StepViews, admin.ModelAdmin):
    form = JourneyForm
    list_display = ["name", "status", "entry", "in_it_now", "finished", "version_number", "updated_at"]
    list_filter = ["status", "entry"]
    search_fields = ["name", "description"]
    change_form_template = "admin/journeys/journey/change_form.html"
    fieldsets = [
        (None, {"fields": ["name", "description"]}),
        (
            _("Who enters"),
            {
                "fields": [
                    "entry",
                    "entry_list",
                    "entry_event",
                    ("entry_consent_type", "entry_consent_status"),
                    "entry_segment",
                    "re_entry",
                ]
            },
        ),
    ]

    class Media:
        js = ["journeys/journey.js", "messaging/segment_builder.js"]
        css = {"all": ["journeys/journey.css", "messaging/segment_builder.css"]}

    def get_queryset(self, request):
        # who is in each journey now and who finished: a count each, by the (journey, state) index
        def count(state):
            rows = Enrolment.objects.filter(journey=OuterRef("pk"), state=state).order_by()
            return Coalesce(Subquery(rows.values("journey").annotate(n=Count("pk")).values("n")), 0)

        return (
            super()
            .get_queryset(request)
            .select_related("version")
            .annotate(active_count=count("active"), finished_count=count("finished"))
        )

    @admin.display(description=_("In it now"), ordering="active_count")
    def in_it_now(self, obj):
        return obj.active_count

    @admin.display(description=_("Finished"), ordering="finished_count")
    def finished(self, obj):
        return obj.finished_count

    @admin.display(description=_("Version"))
    def version_number(self, obj):
        return obj.version.number if obj.version_id else "—"

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        # a new journey goes on to its page, where its steps are drawn and added
        return HttpResponseRedirect(reverse("admin:journeys_journey_change", args=[obj.pk]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        journey = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if journey is not None:
            extra.update(
                diagram=journey_diagram(journey),
                problems=activation_problems(journey) if journey.status in ("draft", "paused") else [],
                can_change=self.has_change_permission(request, journey),
                act_urls={
                    action: reverse("admin:journeys_journey_act", args=[journey.pk, action])
                    for action in ("activate", "resume", "pause", "archive", "move")
                },
                older_in_flight=Enrolment.objects.filter(journey=journey, state="active")
                .exclude(version_id=journey.version_id)
                .count(),
            )
        return super().change_view(request, object_id, form_url, extra)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/act/<str:action>/", view(self.act_view), name="journeys_journey_act"),
            *self.step_urls(view),
            *super().get_urls(),
        ]

    def act_view(self, request, pk, action):
        """The status buttons: activate, pause, resume, archive, move contacts to the latest version."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        journey = get_object_or_404(Journey.objects.select_related("version"), pk=pk)
        if not self.has_change_permission(request, journey):
            return HttpResponseRedirect(reverse("admin:journeys_journey_change", args=[pk]))
        try:
            if action in ("activate", "resume"):
                journey_activate(journey=journey, acting_user=request.user)
                self.message_user(request, _("The journey is active: contacts enter and move on."), messages.SUCCESS)
            elif action == "pause":
                journey_pause(journey=journey, acting_user=request.user)
                self.message_user(request, _("Paused: nobody enters or moves on until you resume."), messages.SUCCESS)
            elif action == "archive":
                stopped = journey_archive(journey=journey, acting_user=request.user)
                self.message_user(
                    request,
                    _("Archived; %(n)d contact(s) in it stopped where they were.") % {"n": stopped},
                    messages.SUCCESS,
                )
            elif action == "move":
                moved = journey_move_to_latest(journey=journey, acting_user=request.user)
                self.message_user(
                    request, _("%(n)d contact(s) moved to the latest version.") % {"n": moved}, messages.SUCCESS
                )
            else:
                self.message_user(request, _("Unknown action."), messages.ERROR)
        except JourneyError as exc:
            self.message_user(request, str(exc), messages.ERROR)
        return HttpResponseRedirect(reverse("admin:journeys_journey_change", args=[pk]))

    def has_delete_permission(self, request, obj=None):
        # a journey that ever ran keeps its history: archive it instead
        if obj is not None and obj.status != JourneyStatus.DRAFT:
            return False
        return super().has_delete_permission(request, obj)


@admin.register(Enrolment)
class EnrolmentAdmin(admin.ModelAdmin):
    list_display = ["contact", "journey", "state", "step", "due_at", "entered_at", "entered_by"]
    list_filter = ["state", "journey"]
    list_select_related = ["contact", "journey"]
    search_fields = ["contact__external_id", "contact__phone"]
    show_full_result_count = False
    readonly_fields = [f.name for f in Enrolment._meta.fields] + ["path"]
    exclude = ["claim", "claimed_at", "entry_key", "waiting_for"]

    @admin.display(description=_("Path"))
    def path(self, obj):
        steps = EnrolmentStep.objects.filter(enrolment=obj).order_by("at", "id")
        return " → ".join(f"{s.step} ({s.branch})" if s.branch else s.step for s in steps) or "—"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
