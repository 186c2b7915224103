"""Sending one claimed batch (providers.md §0.2): the sending rule again for the claimed rows (a
contact deleted or excluded since the row was made is skipped), the channel's composition
(messaging.channels), the account's rate limit, the batch marked handed over where the provider
cannot dedup, the provider call (a batch request, or each message on its own where the provider
takes one per request), and every answer recorded through messaging.delivery."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from consent.models import MessageKind
from consent.selectors import SENDABLE, Exclusion, audience_with_exclusions
from contacts.models import Contact
from messaging.channels import adapter
from messaging.delivery import messages_update
from messaging.handoff import batch_handed, batch_recorded
from messaging.models import Campaign, CampaignStatus, Message, MessageStatus, message_key
from messaging.policy import Judge
from messaging.rendering import contact_values
from providers import ratelimit
from providers.base import MessagingConnector, OutboundMessage, SendError, SendResult
from providers.models import ProviderAccount

logger = logging.getLogger(__name__)


def messages_send_claimed(
    *, claim: uuid.UUID, account: ProviderAccount, content: object = None, connector: MessagingConnector | None = None
) -> int:
    """Send the messages held by `claim`: the sending rule again, the channel's composition
    (variables, segments, template parameters), rate limit, the provider call, and the answer
    recorded. `content` is the campaign's (messaging.channels); None sends each row's own text.
    Returns how many the provider accepted."""
    connector = connector or account.connector_instance()  # a dispatcher's own: its connections stay open
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
    judge = Judge(rows, now=now)  # the frequency cap and quiet hours (messaging.policy)
    bypassed = 0
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
        if (until := judge.defer_until(row)) is not None:  # a newsletter in quiet hours: at their end
            updates[row["pk"]] = {"claim": None, "claimed_at": None, "next_attempt_at": until}
            continue
        if refusal := judge.refusal(row):
            updates[row["pk"]] = _release(MessageStatus.SKIPPED, refusal)
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
        if bypass := judge.bypass(row):
            updates[row["pk"]]["policy_bypass"] = bypass
            bypassed += 1
        judge.counted(row)
        outbound.append(composed.outbound)
    if bypassed:
        logger.info("account %s: %d transactional message(s) sent despite the sending policy", account.pk, bypassed)
    handed = False
    if outbound:
        ratelimit.wait_for(f"account:{account.pk}", count=len(outbound), rate=connector.rate_limit)
        ids = [_pk(m.key) for m in outbound]
        if handed := not connector.idempotent:  # a stopped worker's batch is never sent twice (stale claims)
            held = batch_handed(claim=claim, message_ids=ids)  # what the wait left this batch to send
            if len(held) < len(ids):
                taken = len(ids) - len(held)
                logger.warning("%d message(s) of a batch were taken by another worker during its wait", taken)
                outbound = [m for m in outbound if _pk(m.key) in held]
                ids = [pk for pk in ids if pk in held]
        attempts = {row["pk"]: row["attempts"] for row in rows}
        campaign_ids = {row["campaign_id"] for row in rows if row["campaign_id"]}
        results: list[SendResult] = []
        failures: list[tuple[int, SendError]] = []
        if connector.one_per_request:  # each message its own request, several at once: its own outcome
            for message, outcome in zip(outbound, connector.send_each(outbound), strict=True):
                if isinstance(outcome, SendError):
                    failures.append((_pk(message.key), outcome))
                else:
                    results.append(outcome)
        else:
            try:
                results = connector.send_batch(
                    outbound, webhook_url=account.webhook_url if connector.has_webhook else ""
                )
            except SendError as exc:
                failures = [(pk, exc) for pk in ids]
        for pk, exc in failures:
            _record_send_error(exc, [pk], attempts, connector, updates, log=len(failures) == 1)
        if len(failures) > 1:
            logger.warning("send of %d message(s) failed: %s", len(failures), failures[0][1])
        if stops := [exc for _pk_, exc in failures if _stops_sending(exc)]:
            _pause_campaigns(campaign_ids, reason=str(stops[0]))
        _hold_account(account, connector, [exc for _pk_, exc in failures])
        for result in results:
            pk = _pk(result.key)
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
    messages_update(updates, claim=claim)  # only rows this batch still holds: none another took
    if handed:
        batch_recorded(claim=claim)
    return sum(1 for change in updates.values() if change.get("sent_at"))


CONTACT_DELETED = "the contact was deleted"
NO_CONTACT = "the number belongs to no contact, so nothing says it is subscribed or opted in"


def _values(contact: dict) -> dict:
    return {f: contact.get(f) for f in ("external_id", "email", "phone", "whatsapp_number", "attributes")}


def _release(status: str, reason: str) -> dict:
    return {"status": status, "reason": reason[:255], "claim": None, "claimed_at": None}


def _stops_sending(exc: SendError) -> bool:
    return getattr(exc, "stop_campaign", False) or getattr(exc, "account_problem", False)


def _hold_account(account: ProviderAccount, connector: MessagingConnector, errors: list[SendError]) -> None:
    """The provider said the account's throughput is spent (WhatsApp 130429, not one recipient's
    131056): every worker sending through the account waits, by pushing its shared rate limit
    forward by the time the provider asked for."""
    waits = [e.retry_after for e in errors if e.retry_after and not getattr(e, "per_recipient", False)]
    if waits and connector.rate_limit:
        hold = min(max(waits), 60.0)
        count = max(1, int(hold * connector.rate_limit))
        ratelimit.reserve(f"account:{account.pk}", count=count, rate=connector.rate_limit)
        logger.warning("account %s: the provider's throughput limit was hit; sending waits %.0f s", account.pk, hold)


def _pause_campaigns(campaign_ids: set[int], *, reason: str) -> None:
    """The provider asked us to stop (WhatsApp 131048/131064), or the account cannot send: the
    campaign pauses with the reason, for an admin to read on its page, and resumes when told."""
    paused = Campaign.objects.filter(pk__in=campaign_ids, status=CampaignStatus.SENDING).update(
        status=CampaignStatus.PAUSED, status_reason=reason[:255]
    )
    if paused:
        logger.warning("campaign(s) %s paused: %s", sorted(campaign_ids), reason)


def _pk(key: str) -> int:
    return int(key.rpartition("-")[2])


def _record_send_error(
    exc: SendError, ids: list[int], attempts: dict[int, int], connector, updates, *, log: bool = True
) -> None:
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
            if not exc.maybe_sent:  # it certainly did not leave: a worker stopping later may resend it
                change["handed_at"] = None
        change["attempts"] = tries
        change["raw_status"] = exc.code
        updates[pk].update(change)
    if log:
        logger.warning("send of %d message(s) failed: %s (permanent=%s)", len(ids), exc, exc.permanent)
