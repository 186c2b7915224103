"""Messages' part of a contact's timeline (settings.CONTACT_TIMELINE_SOURCES)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from contacts.timeline import Entry, admin_url
from messaging.models import Message


def message_entries(contact, *, limit: int) -> list[Entry]:
    """The messages made for the contact, newest first (the message_contact_created index), each with
    its status, campaign or maker, and the reason of a failure."""
    messages = (
        Message.objects.filter(contact=contact)
        .select_related("campaign")
        .only("pk", "channel", "kind", "status", "reason", "to", "origin", "created_at", "campaign__name")
        .order_by("-created_at", "-id")[:limit]
    )
    entries = []
    for message in messages:
        title = _("%(channel)s message: %(status)s") % {
            "channel": message.get_channel_display(),
            "status": message.get_status_display(),
        }
        detail = [message.to, message.get_kind_display()]
        if message.campaign_id:
            detail.append(_("campaign “%(name)s”") % {"name": message.campaign.name})
        elif message.origin:
            detail.append(message.origin)
        if message.reason:
            detail.append(message.reason)
        entries.append(
            Entry(
                at=message.created_at,
                kind="message",
                title=title,
                detail=" · ".join(detail),
                url=admin_url("messaging_message_change", message.pk),
                order=message.pk,
            )
        )
    return entries
