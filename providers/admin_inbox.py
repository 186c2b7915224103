"""Received webhooks that wait (Connectors → Received webhooks, admins only): a post is normally
applied within a second and gone; one whose applying failed is listed here with its attempts, the
time of its next try and the error, and may be tried again at once."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from providers.inbox import MAX_ATTEMPTS
from providers.models import WebhookPost


@admin.register(WebhookPost)
class WebhookPostAdmin(admin.ModelAdmin):
    list_display = ["received_at", "account", "state", "attempts", "next_attempt_at", "error"]
    list_filter = ["account"]
    list_select_related = ["account"]
    ordering = ["-received_at"]
    fields = ["account", "received_at", "attempts", "next_attempt_at", "last_error", "headers", "text"]
    readonly_fields = fields
    actions = ["apply_again"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("state"))
    def state(self, post: WebhookPost) -> str:
        if post.attempts >= MAX_ATTEMPTS:
            return _("given up")
        if post.attempts:
            return _("failed, tried again later")
        return _("waiting to be applied")

    @admin.display(description=_("body"))
    def text(self, post: WebhookPost) -> str:
        return bytes(post.body).decode("utf-8", errors="replace")

    @admin.display(description=_("error"))
    def error(self, post: WebhookPost) -> str:
        return post.last_error.splitlines()[-1][:160] if post.last_error else ""

    @admin.action(description=_("Apply the selected webhooks again now"), permissions=["view"])
    def apply_again(self, request, queryset):
        from providers.tasks import process_webhooks

        count = queryset.update(attempts=0, next_attempt_at=timezone.now(), claim=None, claimed_at=None)
        process_webhooks.delay()
        self.message_user(
            request,
            ngettext(
                "%(count)d webhook is being applied again; it leaves this list once applied.",
                "%(count)d webhooks are being applied again; they leave this list once applied.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )
