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


@shared_task(name="providers.tasks.process_webhook", autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def process_webhook(account_id: int, payload: str, headers: dict) -> int:
    """Parse a webhook body with its connector and hand the events to the handlers in
    settings.WEBHOOK_EVENT_HANDLERS (providers imports no other app)."""
    import logging

    from django.conf import settings
    from django.utils.module_loading import import_string

    from providers.base import WebhookRejected
    from providers.models import ProviderAccount

    account = ProviderAccount.objects.filter(pk=account_id).first()
    if account is None:
        return 0
    try:
        events = account.connector_instance().parse_webhook(body=payload.encode("latin-1"), headers=headers)
    except WebhookRejected as exc:
        logging.getLogger(__name__).warning("webhook for account %s not understood: %s", account_id, exc)
        return 0
    for path in settings.WEBHOOK_EVENT_HANDLERS:
        import_string(path)(account_id=account_id, events=events)
    return len(events.reports) + len(events.inbound)
