from celery import shared_task


@shared_task(name="providers.tasks.check_account")
def check_account(account_id: int) -> bool:
    from providers.services import account_check

    return account_check(account_id=account_id).ok


@shared_task(name="providers.tasks.check_all_accounts")
def check_all_accounts() -> int:
    from providers.selectors import active_account_ids

    ids = active_account_ids()
    for account_id in ids:
        check_account.delay(account_id)
    return len(ids)


@shared_task(name="providers.tasks.process_webhooks", autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def process_webhooks(budget_seconds: float = 20.0) -> int:
    """Drain the received webhooks (providers.inbox), many posts a transaction; past the budget,
    queue the rest as a new task so one drain never holds a worker for long."""
    from providers.inbox import webhooks_drain

    handled, more = webhooks_drain(budget_seconds=budget_seconds)
    if more:
        process_webhooks.delay()
    return handled


@shared_task(name="providers.tasks.webhooks_tick")
def webhooks_tick() -> int:
    """Beat: free posts of a worker that stopped and queue a drain (for a lost kick, a freed claim,
    a post whose retry is due). Returns how many claims were freed."""
    from providers.inbox import webhooks_free_stale_claims

    freed = webhooks_free_stale_claims()
    process_webhooks.delay()
    return freed


@shared_task(name="providers.tasks.process_webhook", autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def process_webhook(account_id: int, payload: str, headers: dict) -> int:
    """One webhook post queued by an earlier version of the view (before the inbox): applied at
    once, as it was then."""
    from django.conf import settings
    from django.utils.module_loading import import_string

    from providers.inbox import events_of

    events = events_of(account_id=account_id, body=payload.encode("latin-1"), headers=headers)
    if events is None:
        return 0
    for path in settings.WEBHOOK_EVENT_HANDLERS:
        import_string(path)(account_id=account_id, events=events)
    return len(events.reports) + len(events.inbound)
