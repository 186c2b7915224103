"""Tasks queued under their old names before the core moved to messaging (an upgrade with work in
flight): each runs the messaging task of the same name."""

from celery import shared_task


@shared_task(name="channels_sms.tasks.dispatch_campaign")
def dispatch_campaign(campaign_id: int) -> int:
    from messaging.tasks import dispatch_campaign as task

    return task(campaign_id)


@shared_task(name="channels_sms.tasks.prepare_campaign", acks_late=True)
def prepare_campaign(campaign_id: int) -> bool:
    from messaging.tasks import prepare_campaign as task

    return task(campaign_id)


@shared_task(name="channels_sms.tasks.sending_tick")
def sending_tick() -> dict:
    from messaging.tasks import sending_tick as task

    return task()


@shared_task(name="channels_sms.tasks.poll_delivery_reports")
def poll_delivery_reports() -> int:
    from messaging.tasks import poll_delivery_reports as task

    return task()
