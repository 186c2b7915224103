"""Campaigns and message rows in a given state, as the dispatcher and the reports leave them
(the times set directly: the charts and reports read them, no test here sends anything)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from messaging.models import Campaign, Message
from providers.services import account_install

ISTANBUL = ZoneInfo("Europe/Istanbul")


def console_account(name: str = "Console"):
    return account_install(name=name, connector="console", values={"sender": "MARKA", "price_per_segment": "0.1"})


def campaign(account, *, name: str = "Kasım", channel: str = "sms", status: str = "done", **fields) -> Campaign:
    return Campaign.objects.create(
        name=name, channel=channel, account=account, sender="MARKA", text="Merhaba", status=status, **fields
    )


def message(
    account,
    *,
    status: str,
    created_at: datetime,
    campaign: Campaign | None = None,
    to: str = "+905320000001",
    contact=None,
    sent_at: datetime | None = None,
    done_at: datetime | None = None,
    read_at: datetime | None = None,
    reason: str = "",
    channel: str = "sms",
) -> Message:
    row = Message.objects.create(
        channel=channel,
        kind="newsletter",
        account=account,
        campaign=campaign,
        contact=contact,
        to=to,
        status=status,
        sent_at=sent_at,
        done_at=done_at,
        read_at=read_at,
        reason=reason,
    )
    Message.objects.filter(pk=row.pk).update(created_at=created_at)  # auto_now_add: set afterwards
    row.refresh_from_db()
    return row
