"""Targeting → Segments: the audience builder. Conditions are rows drawn by
static/messaging/segment_builder.js from the choices below (nobody types JSON), the count of
matching contacts follows each change (count.json), and an attribute offers the values seen."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.db.models.fields.json import KT
from django.http import JsonResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from config.db import tuned_for_counting
from consent.models import ConsentStatus, ConsentType
from contacts.models import Contact, ContactList
from messaging.models import Campaign, Segment
from messaging.segments import CHOICE_FIELDS, OPERATORS, TEXT_FIELDS, definition_problems, segment_contacts
from providers.base import Channel

SAMPLE = 5000  # recent contacts looked at for the attribute names and values offered
OPERATOR_LABELS = {
    "equals": _("is"),
    "not_equals": _("is not"),
    "any_of": _("is any of"),
    "contains": _("contains"),
    "is_set": _("is set"),
    "is_empty": _("is empty"),
    "greater_than": _("is greater than"),
    "less_than": _("is less than"),
    "is": _("is"),
    "is_not": _("is not"),
    "in": _("is in"),
    "not_in": _("is not in"),
    "received": _("received"),
    "not_received": _("did not receive"),
}
TYPE_LABELS = {
    "field": _("Contact field"),
    "attribute": _("Profile attribute"),
    "choice": _("Phone and channel state"),
    "list": _("List membership"),
    "consent": _("İYS consent"),
    "sms_received": _("SMS received"),
}
FIELD_LABELS = {
    "external_id": _("External id"),
    "email": _("Email"),
    "phone": _("Phone"),
    "whatsapp_number": _("WhatsApp number"),
    "phone_status": _("Phone status"),
    "sms_subscription": _("SMS subscription"),
    "whatsapp_consent": _("WhatsApp consent"),
}
PERIOD_LABELS = {
    "any_time": _("at any time"),
    "last_days": _("in the last … days"),
    "on": _("on the date"),
    "between": _("between the dates"),
}


def attribute_names_seen() -> list[str]:
    names: set[str] = set()
    for attributes in Contact.objects.order_by("-pk").values_list("attributes", flat=True)[:SAMPLE]:
        if isinstance(attributes, dict):
            names.update(attributes)
    return sorted(names)


def builder_choices() -> dict:
    """Everything the builder offers, labelled in the user's language."""
    return {
        "types": [{"value": k, "label": str(v)} for k, v in TYPE_LABELS.items()],
        "operators": {k: str(v) for k, v in OPERATOR_LABELS.items()},
        "type_operators": {kind: list(ops) for kind, ops in OPERATORS.items()},
        "fields": [{"value": f, "label": str(FIELD_LABELS[f])} for f in TEXT_FIELDS],
        "choice_fields": [
            {"value": f, "label": str(FIELD_LABELS[f]), "choices": [[v, str(label)] for v, label in enum.choices]}
            for f, enum in CHOICE_FIELDS.items()
        ],
        "lists": [
            {"value": pk, "label": name}
            for pk, name in ContactList.objects.order_by("name").values_list("pk", "name")[:500]
        ],
        "campaigns": [
            {"value": pk, "label": name}
            for pk, name in Campaign.objects.filter(channel=Channel.SMS)
            .exclude(status="draft")
            .order_by("-pk")
            .values_list("pk", "name")[:200]
        ],
        "consent_types": [[v, str(label)] for v, label in ConsentType.choices],
        "consent_states": [*([v, str(label)] for v, label in ConsentStatus.choices), ["none", str(_("none recorded"))]],
        "kinds": [
            ["", str(_("any kind"))],
            ["newsletter", str(_("newsletter"))],
            ["transactional", str(_("transactional"))],
        ],
        "periods": [[k, str(v)] for k, v in PERIOD_LABELS.items()],
        "attributes": attribute_names_seen(),
        "words": {
            "all": str(_("Contacts matching all of these conditions")),
            "any": str(_("Contacts matching any of these conditions")),
            "add": str(_("Add a condition")),
            "remove": str(_("Remove")),
            "none": str(_("No condition: every contact.")),
            "count": str(_("%(n)s contacts match now.")),
            "counting": str(_("Counting…")),
            "at_least": str(_("at least")),
            "times": str(_("time(s)")),
            "any_sms": str(_("any SMS")),
            "unreported": str(_("count messages the operator never reported on")),
            "days": str(_("days")),
            "values_seen": str(_("Values seen:")),
            "separate": str(_("one value per line")),
        },
    }


class SegmentBuilder(forms.Widget):
    """The definition as a hidden JSON field the builder writes, with the builder's choices."""

    template_name = "messaging/segment_builder.html"  # an app template: the form renderer looks there

    def format_value(self, value):
        if isinstance(value, str):
            return value
        return json.dumps(value or {"match": "all", "conditions": []}, ensure_ascii=False)

    def value_from_datadict(self, data, files, name):
        return data.get(name)

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["choices"] = builder_choices()
        context["count_url"] = reverse("admin:messaging_segment_count")
        context["values_url"] = reverse("admin:messaging_segment_values")
        return context


class SegmentForm(forms.ModelForm):
    class Meta:
        model = Segment
        fields = ["name", "description", "definition"]
        widgets = {"definition": SegmentBuilder}

    def clean_definition(self):
        definition = self.cleaned_data.get("definition")
        if definition in (None, ""):
            definition = {"match": "all", "conditions": []}
        if problems := definition_problems(definition):
            raise forms.ValidationError(problems)
        return definition


def count_matching(definition) -> dict:
    if problems := definition_problems(definition):
        return {"problems": problems}
    with tuned_for_counting():
        return {"count": segment_contacts(definition).count()}


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    form = SegmentForm
    list_display = ["name", "description", "used_by", "updated_at"]
    search_fields = ["name", "description"]

    class Media:
        js = ["messaging/segment_builder.js"]
        css = {"all": ["messaging/segment_builder.css"]}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(campaign_count=Count("campaigns"))

    @admin.display(description=_("Campaigns"), ordering="campaign_count")
    def used_by(self, obj):
        return obj.campaign_count

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("count.json", view(self.count_view), name="messaging_segment_count"),
            path("values.json", view(self.values_view), name="messaging_segment_values"),
            *super().get_urls(),
        ]

    def _check(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied

    @staticmethod
    def _definition(request):
        try:
            return json.loads(request.body or b"null")
        except ValueError:
            return None

    def count_view(self, request):
        """The live count: how many contacts the conditions being built select now."""
        self._check(request)
        if request.method != "POST":
            return JsonResponse({"problems": ["POST the conditions"]}, status=405)
        return JsonResponse(count_matching(self._definition(request)))

    def values_view(self, request):
        """The most common values of one attribute among recent contacts."""
        self._check(request)
        name = request.GET.get("name", "")
        if not name or len(name) > 100 or "__" in name:
            return JsonResponse({"values": []})
        recent = Contact.objects.order_by("-pk").values("pk")[:SAMPLE]
        rows = (
            Contact.objects.filter(pk__in=recent, attributes__has_key=name)
            .annotate(value=KT(f"attributes__{name}"))
            .values("value")
            .annotate(n=Count("pk"))
            .order_by("-n", "value")[:30]
        )
        return JsonResponse({"values": [row["value"] for row in rows if row["value"] not in (None, "")]})
