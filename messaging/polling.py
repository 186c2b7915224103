"""Delivery reports for providers without a webhook (JetSMS, Netgsm: providers.md §2, §3.4):
ask for the outcome of messages accepted in the last 48 hours that have no final status."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone

from messaging.delivery import messages_apply_reports
from messaging.models import Message, MessageStatus, message_key
from providers.base import MessagingConnector, TransportError
from providers.models import ProviderAccount

logger = logging.getLogger(__name__)
WINDOW = timedelta(hours=48)
CHUNK = 100


def poll_reports(*, account_id: int | None = None) -> int:
    accounts = ProviderAccount.objects.filter(is_active=True)
    if account_id is not None:
        accounts = accounts.filter(pk=account_id)
    moved = 0
    since = timezone.now() - WINDOW
    for account in accounts:
        connector = account.connector_instance()
        if not isinstance(connector, MessagingConnector) or not connector.polls_reports:
            continue
        waiting = (
            Message.objects.filter(
                account=account, status__in=(MessageStatus.QUEUED, MessageStatus.SENT), sent_at__gte=since
            )
            .order_by("pk")
            .values_list("pk", "provider_id")
        )
        pairs = [(message_key(pk), provider_id) for pk, provider_id in waiting.iterator()]
        for start in range(0, len(pairs), CHUNK):
            try:
                reports = connector.poll_reports(messages=pairs[start : start + CHUNK])
            except TransportError as exc:
                logger.warning("report poll for account %s failed: %s", account.pk, exc)
                break
            moved += messages_apply_reports(account_id=account.pk, reports=reports)
    return moved
