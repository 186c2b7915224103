from celery import shared_task


@shared_task(name="api.tasks.forget_idempotent_requests")
def forget_idempotent_requests() -> int:
    from api.idempotency import idempotent_requests_expire

    return idempotent_requests_expire()
