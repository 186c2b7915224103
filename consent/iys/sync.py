"""Synchronisation with İYS. The pull reads both changes feeds (source=HS: changes written by the
brand's side; source=IYS: citizens' own changes) from the cursor kept per account and applies them
through consent_apply, so a citizen's RET at İYS stops commercial sending at once."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from consent.iys.client import parse_iys_date
from consent.models import ChangeOrigin, IysCursor
from consent.services import ConsentInput, consent_apply
from providers.base import Channel
from providers.models import ProviderAccount

logger = logging.getLogger(__name__)
SOURCES = ("HS", "IYS")


def iys_accounts():
    return ProviderAccount.objects.filter(channel=Channel.IYS, is_active=True)


def iys_pull(*, account: ProviderAccount, max_pages: int = 1000) -> dict[str, int]:
    """Pull both feeds until they are empty; each page and its cursor commit together."""
    client = account.connector_instance().client()
    pulled = {}
    for source in SOURCES:
        cursor, _ = IysCursor.objects.get_or_create(account=account, source=source)
        pulled[source] = 0
        for _page in range(max_pages):
            page = client.changes(source=source, after=cursor.after or None)
            items = page.get("list") or []
            if not items:
                break
            changes = [
                ConsentInput(
                    recipient=item["recipient"],
                    type=item["type"],
                    status=item["status"],
                    consent_date=parse_iys_date(item["consentDate"]),
                    source=item["source"],
                    recipient_type=item.get("recipientType", "BIREYSEL"),
                    origin_ref=f"İYS {source} {item.get('transactionId', '')}"[:255],
                )
                for item in items
            ]
            with transaction.atomic():
                consent_apply(changes=changes, origin=ChangeOrigin.IYS_PULL)
                cursor.after = page.get("after") or cursor.after
                cursor.pulled_total += len(items)
                cursor.last_pull_at = timezone.now()
                cursor.save()
            pulled[source] += len(items)
        IysCursor.objects.filter(pk=cursor.pk).update(last_pull_at=timezone.now())
    logger.info("İYS pull for account %s: %s", account.pk, pulled)
    return pulled
