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
from django.db import connection, transaction
from django.utils import timezone

from consent.models import MessageKind
from consent.selectors import SENDABLE, Exclusion, audience_with_exclusions
from contacts.models import Contact
from messaging.channels import adapter
from messaging.delivery import messages_update, stale_claims
from messaging.models import Campaign, CampaignStatus, Message, MessageStatus, message_key
from messaging.rendering import contact_values
from providers import ratelimit
from providers.base import MessagingConnector, OutboundMessage, SendError
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
    while deadline is None or time.monotonic() < deadline:
        campaign = Campaign.objects.select_related("account").get(pk=campaign_id)
        if campaign.status != CampaignStatus.SENDING:
            return DispatchOutcome(sent=total, done=True)
        _free_stale_claims_now_and_then(campaign_id)
        connector = campaign.account.connector_instance()
        claim = messages_claim(campaign_id=campaign_id, limit=_batch_size(connector))
        if claim is None:
            if _finish_if_done(campaign_id):
                return DispatchOutcome(sent=total, done=True)
            return DispatchOutcome(sent=total, wait=_next_wait(campaign_id))
        content = adapter(campaign.channel).campaign_content(campaign)
        total += messages_send_claimed(claim=claim, account=campaign.account, content=content)
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
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # one statement: rows other workers hold are skipped (SKIP LOCKED), the first `limit` of
            # the others claimed; ARRAY(…) runs the pick once, then the update goes by primary key
            pick, params = (
                candidates.select_for_update(skip_locked=True)
                .order_by("pk")
                .values("pk")[:limit]
                .query.sql_with_params()
            )
            table = connection.ops.quote_name(Message._meta.db_table)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} SET claim = %s, claimed_at = %s WHERE id = ANY(ARRAY({pick}))",  # noqa: S608
                    [claim, now, *params],
                )
                return claim if cursor.rowcount else None
        picked = list(candidates.order_by("pk").values_list("pk", flat=True)[:limit])
        if not picked:
            return None
        claimed = Message.objects.filter(pk__in=picked, claim__isnull=True, status=MessageStatus.PENDING).update(
            claim=claim, claimed_at=now
        )
    return claim if claimed else None


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
            freed += rows.filter(handed_at__isnull=True).update(claim=None, claimed_at=None)
            unknown = dict.fromkeys(rows.filter(handed_at__isnull=False).values_list("pk", flat=True), None)
            messages_update(
                {
                    pk: {
                        "status": MessageStatus.FAILED,
                        "reason": "the worker stopped after handing the batch to a provider that cannot tell "
                        "a repeat apart; not resent to avoid a duplicate (outcome unknown)",
                        "claim": None,
                        "claimed_at": None,
                    }
                    for pk in unknown
                }
            )
    if freed:
        logger.warning("freed %d message(s) claimed by a worker that stopped", freed)
    return freed


