"""Thin Celery wrappers (queue `sending`, routed in settings)."""

from celery import shared_task
from django.conf import settings


@shared_task(name="channels_sms.tasks.dispatch_campaign")
def dispatch_campaign(campaign_id: int) -> int:
    """Send for a while, then queue itself again: long campaigns never hit the task time limit,
    and a worker killed mid-batch leaves work that this task (redelivered) or another finishes."""
    from channels_sms.services import campaign_dispatch

    eager = settings.CELERY_TASK_ALWAYS_EAGER
    while True:
        outcome = campaign_dispatch(campaign_id=campaign_id, budget_seconds=None if eager else 20)
        if outcome.done:
            return outcome.sent
        if not eager:
            dispatch_campaign.apply_async((campaign_id,), countdown=outcome.wait)
            return outcome.sent
        if outcome.wait > 5:  # in-process: the next sending_tick picks it up
            return outcome.sent
        import time

        time.sleep(outcome.wait)


@shared_task(name="channels_sms.tasks.prepare_campaign", acks_late=True)
def prepare_campaign(campaign_id: int) -> bool:
    """Make a started campaign's message rows chunk by chunk (resumable: each chunk commits with
    its resume point; a redelivered task, or beat's sending_tick, carries on)."""
    from channels_sms.services import campaign_prepare

    return campaign_prepare(campaign_id=campaign_id)


@shared_task(name="channels_sms.tasks.sending_tick")
def sending_tick() -> dict:
    """Beat: start scheduled campaigns whose time has come; free claims of stopped workers and
    make sure every sending campaign has a dispatcher."""
    from channels_sms.models import Campaign, CampaignStatus
    from channels_sms.services import campaigns_start_due, messages_free_stale_claims

    started = campaigns_start_due()
    freed = messages_free_stale_claims()
    # a campaign whose rows are not all made (its preparer stopped): carry on; a running preparer
    # holds the campaign's row, and this one then steps back at once
    for pk in Campaign.objects.filter(status=CampaignStatus.SENDING, prepared_at__isnull=True).values_list(
        "pk", flat=True
    ):
        prepare_campaign.delay(pk)
    if freed:
        for pk in Campaign.objects.filter(status=CampaignStatus.SENDING).values_list("pk", flat=True):
            dispatch_campaign.delay(pk)
    return {"started": started, "freed": freed}


@shared_task(name="channels_sms.tasks.poll_delivery_reports")
def poll_delivery_reports() -> int:
    from channels_sms.polling import poll_reports

    return poll_reports()
