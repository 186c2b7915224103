"""Thin Celery wrappers (queue `sending`, routed in settings)."""

from celery import shared_task
from django.conf import settings


@shared_task(name="messaging.tasks.dispatch_campaign")
def dispatch_campaign(campaign_id: int) -> int:
    """Send for a while, then queue itself again: long campaigns never hit the task time limit,
    and a worker killed mid-batch leaves work that this task (redelivered) or another finishes."""
    from messaging.dispatch import campaign_dispatch, campaign_dispatcher_lease

    eager = settings.CELERY_TASK_ALWAYS_EAGER
    budget = None if eager else 20
    while True:
        campaign_dispatcher_lease(campaign_id=campaign_id, seconds=budget or 0)
        outcome = campaign_dispatch(campaign_id=campaign_id, budget_seconds=budget)
        if outcome.done:
            return outcome.sent
        # the copy queued below (or the next sending_tick) looks at the campaign after the wait
        campaign_dispatcher_lease(campaign_id=campaign_id, seconds=outcome.wait)
        if not eager:
            dispatch_campaign.apply_async((campaign_id,), countdown=outcome.wait)
            return outcome.sent
        if outcome.wait > 5:  # in-process: the next sending_tick picks it up
            return outcome.sent
        import time

        time.sleep(outcome.wait)


@shared_task(name="messaging.tasks.prepare_campaign", acks_late=True)
def prepare_campaign(campaign_id: int) -> bool:
    """Make a started campaign's message rows chunk by chunk (resumable: each chunk commits with
    its resume point; a redelivered task, or beat's sending_tick, carries on)."""
    from messaging.services import campaign_prepare

    return campaign_prepare(campaign_id=campaign_id)


@shared_task(name="messaging.tasks.sending_tick")
def sending_tick() -> dict:
    """Beat: start scheduled campaigns whose time has come; free claims of stopped workers and
    make sure every sending campaign has a dispatcher."""
    from messaging.dispatch import (
        campaign_dispatcher_lease,
        campaigns_without_dispatcher,
        messages_free_stale_claims,
    )
    from messaging.models import Campaign, CampaignStatus
    from messaging.services import campaigns_start_due
    from messaging.single import messages_send_due_single

    started = campaigns_start_due()
    freed = messages_free_stale_claims()
    singles = messages_send_due_single()
    # a campaign whose rows are not all made (its preparer stopped): carry on; a running preparer
    # holds the campaign's row, and this one then steps back at once
    for pk in Campaign.objects.filter(status=CampaignStatus.SENDING, prepared_at__isnull=True).values_list(
        "pk", flat=True
    ):
        prepare_campaign.delay(pk)
    # a sending campaign whose dispatchers were lost (with Redis' queue, or with a killed worker
    # holding one) gets one again; a campaign whose dispatcher lives keeps its lease
    dispatched = campaigns_without_dispatcher()
    if freed:  # batches of a stopped worker: sent again now, not when its dispatcher's lease lapses
        dispatched = list(Campaign.objects.filter(status=CampaignStatus.SENDING).values_list("pk", flat=True))
    for pk in dispatched:
        campaign_dispatcher_lease(campaign_id=pk, seconds=0)
        dispatch_campaign.delay(pk)
    return {"started": started, "freed": freed, "dispatched": dispatched, "single_sent": singles}


@shared_task(name="messaging.tasks.send_single_message", acks_late=True, ignore_result=True)
def send_single_message(message_id: int) -> str:
    """One queued single message (the API, journeys); a lost task is picked up by sending_tick."""
    from messaging.single import message_send_single

    return message_send_single(message_id=message_id)


@shared_task(name="messaging.tasks.send_due_single_messages", acks_late=True, ignore_result=True)
def send_due_single_messages() -> int:
    """Woken after single messages are made one by one (the API): sends every due one; a lost
    wake-up leaves them to sending_tick."""
    from messaging.single import messages_drain_due_single

    return messages_drain_due_single()


@shared_task(name="messaging.tasks.send_single_messages", acks_late=True, ignore_result=True)
def send_single_messages(message_ids: list[int]) -> int:
    """Queued single messages made together (a journey step's batch); lost ones: sending_tick."""
    from messaging.single import messages_send_single_ids

    return messages_send_single_ids(message_ids=message_ids)


@shared_task(name="messaging.tasks.poll_delivery_reports")
def poll_delivery_reports() -> int:
    from messaging.polling import poll_reports

    return poll_reports()
