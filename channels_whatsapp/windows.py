"""The 24-hour customer service windows (providers.md §6.8): each message a person sends to one of
our numbers opens one for that number on that account; free text goes only through an open one."""

from __future__ import annotations

from django.utils import timezone

from channels_whatsapp.models import WINDOW, ServiceWindow
from contacts.phones import to_e164


def windows_opened(*, account, inbound: list) -> int:
    """Record the latest message time per sender (a late, out-of-order one never moves it back).
    Returns how many existing windows it moved forward."""
    latest: dict[str, object] = {}
    now = timezone.now()
    for message in inbound:
        number = to_e164(message.sender, default_region=None)
        if number is None:
            continue
        at = min(message.received_at or now, now)  # a clock ahead of ours does not stretch the window
        if number not in latest or at > latest[number]:
            latest[number] = at
    if not latest:
        return 0
    # two webhook workers may take messages of one number at once: the insert ignores a row that
    # is already there and each update moves the time only forward, in the row itself, so the
    # later message wins whichever commits last (no read-then-write)
    ServiceWindow.objects.bulk_create(
        [ServiceWindow(account=account, number=n, last_inbound_at=at) for n, at in latest.items()],
        ignore_conflicts=True,
    )
    moved = 0
    for number, at in latest.items():
        moved += ServiceWindow.objects.filter(account=account, number=number, last_inbound_at__lt=at).update(
            last_inbound_at=at
        )
    return moved


def window_open(*, account_id: int, number: str) -> bool:
    since = timezone.now() - WINDOW
    return ServiceWindow.objects.filter(account_id=account_id, number=number, last_inbound_at__gt=since).exists()


def windows_of(number: str):
    """The windows a number opened, newest first (the contact page shows them)."""
    return ServiceWindow.objects.filter(number=number).select_related("account").order_by("-last_inbound_at")


def contact_window_detail(contact) -> tuple[str, str] | None:
    """settings.CONTACT_ADMIN_DETAILS: whether free text may go to the contact's WhatsApp now."""
    from django.utils.formats import date_format
    from django.utils.timezone import localtime
    from django.utils.translation import gettext as _

    if not contact.whatsapp_number:
        return None
    window = windows_of(contact.whatsapp_number).first()
    label = _("WhatsApp conversation window")
    if window is None:
        return label, _("closed: no message from this number yet (templates only)")
    until = date_format(localtime(window.open_until), "Y-m-d H:i")
    if window.is_open:
        return label, _("open until %(until)s through %(account)s (free text allowed)") % {
            "until": until,
            "account": window.account.name,
        }
    return label, _("closed since %(until)s (templates only)") % {"until": until}
