"""The consent ledger's part of a contact's timeline (settings.CONTACT_TIMELINE_SOURCES)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from consent.models import ConsentChange
from contacts.timeline import Entry, admin_url


def consent_entries(contact, *, limit: int) -> list[Entry]:
    """The contact's consent changes, newest first: the type and status, what it was before, and who
    made it (a file and its line, an API client, a panel user, İYS)."""
    changes = ConsentChange.objects.filter(contact=contact).order_by("-created_at", "-pk")[:limit]
    entries = []
    for change in changes:
        title = _("%(type)s consent: %(status)s") % {
            "type": change.get_type_display(),
            "status": change.get_status_display(),
        }
        detail = [change.recipient]
        if change.previous_status:
            detail.append(_("before: %(status)s") % {"status": change.get_previous_status_display()})
        detail.append(change.get_origin_display())
        if change.origin_ref:
            detail.append(change.origin_ref)
        entries.append(
            Entry(
                at=change.created_at,
                kind="consent",
                title=title,
                detail=" · ".join(detail),
                url=admin_url("consent_consentchange_change", change.pk),
                order=change.pk,
            )
        )
    return entries
