"""Dispatch (issue 5; providers.md §0.2): workers claim batches of a campaign's pending messages with
a conditional UPDATE, check the sending rule again for the claimed rows (a contact deleted or
excluded since the row was made is skipped), wait for the account's rate limit, mark the batch
handed over, send it with each message's id as the provider's idempotency key, and record the
answer through messaging.delivery. A worker killed at any moment leaves its batch claimed; after
SMS_CLAIM_TIMEOUT_SECONDS the batch is freed: sent again where the provider dedups on our id (or
where it never left), otherwise marked failed as "outcome unknown" rather than risk a duplicate.
Each sending campaign holds a dispatcher lease in the shared cache, so beat can replace dispatch
tasks that were lost (messaging.tasks.sending_tick)."""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from config.db import claim_rows
from consent.models import MessageKind
from messaging.channels import adapter
from messaging.delivery import messages_update, stale_claims
from messaging.handoff import forget_handed_before, handed_batches
from messaging.models import Campaign, CampaignStatus, Message, MessageStatus
from messaging.policy import current_policy
from messaging.sending import messages_send_claimed
from providers.base import MessagingConnector
from providers.models import ProviderAccount

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DispatchOutcome:
    sent: int = 0
    done: bool = False
    wait: float = 0.0  # nothing claimable now; look again after this many seconds


def campaign_dispatch(*, campaign_id: int, budget_seconds: float | None = None) -> DispatchOutcome:
    """Send the campaign's pending messages batch by batch until none is left or the time budget
    is spent. Several workers may run this for one campaign at once."""
    deadline = None if budget_seconds is None else time.monotonic() + budget_seconds
    total = 0
    connector = None  # one per run of this task (≤ its time budget): its connections stay open between batches
    while deadline is None or time.monotonic() < deadline:
        campaign = Campaign.objects.select_related("account", "template").get(pk=campaign_id)
        if campaign.status != CampaignStatus.SENDING:
            return DispatchOutcome(sent=total, done=True)
        if campaign.kind == MessageKind.NEWSLETTER and (end := current_policy().quiet_end(timezone.now())):
            # quiet hours: nothing is claimed until they end (looked at again within five minutes)
            return DispatchOutcome(sent=total, wait=min(300.0, max(1.0, (end - timezone.now()).total_seconds())))
        _free_stale_claims_now_and_then(campaign_id)
        connector = connector or campaign.account.connector_instance()
        claim = messages_claim(campaign_id=campaign_id, limit=_batch_size(connector))
        if claim is None:
            if _finish_if_done(campaign_id):
                return DispatchOutcome(sent=total, done=True)
            return DispatchOutcome(sent=total, wait=_next_wait(campaign_id))
        content = adapter(campaign.channel).campaign_content(campaign)
        total += messages_send_claimed(claim=claim, account=campaign.account, content=content, connector=connector)
    return DispatchOutcome(sent=total)


_stale_checked: dict[int, float] = {}


def _free_stale_claims_now_and_then(campaign_id: int) -> None:
    """A claim goes stale only after SMS_CLAIM_TIMEOUT_SECONDS, so a dispatcher looks for stale
    ones a few times per timeout rather than before every batch (a scan of the claimed rows)."""
    now = time.monotonic()
    if now - _stale_checked.get(campaign_id, -1e9) >= settings.SMS_CLAIM_TIMEOUT_SECONDS / 4:
        _stale_checked[campaign_id] = now
        messages_free_stale_claims(campaign_id=campaign_id)


def campaign_dispatcher_lease(*, campaign_id: int, seconds: float) -> None:
    """Record that a dispatcher will look at the campaign within `seconds` (one running, or one
    queued to run after a countdown). The lease lives in the shared cache, so a Redis that lost
    its queue loses the leases with it; it is only ever lengthened (two dispatchers racing here
    can at worst shorten it, which costs one spare dispatcher, never a duplicate message)."""
    key = f"sms:dispatcher:{campaign_id}"
    until = time.time() + seconds + settings.SMS_CLAIM_TIMEOUT_SECONDS
    if until > (cache.get(key) or 0):
        cache.set(key, until, timeout=until - time.time())


def campaigns_without_dispatcher() -> list[int]:
    """Sending campaigns whose lease lapsed: their dispatch tasks were lost (a Redis restarted
    without its queue, a worker killed while holding one), so beat must queue one."""
    ids = list(Campaign.objects.filter(status=CampaignStatus.SENDING).values_list("pk", flat=True))
    leased = cache.get_many([f"sms:dispatcher:{pk}" for pk in ids])
    return [pk for pk in ids if f"sms:dispatcher:{pk}" not in leased]


