"""Outgoing webhooks in the panel (admins only): endpoints (URL, events, the signing secret) and
every delivery with its attempts; a delivery that failed can be sent again."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timezone import localtime
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from webhooks.delivery import delivery_retry_now
from webhooks.models import Attempt, Delivery, DeliveryStatus, Endpoint, EventType
from webhooks.services import endpoint_create, url_problem


class EndpointForm(forms.ModelForm):
    url = forms.URLField(
        label=_("URL"),
        max_length=2000,
        assume_scheme="https",
        help_text=_("Where the panel POSTs the events (HTTPS)."),
        widget=forms.URLInput(attrs={"class": "vURLField", "size": 80}),
    )
    event_choices = forms.MultipleChoiceField(
        label=_("events"),
        choices=EventType.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("What the endpoint receives; each event is one signed POST."),
    )

    class Meta:
        model = Endpoint
        fields = ["url", "description", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["event_choices"].initial = self.instance.events

    def clean_url(self):
        url = self.cleaned_data["url"]
        if problem := url_problem(url):
            raise forms.ValidationError(problem)
        return url


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    form = EndpointForm
    list_display = ["url", "event_list", "active", "created_at", "made_by"]
    list_filter = ["active"]
    search_fields = ["url", "description"]

    def get_fields(self, request, obj=None):
        fields = ["url", "event_choices", "description", "active"]
        return fields if obj is None else [*fields, "secret", "created_at", "made_by"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["secret", "created_at", "made_by"]

    @admin.display(description=_("events"))
    def event_list(self, obj: Endpoint) -> str:
        return ", ".join(obj.events or [])

    @admin.display(description=_("registered by"))
    def made_by(self, obj: Endpoint) -> str:
        if obj.api_key_id:
            return obj.api_key.label
        return obj.created_by.get_username() if obj.created_by_id else ""

    def save_model(self, request, obj, form, change):
        events = form.cleaned_data["event_choices"]
        if change:
            obj.events = events
            return super().save_model(request, obj, form, change)
        try:
            made = endpoint_create(
                url=obj.url, events=events, description=obj.description, active=obj.active, user=request.user
            )
        except ValidationError as exc:  # the form checked the same; a race with another admin only
            raise forms.ValidationError(exc.messages) from exc
        obj.pk, obj.secret = made.pk, made.secret


class AttemptInline(admin.TabularInline):
    model = Attempt
    fields = ["at", "status_code", "error", "duration_ms", "response"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    # what fits beside the navigation and the filters at 1366 px (nine columns did not): the id under
    # the event, attempts and the last answer under the status, the next attempt or the delivery
    # under the time it was made
    list_display = ["event_cell", "endpoint", "status_cell", "when_cell"]
    list_filter = ["status", "event_type", "endpoint"]
    search_fields = ["event_id"]
    list_select_related = ["endpoint"]
    fields = ["event_id", "event_type", "endpoint", "status", "attempts", "next_attempt_at", "last_status_code",
              "last_error", "created_at", "delivered_at", "payload"]  # fmt: skip
    readonly_fields = fields
    inlines = [AttemptInline]
    actions = ["retry_now"]

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("event"), ordering="event_type")
    def event_cell(self, obj):
        return format_html('{}<br><span class="quiet">{}</span>', obj.get_event_type_display(), obj.event_id)

    @admin.display(description=_("status"), ordering="status")
    def status_cell(self, obj):
        details = [ngettext("%(n)d attempt", "%(n)d attempts", obj.attempts) % {"n": obj.attempts}]
        if obj.last_status_code:
            details.append(gettext("last answer HTTP %(code)d") % {"code": obj.last_status_code})
        return format_html('{}<br><span class="quiet">{}</span>', obj.get_status_display(), " · ".join(details))

    @admin.display(description=_("created"), ordering="created_at")
    def when_cell(self, obj):
        lines = [_short(obj.created_at)]
        if obj.delivered_at:
            lines.append(gettext("delivered %(at)s") % {"at": _short(obj.delivered_at)})
        elif obj.next_attempt_at and obj.status == DeliveryStatus.PENDING:
            lines.append(gettext("next attempt %(at)s") % {"at": _short(obj.next_attempt_at)})
        first, *rest = lines
        return format_html('{}<br><span class="quiet">{}</span>', first, rest[0]) if rest else first

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Send again now"), permissions=["view"])
    def retry_now(self, request, queryset):
        from webhooks.tasks import deliver_endpoint

        ids = list(queryset.values_list("pk", flat=True))
        count = delivery_retry_now(delivery_ids=ids)
        for endpoint_id in set(Delivery.objects.filter(pk__in=ids).values_list("endpoint_id", flat=True)):
            deliver_endpoint.delay(endpoint_id)
        self.message_user(
            request,
            ngettext("%(count)d delivery queued again.", "%(count)d deliveries queued again.", count)
            % {"count": count},
            messages.SUCCESS,
        )


def _short(at) -> str:
    return date_format(localtime(at), "d.m.Y H:i")
