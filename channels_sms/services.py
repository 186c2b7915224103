"""Campaigns and dispatch (issue 5; product.md SMS channel; providers.md §0.2).

Exactly once: starting a campaign makes one Message row per (campaign, contact) the sending rule
allows (a unique constraint holds it). Dispatch workers claim batches with a conditional UPDATE,
check the sending rule again for the claimed rows, wait for the account's rate limit, mark the
batch handed over, send it with each message's id as the provider's idempotency key, and record
the answer through channels_sms.delivery. A worker killed at any moment leaves its batch claimed;
after SMS_CLAIM_TIMEOUT_SECONDS the batch is freed: sent again where the provider dedups on our
id (or where it never left), otherwise marked failed as "outcome unknown" rather than risk a
duplicate."""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.utils import timezone

from channels_sms.delivery import messages_update, stale_claims
from channels_sms.encoding import count_segments, normalise, profile_for
from channels_sms.models import Audience, Campaign, CampaignStatus, Message, MessageStatus, message_key
from channels_sms.rendering import contact_values, render
from channels_sms.selectors import audience_filter_problems, campaign_audience
from config.db import tuned_for_counting
from consent.models import MessageKind, RecipientType
from consent.selectors import SENDABLE, Exclusion, audience_with_exclusions, exclusion_counts, sendable
from contacts.models import Contact
from contacts.phones import to_e164
from providers import ratelimit
from providers.base import MessagingConnector, OutboundMessage, SendError
from providers.models import ProviderAccount
from providers.sms import sender_problem

logger = logging.getLogger(__name__)


class CampaignError(Exception):
    """An illegal action on a campaign, said in the marketer's words."""


# --- campaigns ------------------------------------------------------------------------------------


def campaign_validate(campaign: Campaign) -> None:
    """The checks a campaign must pass before it is saved or started."""
    errors = {}
    if problem := sender_problem(campaign.sender):
        errors["sender"] = problem
    if not (campaign.body or "").strip():
        errors["text"] = "the message has no text: choose a template or write a custom text"
    if campaign.audience == Audience.LIST and not campaign.contact_list_id:
        errors["contact_list"] = "choose the list to send to"
    if campaign.audience == Audience.ALERT:
        parsed = to_e164(campaign.alert_phone or "")
        if parsed is None:
            errors["alert_phone"] = f"the alert number '{campaign.alert_phone}' is not a valid phone number"
        else:
            campaign.alert_phone = parsed
    if campaign.audience == Audience.FILTER and (problems := audience_filter_problems(campaign.audience_filter)):
        errors["audience_filter"] = problems
    if campaign.account_id:
        account = campaign.account
        if not account.is_active:
            errors["account"] = "this provider account is switched off"
        elif not isinstance(account.connector_instance(), MessagingConnector):
            errors["account"] = "this account cannot send messages"
    if errors:
        raise ValidationError(errors)


TRANSACTIONAL_PERMISSION = "channels_sms.send_transactional"
COMMAND_LINE = "command line"


def may_choose_transactional(user) -> bool:
    """Choosing "transactional" skips the subscription and İYS checks, so it is a permission of its
    own (Admins have it; a Marketer only when granted). None is the command line (ops)."""
    return user is None or user.has_perm(TRANSACTIONAL_PERMISSION)


def campaign_authorise_kind(*, campaign: Campaign, acting_user, changed: bool = True) -> None:
    """Refuses a transactional campaign made or changed by someone who may not choose it."""
    if campaign.kind == MessageKind.TRANSACTIONAL and changed and not may_choose_transactional(acting_user):
        raise ValidationError(
            {
                "kind": "you may not send transactional messages (they skip the subscription and İYS checks): "
                "choose newsletter, or ask an admin"
            }
        )


def campaign_record_kind(*, campaign: Campaign, acting_user, kind_changed: bool) -> None:
    """Keeps who chose "transactional" on the campaign (and, from the panel, in its history)."""
    if campaign.kind != MessageKind.TRANSACTIONAL:
        campaign.transactional_chosen_by = None
        campaign.transactional_chosen_by_name = ""
        campaign.transactional_chosen_at = None
        return
    if kind_changed or not campaign.transactional_chosen_at:
        campaign.transactional_chosen_by = acting_user
        campaign.transactional_chosen_by_name = getattr(acting_user, "username", COMMAND_LINE)
        campaign.transactional_chosen_at = timezone.now()


