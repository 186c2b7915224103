"""The events the panel emits, from the signals of the one write path of each: a message's
status (messaging.delivery), a consent change (the ledger), an inbound message. Payloads are
generators: events_emit makes them only when an endpoint wants the event."""

from __future__ import annotations

from django.utils import timezone

from webhooks.models import EventType
from webhooks.services import events_emit

API_STATUS = {"pending": "queued"}  # the API's words (api.messages): a message waiting is queued


def _iso(value) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


def on_status_moved(sender, changes, **kwargs) -> None:
    events_emit(
        EventType.MESSAGE_STATUS,
        (
            {
                "message_id": c["id"],
                "channel": c["channel"],
                "to": c["to"],
                "campaign_id": c["campaign_id"],
                "status": API_STATUS.get(c["status"], c["status"]),
                "raw_status": c["raw_status"],
                "reason": c["reason"],
                "at": _iso(c["at"]),
            }
            for c in changes
        ),
    )


def on_consent_changes(sender, changes, **kwargs) -> None:
    events_emit(
        EventType.CONSENT_CHANGED,
        (
            {
                "recipient": c["recipient"],
                "recipient_type": c["recipient_type"],
                "type": c["type"],
                "status": c["status"],
                "previous_status": c["previous_status"] or None,
                "consent_date": _iso(c["consent_date"]),
                "source": c["source"],
                "origin": c["origin"],
            }
            for c in changes
        ),
    )


def on_inbound(sender, account, inbound, **kwargs) -> None:
    events_emit(
        EventType.MESSAGE_INBOUND,
        (
            {
                "channel": account.channel,
                "account": account.name,
                "from": m.sender,
                "text": m.text,
                "stop": m.stop,
                "provider_id": m.provider_id,
                "received_at": _iso(m.received_at or timezone.now()),
            }
            for m in inbound
        ),
    )
