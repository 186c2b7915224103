"""Contact events from the brand's systems ("cart_abandoned" with its properties), kept for
journeys (product.md: The public API, events)."""

from __future__ import annotations

import re
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from contacts.models import Contact, ContactEvent
from contacts.signals import event_recorded

EVENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}")


def event_record(
    *,
    contact: Contact,
    name: str,
    properties: dict | None = None,
    occurred_at: datetime | None = None,
    origin_ref: str = "",
) -> ContactEvent:
    """One event of one contact; a time in the future is refused (a clock gone wrong)."""
    if not EVENT_NAME.fullmatch(name):
        raise ValidationError(
            {"name": "an event name is 1-100 letters, digits, '_', '.', ':' or '-', starting with a letter or digit"}
        )
    now = timezone.now()
    occurred_at = occurred_at or now
    if occurred_at > now + timezone.timedelta(minutes=5):
        raise ValidationError({"occurred_at": "the event's time is in the future"})
    with transaction.atomic():
        event = ContactEvent.objects.create(
            contact=contact,
            name=name,
            properties=properties or {},
            occurred_at=occurred_at,
            origin_ref=origin_ref[:255],
        )
        event_recorded.send(sender=ContactEvent, event=event)
    return event
