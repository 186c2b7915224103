"""A contact's timeline on its page: consent changes, messages, list joins, uploads and panel edits,
newest first. Each source is a function (contact, *, limit) -> list[Entry] of at most `limit`
entries, newest first, one or two bounded queries; settings.CONTACT_TIMELINE_SOURCES names them,
so the apps above contacts (consent, messaging) contribute theirs without contacts importing them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import NoReverseMatch, reverse
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from contacts.models import Contact, ContactListMembership, FileTransfer, FileTransferKind

TIMELINE_STEP = 20  # entries shown at first, and added by each "show more"
TIMELINE_MAX = 500


@dataclass(frozen=True)
class Entry:
    at: datetime
    kind: str  # consent, message, list, upload, panel: the label's colour on the page
    title: str
    detail: str = ""
    url: str = ""
    order: int = 0  # the source row's id: entries of the same instant keep the order they were made


@dataclass(frozen=True)
class Timeline:
    entries: list[Entry]
    more: bool  # older entries exist beyond `limit`
    limit: int


def contact_timeline(*, contact: Contact, limit: int = TIMELINE_STEP) -> Timeline:
    """The newest `limit` entries of every source merged: each source is asked for one more than
    `limit`, so the queries stay bounded however long the contact's history is."""
    limit = max(1, min(limit, TIMELINE_MAX))
    entries: list[Entry] = []
    for path in settings.CONTACT_TIMELINE_SOURCES:
        entries += import_string(path)(contact, limit=limit + 1)
    entries.sort(key=lambda entry: (entry.at, entry.order), reverse=True)
    return Timeline(entries=entries[:limit], more=len(entries) > limit, limit=limit)


def admin_url(name: str, pk) -> str:
    try:
        return reverse(f"admin:{name}", args=[pk])
    except NoReverseMatch:
        return ""


def list_entries(contact: Contact, *, limit: int) -> list[Entry]:
    """The lists the contact joined; a join made while a User upload filled the list says so."""
    memberships = list(
        ContactListMembership.objects.filter(contact=contact)
        .select_related("contact_list")
        .order_by("-added_at", "-pk")[:limit]
    )
    uploads: dict[int, list[FileTransfer]] = {}
    for transfer in FileTransfer.objects.filter(
        contact_list_id__in={m.contact_list_id for m in memberships}, kind=FileTransferKind.USERS
    ).only("pk", "name", "original_name", "contact_list_id", "started_at", "finished_at"):
        uploads.setdefault(transfer.contact_list_id, []).append(transfer)
    entries = []
    for membership in memberships:
        name = membership.contact_list.name
        upload = next(
            (
                t
                for t in uploads.get(membership.contact_list_id, [])
                if t.started_at and t.started_at <= membership.added_at <= (t.finished_at or membership.added_at)
            ),
            None,
        )
        if upload is not None:
            entries.append(
                Entry(
                    at=membership.added_at,
                    kind="upload",
                    title=_("Added to the list “%(list)s” by the upload “%(upload)s”")
                    % {"list": name, "upload": upload.name},
                    detail=upload.original_name,
                    url=admin_url("contacts_filetransfer_change", upload.pk),
                    order=membership.pk,
                )
            )
        else:
            entries.append(
                Entry(
                    at=membership.added_at,
                    kind="list",
                    title=_("Joined the list “%(list)s”") % {"list": name},
                    url=admin_url("contacts_contactlist_change", membership.contact_list_id),
                    order=membership.pk,
                )
            )
    return entries


def panel_entries(contact: Contact, *, limit: int) -> list[Entry]:
    """What the panel's log holds for the contact: made or changed on its page, or by an import
    from the Contacts page (django-import-export writes one log line per row it imports)."""
    rows = (
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Contact),
            object_id=str(contact.pk),
            action_flag__in=[ADDITION, CHANGE],
        )
        .select_related("user")
        .order_by("-action_time", "-pk")[:limit]
    )
    entries = []
    for row in rows:
        who = row.user.get_username() if row.user else "?"
        if "import_export" in (row.change_message or ""):
            title = (
                _("Created by an import from a file (by %(user)s)")
                if row.action_flag == ADDITION
                else _("Updated by an import from a file (by %(user)s)")
            ) % {"user": who}
            entries.append(Entry(at=row.action_time, kind="upload", title=title, order=row.pk))
            continue
        title = (
            _("Created in the panel by %(user)s")
            if row.action_flag == ADDITION
            else _("Changed in the panel by %(user)s")
        ) % {"user": who}
        detail = row.get_change_message() if row.action_flag == CHANGE else ""
        entries.append(Entry(at=row.action_time, kind="panel", title=title, detail=detail, order=row.pk))
    return entries


def api_entries(contact: Contact, *, limit: int) -> list[Entry]:
    """What the brand's systems wrote through the API: created or changed, by which key, which fields."""
    from contacts.audit import ContactWrite

    names = {f.name: str(f.verbose_name) for f in Contact._meta.fields}
    rows = ContactWrite.objects.filter(contact=contact).order_by("-at", "-pk")[:limit]
    return [
        Entry(
            at=row.at,
            kind="api",
            title=(_("Created through the API by %(key)s") if row.created else _("Changed through the API by %(key)s"))
            % {"key": row.origin_ref},
            detail=", ".join(names.get(f, f) for f in row.fields),
            order=row.pk,
        )
        for row in rows
    ]
