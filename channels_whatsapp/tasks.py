"""Thin Celery wrappers (queue `sending`, routed in settings)."""

from celery import shared_task


@shared_task(name="channels_whatsapp.tasks.sync_templates")
def sync_templates(account_id: int | None = None) -> dict:
    from channels_whatsapp.services import templates_sync, templates_sync_all
    from providers.models import ProviderAccount

    if account_id is None:
        return templates_sync_all()
    account = ProviderAccount.objects.filter(pk=account_id, is_active=True).first()
    return {account_id: str(templates_sync(account=account))} if account else {}
