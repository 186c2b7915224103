"""Thin Celery wrappers (queue `sending`, routed in settings)."""

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(name="channels_whatsapp.tasks.sync_templates")
def sync_templates(account_id: int | None = None) -> dict:
    from channels_whatsapp.services import templates_sync, templates_sync_all
    from providers.models import ProviderAccount

    if account_id is None:
        return templates_sync_all()
    from providers.base import TransportError

    account = ProviderAccount.objects.filter(pk=account_id, is_active=True).first()
    if account is None:
        return {}
    try:
        return {account_id: str(templates_sync(account=account))}
    except TransportError as exc:  # a wrong token or Meta unreachable: said, and the hourly sync tries again
        logger.warning("WhatsApp account %s: template sync failed: %s", account_id, exc)
        return {account_id: f"failed: {exc}"}