def _batch_size(connector: MessagingConnector) -> int:
    rate = connector.rate_limit
    # with a rate limit, a batch is at most one second's worth, so the rate holds evenly
    return max(1, min(connector.max_batch, int(rate))) if rate else connector.max_batch


def _finish_if_done(campaign_id: int) -> bool:
    if Message.objects.filter(campaign_id=campaign_id, status=MessageStatus.PENDING).exists():
        return False
    if not Campaign.objects.filter(pk=campaign_id, prepared_at__isnull=False).exists():
        return False  # more rows are on their way
    Campaign.objects.filter(pk=campaign_id, status=CampaignStatus.SENDING).update(
        status=CampaignStatus.DONE, finished_at=timezone.now()
    )
    return True


def _next_wait(campaign_id: int) -> float:
    now = timezone.now()
    pending = Message.objects.filter(campaign_id=campaign_id, status=MessageStatus.PENDING)
    retry_at = (
        pending.filter(claim__isnull=True).order_by("next_attempt_at").values_list("next_attempt_at", flat=True).first()
    )
    if retry_at:
        return max(0.5, (retry_at - now).total_seconds())
    if not Campaign.objects.filter(pk=campaign_id, prepared_at__isnull=False).exists():
        return 0.5  # the next chunk of rows is being made
    return float(settings.SMS_CLAIM_TIMEOUT_SECONDS) / 4  # batches claimed elsewhere: check on them later


def messages_claim(*, campaign_id: int | None = None, ids: list[int] | None = None, limit: int) -> uuid.UUID | None:
    """Claim up to `limit` pending messages with a conditional UPDATE; None when none was free."""
    now = timezone.now()
    claim = uuid.uuid4()
    candidates = Message.objects.filter(status=MessageStatus.PENDING, claim__isnull=True).exclude(
        next_attempt_at__gt=now
    )
    candidates = (
        candidates.filter(campaign_id=campaign_id) if campaign_id is not None else candidates.filter(pk__in=ids or [])
    )
    return claim if claim_rows(candidates, order_by="pk", limit=limit, claim=claim, now=now) else None


def messages_free_stale_claims(*, campaign_id: int | None = None) -> int:
    """Batches whose worker stopped: resend where that cannot duplicate, else fail them."""
    older_than = timezone.now() - timedelta(seconds=settings.SMS_CLAIM_TIMEOUT_SECONDS)
    stale = Message.objects.filter(stale_claims(older_than=older_than))
    if campaign_id is not None:
        stale = stale.filter(campaign_id=campaign_id)
    freed = 0
    for account_id in stale.values_list("account_id", flat=True).distinct().order_by():
        account = ProviderAccount.objects.get(pk=account_id)
        rows = stale.filter(account_id=account_id)
        if account.connector_instance().idempotent:
            freed += rows.update(claim=None, claimed_at=None)
        else:
            with transaction.atomic():  # rows locked before the hand-overs are read (batch_handed locks them too)
                held = dict(rows.select_for_update(no_key=True).order_by("pk").values_list("pk", "claim"))
                batches = handed_batches(set(held.values()))  # messaging.handoff
                in_flight = {claim for claim, (at, _ids) in batches.items() if at >= older_than}
                held = {pk: claim for pk, claim in held.items() if claim not in in_flight}  # handed in time
                handed = {pk for _at, ids in batches.values() for pk in ids}
                handed.update(rows.filter(handed_at__isnull=False).values_list("pk", flat=True))  # rows from before
                unknown = [pk for pk in held if pk in handed]
                freed += Message.objects.filter(pk__any_of=[pk for pk in held if pk not in handed]).update(
                    claim=None, claimed_at=None
                )
                messages_update(
                    {
                        pk: {
                            "status": MessageStatus.FAILED,
                            "reason": "the worker stopped after handing the batch to a provider that cannot "
                            "tell a repeat apart; not resent to avoid a duplicate (outcome unknown)",
                            "claim": None,
                            "claimed_at": None,
                        }
                        for pk in unknown
                    }
                )
    forget_handed_before(older_than)
    if freed:
        logger.warning("freed %d message(s) claimed by a worker that stopped", freed)
    return freed