def campaign_log_transactional(*, campaign: Campaign, acting_user) -> None:
    """The campaign's admin history gets a line saying who chose transactional."""
    if acting_user is None or campaign.kind != MessageKind.TRANSACTIONAL:
        return
    from django.contrib.admin.models import CHANGE, LogEntry

    LogEntry.objects.log_actions(
        user_id=acting_user.pk,
        queryset=[campaign],
        action_flag=CHANGE,
        change_message=f"Kind set to transactional by {acting_user.username}: subscription and İYS are not checked.",
        single_object=True,
    )


def campaign_create(*, acting_user=None, **fields) -> Campaign:
    campaign = Campaign(created_by=acting_user, **fields)
    if not campaign.sender and campaign.account_id:
        campaign.sender = (campaign.template.sender if campaign.template_id else "") or campaign.account.settings.get(
            "sender", ""
        )
    campaign_validate(campaign)
    campaign_authorise_kind(campaign=campaign, acting_user=acting_user)
    campaign_record_kind(campaign=campaign, acting_user=acting_user, kind_changed=True)
    campaign.save()
    campaign_log_transactional(campaign=campaign, acting_user=acting_user)
    return campaign


def campaign_start(*, campaign_id: int, acting_user=None, now=None) -> Campaign:
    """Send now, or schedule when send_at is in the future. Counts the exclusions (the sending
    rule over the whole audience), then queues the making of the message rows in chunks
    (`campaign_prepare`) and the dispatch, which sends each chunk as soon as it is made."""
    now = now or timezone.now()
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        if campaign.status not in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED):
            raise CampaignError(f"the campaign is {campaign.get_status_display().lower()}; it cannot be started")
        campaign_validate(campaign)
        if campaign.kind == MessageKind.TRANSACTIONAL and not campaign.transactional_chosen_at:
            raise CampaignError(
                "nobody allowed to send transactional messages has confirmed this campaign's kind: "
                "an admin opens it and saves it again, or it is changed to newsletter"
            )
        if campaign.send_at and campaign.send_at > now:
            campaign.status = CampaignStatus.SCHEDULED
            campaign.save(update_fields=["status"])
            return campaign
        if campaign.audience == Audience.ALERT and not campaign_audience(campaign).exists():
            expected, excluded = _alert_without_contact(campaign)
            campaign.prepared_at = now
        else:
            expected, excluded = _count_audience(campaign)
        campaign.status = CampaignStatus.SENDING
        campaign.started_at = now
        campaign.message_count = expected
        campaign.excluded = excluded
        campaign.save(update_fields=["status", "started_at", "message_count", "excluded", "alert_phone", "prepared_at"])
        logger.info(
            "campaign %s started by %s: %d recipients",
            campaign.pk,
            getattr(acting_user, "username", "schedule"),
            expected,
        )
    transaction.on_commit(lambda: _queue_dispatch(campaign.pk))
    return campaign


def _queue_dispatch(campaign_id: int) -> None:
    from channels_sms.tasks import dispatch_campaign, prepare_campaign

    prepare_campaign.delay(campaign_id)  # in-process (eager): every row is made before the send below
    parallel = 1 if settings.CELERY_TASK_ALWAYS_EAGER else settings.SMS_DISPATCH_PARALLELISM
    campaign_dispatcher_lease(campaign_id=campaign_id, seconds=0)
    for _ in range(parallel):
        dispatch_campaign.delay(campaign_id)


def _count_audience(campaign: Campaign) -> tuple[int, dict]:
    """(recipients the sending rule lets through, exclusions by reason) at start."""
    counts = exclusion_counts(campaign_audience(campaign), kind=campaign.kind, channel=campaign.channel)
    sendable_now = counts.pop(SENDABLE, 0)
    return sendable_now, counts


def _alert_without_contact(campaign: Campaign) -> tuple[int, dict]:
    if campaign.kind != MessageKind.TRANSACTIONAL:
        return 0, {Exclusion.NOT_SUBSCRIBED.value: 1}
    Message.objects.create(
        channel=campaign.channel,
        kind=campaign.kind,
        campaign=campaign,
        account=campaign.account,
        to=campaign.alert_phone,
        sender=campaign.sender,
    )
    return 1, {}