def messages_send_claimed(*, claim: uuid.UUID, account: ProviderAccount, content: object = None) -> int:
    """Send the messages held by `claim`: the sending rule again, the channel's composition
    (variables, segments, template parameters), rate limit, the provider call, and the answer
    recorded. `content` is the campaign's (messaging.channels); None sends each row's own text.
    Returns how many the provider accepted."""
    connector: MessagingConnector = account.connector_instance()
    via = adapter(account.channel)
    rows = list(
        Message.objects.filter(claim=claim).values(
            "pk",
            "campaign_id",
            "contact_id",
            "addressed_contact_id",
            "account_id",
            "kind",
            "channel",
            "to",
            "sender",
            "text",
            "template_id",
            "parameters",
            "attempts",
        )
    )
    if not rows:
        return 0
    now = timezone.now()
    updates: dict[int, dict] = {}
    by_kind: dict[tuple, list[int]] = {}
    for row in rows:
        if row["contact_id"]:
            by_kind.setdefault((row["kind"], row["channel"]), []).append(row["contact_id"])
    contacts: dict[int, dict] = {}
    for (kind, channel), contact_ids in by_kind.items():
        for values in audience_with_exclusions(
            Contact.objects.filter(pk__any_of=contact_ids), kind=kind, channel=channel
        ).values("pk", "exclusion", "phone", "email", "external_id", "whatsapp_number", "attributes"):
            contacts[values.pop("pk")] = values
    labels = dict(Exclusion.choices)
    outbound: list[OutboundMessage] = []
    for row in rows:
        contact = contacts.get(row["contact_id"]) if row["contact_id"] else None
        if (row["addressed_contact_id"] or row["contact_id"]) and contact is None:
            # made for a contact that is gone (its key was set to NULL): never sent, never unchecked
            updates[row["pk"]] = _release(MessageStatus.SKIPPED, CONTACT_DELETED)
            continue
        if contact is None and not (row["kind"] == MessageKind.TRANSACTIONAL and via.transactional_skips_consent):
            # an alert or single send to a number of no contact: nothing says it is subscribed
            updates[row["pk"]] = _release(MessageStatus.SKIPPED, NO_CONTACT)
            continue
        if contact is not None and contact["exclusion"] != SENDABLE:
            # the sending rule, checked again at send time: a RET or a bounce that arrived mid-campaign
            updates[row["pk"]] = _release(
                MessageStatus.SKIPPED, str(labels.get(contact["exclusion"], contact["exclusion"]))
            )
            continue
        values = contact_values(**_values(contact)) if contact else contact_values()
        to = contact[via.address_field] if contact else row["to"]
        composed = via.compose(
            connector=connector, row={**row, "key": message_key(row["pk"]), "to": to}, content=content, values=values
        )
        if isinstance(composed, str):
            updates[row["pk"]] = _release(MessageStatus.FAILED, composed)
            continue
        updates[row["pk"]] = {"to": to, **composed.changes}
        outbound.append(composed.outbound)
    if outbound:
        ratelimit.wait_for(f"account:{account.pk}", count=len(outbound), rate=connector.rate_limit)
        ids = [int(m.key.rpartition("-")[2]) for m in outbound]
        if not connector.idempotent:  # a stopped worker's batch is then never sent twice (stale claims)
            Message.objects.filter(pk__any_of=ids, claim=claim).update(handed_at=timezone.now())
        attempts = {row["pk"]: row["attempts"] for row in rows}
        try:
            results = connector.send_batch(outbound, webhook_url=account.webhook_url if connector.has_webhook else "")
        except SendError as exc:
            _record_send_error(exc, ids, attempts, connector, updates)
            if getattr(exc, "stop_campaign", False) or getattr(exc, "account_problem", False):
                _pause_campaigns({row["campaign_id"] for row in rows if row["campaign_id"]}, reason=str(exc))
        else:
            for result in results:
                pk = int(result.key.rpartition("-")[2])
                change = updates[pk]
                change.update(
                    status=result.status,
                    raw_status=result.raw_status[:120],
                    reason=result.error[:255],
                    provider_id=result.provider_id,
                    sent_at=now,
                    claim=None,
                    claimed_at=None,
                    attempts=attempts[pk] + 1,
                )
                if result.segments:
                    change["segments"] = result.segments
            if any(r.consent_refused for r in results):
                refused = {r.key for r in results if r.consent_refused}
                via.consent_refused(recipients=sorted({m.to for m in outbound if m.key in refused}), account=account)
    messages_update(updates)
    return sum(1 for change in updates.values() if change.get("sent_at"))


CONTACT_DELETED = "the contact was deleted"
NO_CONTACT = "the number belongs to no contact, so nothing says it is subscribed or opted in"


def _values(contact: dict) -> dict:
    return {f: contact.get(f) for f in ("external_id", "email", "phone", "whatsapp_number", "attributes")}


def _release(status: str, reason: str) -> dict:
    return {"status": status, "reason": reason[:255], "claim": None, "claimed_at": None}


def _pause_campaigns(campaign_ids: set[int], *, reason: str) -> None:
    """The provider asked us to stop (WhatsApp 131048/131064), or the account cannot send: the
    campaign pauses with the reason, for an admin to read on its page, and resumes when told."""
    paused = Campaign.objects.filter(pk__in=campaign_ids, status=CampaignStatus.SENDING).update(
        status=CampaignStatus.PAUSED, status_reason=reason[:255]
    )
    if paused:
        logger.warning("campaign(s) %s paused: %s", sorted(campaign_ids), reason)


def _record_send_error(exc: SendError, ids: list[int], attempts: dict[int, int], connector, updates) -> None:
    now = timezone.now()
    for pk in ids:
        tries = attempts[pk] + 1
        if exc.permanent:
            change = _release(exc.status or MessageStatus.REJECTED, str(exc))
        elif exc.maybe_sent and not connector.idempotent:
            change = _release(MessageStatus.FAILED, f"{exc}; the provider may have sent it, so it is not resent")
        elif tries >= settings.SMS_MAX_ATTEMPTS:
            change = _release(MessageStatus.FAILED, f"{exc} (gave up after {tries} attempts)")
        else:
            backoff = exc.retry_after if exc.retry_after is not None else min(300, 2**tries)
            change = {
                "claim": None,
                "claimed_at": None,
                "next_attempt_at": now + timedelta(seconds=backoff),
                "reason": str(exc)[:255],
            }
        change["attempts"] = tries
        change["raw_status"] = exc.code
        updates[pk].update(change)
    logger.warning("send of %d message(s) failed: %s (permanent=%s)", len(ids), exc, exc.permanent)
