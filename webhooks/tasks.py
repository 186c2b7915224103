"""Thin Celery wrappers (queue `default`, routed in settings)."""

from celery import shared_task


@shared_task(name="webhooks.tasks.deliver_endpoint")
def deliver_endpoint(endpoint_id: int) -> int:
    from webhooks.delivery import endpoint_deliver

    delivered, more = endpoint_deliver(endpoint_id=endpoint_id)
    # the budget ran out with more due: another run carries on; a failing endpoint's next
    # attempt is beat's (deliver_due) once its back-off has passed
    if more:
        deliver_endpoint.delay(endpoint_id)
    return delivered


@shared_task(name="webhooks.tasks.deliver_due")
def deliver_due() -> int:
    """Beat: a run for every endpoint with due deliveries (retries, and anything a lost task left)."""
    from webhooks.delivery import endpoints_due

    endpoints = endpoints_due()
    for pk in endpoints:
        deliver_endpoint.delay(pk)
    return len(endpoints)