def campaign_prepare(*, campaign_id: int, chunk: int | None = None, max_chunks: int | None = None) -> bool:
    """Make the campaign's message rows, `chunk` contacts (by id) per transaction, each chunk one
    INSERT … SELECT of the sendable contacts with ON CONFLICT DO NOTHING (exactly once) and the
    resume point saved with it. Another preparer holding the campaign makes this one step back.
    Returns True when every row is made (or the campaign stopped)."""
    chunk = chunk or settings.SMS_PREPARE_CHUNK
    done_chunks = 0
    while max_chunks is None or done_chunks < max_chunks:
        with transaction.atomic():
            nowait = connection.features.has_select_for_update_nowait
            try:
                with transaction.atomic():  # a savepoint: a refused lock leaves the transaction usable
                    campaign = Campaign.objects.select_for_update(nowait=nowait).get(pk=campaign_id)
            except DatabaseError:  # another worker is making this campaign's rows
                return False
            if campaign.prepared_at or campaign.status not in (CampaignStatus.SENDING, CampaignStatus.PAUSED):
                return True
            audience = campaign_audience(campaign).filter(pk__gt=campaign.prepared_up_to)
            upper = max(audience.order_by("pk").values_list("pk", flat=True)[:chunk], default=None)
            if upper is None:
                campaign.prepared_at = timezone.now()
                campaign.message_count = Message.objects.filter(campaign=campaign).count()
                campaign.save(update_fields=["prepared_at", "message_count"])
                return True
            with tuned_for_counting():
                _insert_messages(campaign, audience.filter(pk__lte=upper))
            campaign.prepared_up_to = upper
            campaign.save(update_fields=["prepared_up_to"])
        done_chunks += 1
    return False


def _insert_messages(campaign: Campaign, contacts) -> int:
    source = (
        sendable(contacts, kind=campaign.kind, channel=campaign.channel)
        .order_by()
        .values(cid=F("pk"), cphone=F("phone"))
    )
    select_sql, params = source.query.sql_with_params()
    table = connection.ops.quote_name(Message._meta.db_table)
    now = timezone.now()
    sql = (
        f'INSERT INTO {table} (channel, kind, campaign_id, contact_id, addressed_contact_id, account_id, "to", '  # noqa: S608
        "sender, text, status, reason, raw_status, provider_id, encoding, attempts, created_at, updated_at) "
        "SELECT %s, %s, %s, src.cid, src.cid, %s, src.cphone, %s, '', %s, '', '', '', '', 0, %s, %s "
        f"FROM ({select_sql}) AS src WHERE true ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                campaign.channel,
                campaign.kind,
                campaign.pk,
                campaign.account_id,
                campaign.sender,
                MessageStatus.PENDING,
                now,
                now,
                *params,
            ],
        )
        return cursor.rowcount


def campaign_pause(*, campaign_id: int) -> Campaign:
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        if campaign.status != CampaignStatus.SENDING:
            raise CampaignError("only a campaign that is sending can be paused")
        campaign.status = CampaignStatus.PAUSED
        campaign.save(update_fields=["status"])
    return campaign


def campaign_resume(*, campaign_id: int) -> Campaign:
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        if campaign.status != CampaignStatus.PAUSED:
            raise CampaignError("only a paused campaign can be resumed")
        campaign.status = CampaignStatus.SENDING
        campaign.save(update_fields=["status"])
    transaction.on_commit(lambda: _queue_dispatch(campaign.pk))
    return campaign


def campaign_cancel(*, campaign_id: int) -> Campaign:
    """Stop for good: messages not yet handed to the provider are cancelled."""
    now = timezone.now()
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        if campaign.status in (CampaignStatus.DONE, CampaignStatus.CANCELLED):
            raise CampaignError(f"the campaign is already {campaign.get_status_display().lower()}")
        campaign.status = CampaignStatus.CANCELLED
        campaign.finished_at = now
        campaign.save(update_fields=["status", "finished_at"])
        Message.objects.filter(campaign=campaign, status=MessageStatus.PENDING, claim__isnull=True).update(
            status=MessageStatus.CANCELLED, done_at=now, updated_at=now
        )
    return campaign


def campaigns_start_due(*, now=None) -> list[int]:
    now = now or timezone.now()
    started = []
    for pk in Campaign.objects.filter(status=CampaignStatus.SCHEDULED, send_at__lte=now).values_list("pk", flat=True):
        try:
            campaign_start(campaign_id=pk, now=now)
            started.append(pk)
        except (CampaignError, ValidationError) as exc:
            logger.warning("scheduled campaign %s could not start: %s", pk, exc)
    return started


# --- dispatch -------------------------------------------------------------------------------------


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
        total += messages_send_claimed(claim=claim, account=campaign.account, body=campaign.body)
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


