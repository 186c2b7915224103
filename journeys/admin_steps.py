"""The step pages of a journey: add a step on a branch (or first), edit one, delete one with the
steps only it leads to. Each save goes through journeys.services.journey_save_steps: a draft is
edited in place, an active or paused journey gets a new version (contacts in flight keep theirs)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _

from journeys.editing import add_step, delete_step, new_step_id, replace_step
from journeys.forms import StepForm
from journeys.graph import BRANCHES
from journeys.models import Journey, JourneyStatus
from journeys.selectors import branch_label, step_type_label
from journeys.services import journey_save_steps


class StepViews:
    """Mixed into JourneyAdmin."""

    def step_urls(self, view):
        return [
            path("<int:pk>/steps/add/", view(self.step_add_view), name="journeys_journey_step_add"),
            path("<int:pk>/steps/<str:step_id>/", view(self.step_change_view), name="journeys_journey_step"),
            path(
                "<int:pk>/steps/<str:step_id>/delete/", view(self.step_delete_view), name="journeys_journey_step_delete"
            ),
        ]

    def _journey(self, request, pk) -> Journey:
        journey = get_object_or_404(Journey.objects.select_related("version"), pk=pk)
        if not self.has_change_permission(request, journey) or journey.status == JourneyStatus.ARCHIVED:
            raise PermissionDenied
        return journey

    def _definition(self, journey) -> dict:
        return journey.version.definition if journey.version_id else {"start": "", "steps": {}}

    def _page(self, request, journey, title, **context):
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "journey": journey,
            "title": title,
            "journey_url": reverse("admin:journeys_journey_change", args=[journey.pk]),
            "new_version": journey.status != JourneyStatus.DRAFT,
            **context,
        }

    def _save(self, request, journey, definition, done_message) -> bool:
        try:
            version = journey_save_steps(journey=journey, definition=definition, acting_user=request.user)
        except ValidationError as exc:
            for problem in exc.messages:
                self.message_user(request, problem, messages.ERROR)
            return False
        note = ""
        if journey.status != JourneyStatus.DRAFT:
            note = " " + _("Saved as version %(n)d: contacts already in the journey finish on theirs.") % {
                "n": version.number
            }
        self.message_user(request, done_message + note, messages.SUCCESS)
        return True

    def step_add_view(self, request, pk):
        journey = self._journey(request, pk)
        definition = self._definition(journey)
        after, branch = request.GET.get("after", ""), request.GET.get("branch", "")
        steps = definition.get("steps") or {}
        if after and (after not in steps or branch not in BRANCHES.get(steps[after].get("type"), ())):
            raise Http404
        kind = request.GET.get("type", "send_sms")
        initial = {"type": kind, "step_id": new_step_id(definition, kind), "wait_mode": "duration", "unit": "3600"}
        form = StepForm(request.POST or None, definition=definition, initial=initial)
        if request.method == "POST" and form.is_valid():
            updated = add_step(
                definition, step_id=form.cleaned_data["step_id"], step=form.step, after=after, branch=branch
            )
            if self._save(request, journey, updated, _("Step %(id)s added.") % {"id": form.cleaned_data["step_id"]}):
                return HttpResponseRedirect(reverse("admin:journeys_journey_change", args=[journey.pk]))
        where = (
            _("after %(step)s, on its branch “%(branch)s”") % {"step": after, "branch": branch_label(branch)}
            if after
            else _("as the first step")
        )
        context = self._page(request, journey, _("Add a step %(where)s") % {"where": where}, form=form, adding=True)
        return TemplateResponse(request, "admin/journeys/journey/step_form.html", context)

    def step_change_view(self, request, pk, step_id):
        journey = self._journey(request, pk)
        definition = self._definition(journey)
        if step_id not in (definition.get("steps") or {}):
            raise Http404
        form = StepForm(request.POST or None, definition=definition, step_id=step_id)
        if request.method == "POST" and form.is_valid():
            updated = replace_step(definition, step_id=step_id, step=form.step)
            if self._save(request, journey, updated, _("Step %(id)s saved.") % {"id": step_id}):
                return HttpResponseRedirect(reverse("admin:journeys_journey_change", args=[journey.pk]))
        kind = definition["steps"][step_id].get("type")
        title = _("Step %(id)s: %(kind)s") % {"id": step_id, "kind": step_type_label(kind)}
        context = self._page(
            request, journey, title, form=form, step_id=step_id,
            delete_url=reverse("admin:journeys_journey_step_delete", args=[journey.pk, step_id]),
        )  # fmt: skip
        return TemplateResponse(request, "admin/journeys/journey/step_form.html", context)

    def step_delete_view(self, request, pk, step_id):
        journey = self._journey(request, pk)
        definition = self._definition(journey)
        if step_id not in (definition.get("steps") or {}):
            raise Http404
        updated, removed = delete_step(definition, step_id=step_id)
        if request.method == "POST":
            if not updated["steps"]:
                self.message_user(request, _("A journey keeps at least one step: add another first."), messages.ERROR)
            elif self._save(request, journey, updated, _("Deleted: %(steps)s.") % {"steps": ", ".join(removed)}):
                return HttpResponseRedirect(reverse("admin:journeys_journey_change", args=[journey.pk]))
            return HttpResponseRedirect(reverse("admin:journeys_journey_step", args=[journey.pk, step_id]))
        context = self._page(request, journey, _("Delete step %(id)s?") % {"id": step_id}, removed=removed)
        return TemplateResponse(request, "admin/journeys/journey/step_delete.html", context)
