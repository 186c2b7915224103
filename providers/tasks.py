from celery import shared_task

MAX_PROBLEMS_LOGGED = 10  # a webhook of 10,000 bad items is one log line, not 10,000


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
    settings.WEBHOOK_EVENT_HANDLERS (providers imports no other app). A payload or item of an
    unexpected shape is logged with the account id and skipped; the rest is applied (product.md
    "What bad input gets"): retrying could never make it understood."""
    import logging

    from django.conf import settings
    from django.utils.module_loading import import_string

    from providers.base import WebhookRejected
    from providers.models import ProviderAccount

    logger = logging.getLogger(__name__)
    account = ProviderAccount.objects.filter(pk=account_id).first()
    if account is None:
        return 0
    try:
        events = account.connector_instance().parse_webhook(body=payload.encode("latin-1"), headers=headers)
    except WebhookRejected as exc:
        logger.warning("webhook for account %s not understood: %s", account_id, exc)
        return 0
    except Exception:  # a connector's bug on a payload: logged with its trace, never retried for ever
        logger.exception("webhook for account %s (%s): the connector could not read it", account_id, account.connector)
        return 0
    if events.problems:
        shown = "; ".join(events.problems[:MAX_PROBLEMS_LOGGED])
        more = len(events.problems) - MAX_PROBLEMS_LOGGED
        logger.warning(
            "webhook for account %s: %d item(s) skipped: %s%s",
            account_id,
            len(events.problems),
            shown,
            f"; and {more} more" if more > 0 else "",
        )
    for path in settings.WEBHOOK_EVENT_HANDLERS:
        import_string(path)(account_id=account_id, events=events)
    return len(events.reports) + len(events.inbound)