def messages_send_claimed(*, claim: uuid.UUID, account: ProviderAccount, body: str | None = None) -> int:
    """Send the messages held by `claim`: the sending rule again, variables, rate limit, the
    provider call, and the answer recorded. Returns how many the provider accepted."""
    connector: MessagingConnector = account.connector_instance()
    rows = list(
        Message.objects.filter(claim=claim).values(
            "pk", "contact_id", "addressed_contact_id", "kind", "channel", "to", "sender", "text", "attempts"
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
    profile = profile_for(connector)
    outbound: list[OutboundMessage] = []
    for row in rows:
        contact = contacts.get(row["contact_id"]) if row["contact_id"] else None
        if (row["addressed_contact_id"] or row["contact_id"]) and contact is None:
            # made for a contact that is gone (its key was set to NULL): never sent, never unchecked
            updates[row["pk"]] = _release(MessageStatus.SKIPPED, CONTACT_DELETED)
            continue
        if contact is None and row["kind"] != MessageKind.TRANSACTIONAL:
            # an alert or single send to a number of no contact: nothing says it is subscribed
            updates[row["pk"]] = _release(MessageStatus.SKIPPED, NO_CONTACT)
            continue
        if contact is not None and contact["exclusion"] != SENDABLE:
            # the sending rule, checked again at send time: a RET or a bounce that arrived mid-campaign
            updates[row["pk"]] = _release(
                MessageStatus.SKIPPED, str(labels.get(contact["exclusion"], contact["exclusion"]))
            )
            continue
        template = body if body is not None else row["text"]
        values = contact_values(**_values(contact)) if contact else contact_values()
        text = normalise(render(template, values)[0])
        if not text.strip():
            updates[row["pk"]] = _release(MessageStatus.FAILED, "the text is empty once its variables are filled in")
            continue
        to = contact["phone"] if contact else row["to"]
        segmentation = count_segments(text, profile=profile)
        updates[row["pk"]] = {
            "text": text,
            "to": to,
            "segments": segmentation.segments,
            "encoding": segmentation.encoding,
        }
        outbound.append(
            OutboundMessage(
                key=message_key(row["pk"]),
                to=to,
                text=text,
                sender=row["sender"],
                commercial=row["kind"] == MessageKind.NEWSLETTER,
                recipient_type=RecipientType.BIREYSEL,
            )
        )
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
                from consent.services import consent_refused_by_provider

                refused = {r.key for r in results if r.consent_refused}
                consent_refused_by_provider(
                    recipients=sorted({m.to for m in outbound if m.key in refused}),
                    origin_ref=f"provider account {account.pk}",
                )
    messages_update(updates)
    return sum(1 for change in updates.values() if change.get("sent_at"))


CONTACT_DELETED = "the contact was deleted"
NO_CONTACT = "the number belongs to no contact, so nothing says it is subscribed (newsletters need it)"


def _values(contact: dict) -> dict:
    return {f: contact.get(f) for f in ("external_id", "email", "phone", "whatsapp_number", "attributes")}


def _release(status: str, reason: str) -> dict:
    return {"status": status, "reason": reason[:255], "claim": None, "claimed_at": None}


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


# --- single messages (sms_send, alerts, test sends) -----------------------------------------------


def message_send(
    *, to: str, text: str, kind: str, account: ProviderAccount, sender: str = "", acting_user=None
) -> Message:
    """Send one SMS now, under the sending rule: a number that belongs to a contact takes that
    contact's status and consent; one that belongs to none may receive transactional messages only."""
    parsed = to_e164(to)
    if parsed is None:
        raise ValidationError({"to": f"'{to}' is not a valid phone number"})
    sender = sender or account.settings.get("sender", "")
    if problem := sender_problem(sender):
        raise ValidationError({"sender": problem})
    if not text.strip():
        raise ValidationError({"text": "the message has no text"})
    if kind == MessageKind.TRANSACTIONAL and not may_choose_transactional(acting_user):
        raise ValidationError(
            {"kind": "you may not send transactional messages (they skip the subscription and İYS checks)"}
        )
    contact = Contact.objects.filter(phone=parsed).order_by("pk").first()
    message = Message(
        channel="sms",
        kind=kind,
        account=account,
        to=parsed,
        sender=sender,
        text=text,
        contact=contact,
        addressed_contact_id=contact.pk if contact else None,
    )
    if contact is None and kind != MessageKind.TRANSACTIONAL:
        message.status = MessageStatus.SKIPPED
        message.reason = NO_CONTACT
        message.done_at = timezone.now()
        message.save()
        return message
    message.save()
    claim = messages_claim(ids=[message.pk], limit=1)
    if claim is not None:
        messages_send_claimed(claim=claim, account=account, body=text)
    message.refresh_from_db()
    logger.info(
        "single SMS %s to %s by %s: %s",
        message.pk,
        parsed,
        getattr(acting_user, "username", "command line"),
        message.status,
    )
    return message
