"""Campaigns and single messages of every channel (product.md SMS and WhatsApp channels):
validation (the common checks here, the channel's through its adapter), the transactional
permission, start/schedule, the making of the message rows (exactly once: one Message row per
(campaign, contact) the sending rule allows, a unique constraint holds it), pause, resume, cancel.
Sending itself is messaging.dispatch."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.utils import timezone

from config.db import tuned_for_counting
from consent.models import MessageKind
from consent.selectors import SENDABLE, Exclusion, exclusion_counts, sendable
from contacts.phones import to_e164
from messaging.channels import adapter, needs_confirmation
from messaging.dispatch import campaign_dispatcher_lease, messages_claim
from messaging.models import Audience, Campaign, CampaignStatus, Message, MessageStatus, MessageStatusEvent
from messaging.selectors import audience_filter_problems, campaign_audience
from messaging.sending import NO_CONTACT, messages_send_claimed
from messaging.signals import status_moved
from providers.base import MessagingConnector

logger = logging.getLogger(__name__)


class CampaignError(Exception):
    """An illegal action on a campaign, said in the marketer's words."""


# --- campaigns ------------------------------------------------------------------------------------


def campaign_validate(campaign: Campaign) -> None:
    """The checks a campaign must pass before it is saved or started."""
    errors = {}
    via = adapter(campaign.channel)
    if (kind := via.derived_kind(campaign)) is not None:
        campaign.kind = kind
    if campaign.account_id and campaign.account.channel != campaign.channel:
        errors["account"] = f"this account does not send {campaign.get_channel_display()}"
    else:
        errors.update(via.campaign_problems(campaign))
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
    if campaign.audience == Audience.SEGMENT:
        from messaging.segments import definition_problems

        if not campaign.segment_id:
            errors["segment"] = "choose the segment to send to"
        elif problems := definition_problems(campaign.segment.definition):
            errors["segment"] = "this segment cannot be used: " + "; ".join(problems)
    if campaign.account_id and "account" not in errors:
        account = campaign.account
        if not account.is_active:
            errors["account"] = "this provider account is switched off"
        elif not isinstance(account.connector_instance(), MessagingConnector):
            errors["account"] = "this account cannot send messages"
    if errors:
        raise ValidationError(errors)


TRANSACTIONAL_PERMISSION = "messaging.send_transactional"
COMMAND_LINE = "command line"


def may_choose_transactional(user) -> bool:
    """Choosing "transactional" skips the subscription and İYS checks, so it is a permission of its
    own (Admins have it; a Marketer only when granted). None is the command line (ops)."""
    return user is None or user.has_perm(TRANSACTIONAL_PERMISSION)


def campaign_authorise_kind(*, campaign: Campaign, acting_user, changed: bool = True) -> None:
    """Refuses a transactional campaign made or changed by someone who may not choose it."""
    if needs_confirmation(campaign) and changed and not may_choose_transactional(acting_user):
        raise ValidationError(
            {
                "kind": "you may not send transactional messages (they skip the subscription and İYS checks): "
                "choose newsletter, or ask an admin"
            }
        )


def campaign_record_kind(*, campaign: Campaign, acting_user, kind_changed: bool) -> None:
    """Keeps who chose "transactional" on the campaign (and, from the panel, in its history). Only
    someone who may choose it confirms it, and what they confirm is the text as it is now: the
    campaign keeps a copy, so a template edited later changes nothing it sends (Campaign.body)."""
    if not needs_confirmation(campaign):
        campaign.transactional_chosen_by = None
        campaign.transactional_chosen_by_name = ""
        campaign.transactional_chosen_at = None
        return
    if not may_choose_transactional(acting_user):
        return  # a save by someone else confirms nothing (and the form refuses their changes)
    campaign.text = campaign.template.text if campaign.template_id else campaign.text
    campaign.transactional_chosen_by = acting_user
    campaign.transactional_chosen_by_name = getattr(acting_user, "username", COMMAND_LINE)
    campaign.transactional_chosen_at = timezone.now()


