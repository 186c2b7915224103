from celery import shared_task


@shared_task(name="consent.tasks.iys_pull", acks_late=True, autoretry_for=(), max_retries=5)
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
