from celery import shared_task


@shared_task(name="consent.tasks.iys_pull", acks_late=True, max_retries=5)
def iys_pull() -> dict:
    """Pull both İYS change feeds for every active İYS account (beat: hourly)."""
    from consent.iys.client import IysError
    from consent.iys.sync import iys_accounts
    from consent.iys.sync import iys_pull as pull

    results = {}
    for account in iys_accounts():
        try:
            results[account.pk] = pull(account=account)
        except IysError as exc:
            if exc.kind == "retryable":
                raise iys_pull.retry(countdown=300, exc=exc) from exc
            results[account.pk] = {"error": str(exc)}
    return results


@shared_task(name="consent.tasks.iys_push", acks_late=True, max_retries=10)
def iys_push() -> dict:
    """Send pending consent changes to İYS and poll their results (beat: every minute)."""
    from consent.iys.client import IysError
    from consent.iys.sync import iys_accounts
    from consent.iys.sync import iys_push as push

    results = {}
    for account in iys_accounts().filter(settings__mode="sync"):
        try:
            results[account.pk] = push(account=account)
        except IysError as exc:
            if exc.kind == "retryable":
                raise iys_push.retry(countdown=60, exc=exc) from exc
            results[account.pk] = {"error": str(exc)}
    return results


@shared_task(name="consent.tasks.iys_backfill", acks_late=True)
def iys_backfill() -> dict:
    """The backfill's next batches where it is due; in Integrator mode, ONAYs awaiting İYS."""
    from django.conf import settings

    from consent.iys.backfill import backfill_run, iys_confirm_awaiting
    from consent.iys.client import IysError
    from consent.iys.sync import iys_accounts

    results = {}
    for account in iys_accounts():
        try:
            backfill = backfill_run(account=account, max_batches=settings.IYS_BACKFILL_BATCHES_PER_RUN)
            awaiting = iys_confirm_awaiting(account=account)
            results[account.pk] = {"backfill": backfill.state, "processed": backfill.processed, **awaiting}
        except IysError as exc:  # kept on the backfill row and shown on the status page; next run resumes
            results[account.pk] = {"error": str(exc)}
    return results