def campaign_log_transactional(*, campaign: Campaign, acting_user) -> None:
    """The campaign's admin history gets a line saying who chose transactional."""
    if acting_user is None or not needs_confirmation(campaign):
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
        campaign.sender = adapter(campaign.channel).default_sender(campaign)
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
        _refuse_unconfirmed_transactional(campaign)
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


def _refuse_unconfirmed_transactional(campaign: Campaign) -> None:
    if needs_confirmation(campaign) and not campaign.transactional_chosen_at:
        raise CampaignError(
            "nobody allowed to send transactional messages has confirmed this campaign's kind: "
            "an admin opens it and saves it again, or it is changed to newsletter"
        )


def _queue_dispatch(campaign_id: int) -> None:
    from messaging.tasks import dispatch_campaign, prepare_campaign

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
        .values(cid=F("pk"), cphone=F(adapter(campaign.channel).address_field))
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
        _refuse_unconfirmed_transactional(campaign)
        campaign.status = CampaignStatus.SENDING
        campaign.status_reason = ""
        campaign.save(update_fields=["status", "status_reason"])
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
        _history_of_cancelled(campaign_id, now)
    return campaign


def _history_of_cancelled(campaign_id: int, now) -> None:
    """The cancelled messages' history rows, in one statement (a campaign may hold a million), and
    their status_moved signal (its changes streamed)."""
    events, messages = MessageStatusEvent._meta.db_table, Message._meta.db_table
    adapted = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {events} (message_id, status, raw_status, reason, at)"  # noqa: S608
            f" SELECT id, %s, '', '', %s FROM {messages} WHERE campaign_id = %s AND status = %s AND done_at = %s",
            [MessageStatus.CANCELLED, adapted, campaign_id, MessageStatus.CANCELLED, adapted],
        )
    if status_moved.has_listeners():
        rows = Message.objects.filter(campaign_id=campaign_id, status=MessageStatus.CANCELLED, done_at=now)
        status_moved.send(sender=Message, changes=_cancelled(rows, now))


def _cancelled(rows, now):
    """status_moved's changes for a cancel, read only if a listener iterates them."""
    for row in rows.values("id", "channel", "to", "campaign_id").iterator(chunk_size=5000):
        yield {**row, "status": MessageStatus.CANCELLED, "raw_status": "", "reason": "", "at": now}


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


# --- single messages (sms_send, alerts, test sends) -----------------------------------------------


def message_send_now(message: Message, *, acting_user=None) -> Message:
    """Save a single message a channel made and send it at once under the sending rule. A
    message to a number of no contact may be transactional only (nothing says it is subscribed);
    it is then recorded as skipped, never sent. Whoever chose transactional must be allowed to."""
    if (
        message.kind == MessageKind.TRANSACTIONAL
        and adapter(message.channel).transactional_skips_consent
        and not may_choose_transactional(acting_user)
    ):
        raise ValidationError(
            {"kind": "you may not send transactional messages (they skip the subscription and İYS checks)"}
        )
    skips_consent = message.kind == MessageKind.TRANSACTIONAL and adapter(message.channel).transactional_skips_consent
    refusal = NO_CONTACT if message.contact_id is None and not skips_consent else ""
    if refusal := refusal or getattr(message, "submit_refusal", ""):  # the channel's own: WhatsApp's window
        message.status = MessageStatus.SKIPPED
        message.reason = refusal[:255]
        message.done_at = timezone.now()
        message.addressed_contact_id = message.contact_id
        message.save()
        return message
    message.addressed_contact_id = message.contact_id
    message.save()
    claim = messages_claim(ids=[message.pk], limit=1)
    if claim is not None:
        messages_send_claimed(claim=claim, account=message.account)
    message.refresh_from_db()
    logger.info(
        "single %s message %s to %s by %s: %s",
        message.channel,
        message.pk,
        message.to,
        getattr(acting_user, "username", "command line"),
        message.status,
    )
    return message
