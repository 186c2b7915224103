"""WhatsApp templates and single messages (product.md WhatsApp channel): the templates Meta holds
are mirrored here (sync: every page of Meta's list; a template's review verdict pushed by Meta's
webhook at once), templates made in the panel are submitted to Meta, and a single message goes
through the core's message_send_now under the sending rule."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from channels_whatsapp.channel import kind_for, template_refusal
from channels_whatsapp.models import TemplateStatus, WhatsAppTemplate
from channels_whatsapp.rendering import binding_problems
from contacts.models import Contact
from contacts.phones import to_e164
from messaging.models import Message
from messaging.services import message_send_now
from providers.base import Channel, TemplateStatusUpdate, TransportError, WebhookEvents
from providers.models import ProviderAccount

logger = logging.getLogger(__name__)


@dataclass
class SyncResult:
    created: int = 0
    updated: int = 0
    gone: int = 0  # ours, with Meta's id, no longer in Meta's list: marked deleted


def _body_text(components) -> str:
    return next((str(c.get("text", "")) for c in components if str(c.get("type", "")).upper() == "BODY"), "")


def whatsapp_account(account: ProviderAccount) -> ProviderAccount:
    if account.channel != Channel.WHATSAPP:
        raise ValidationError({"account": f"the account '{account.name}' is not a WhatsApp account"})
    return account


def templates_sync(*, account: ProviderAccount) -> SyncResult:
    """Mirror every template of the account's WhatsApp Business account (all pages, all languages).
    A template keeps its variable bindings; one made at Meta arrives with none (a campaign binds them)."""
    listed = whatsapp_account(account).connector_instance().templates_list()
    result = SyncResult()
    now = timezone.now()
    with transaction.atomic():
        ours = {
            (t.provider_id or f"{t.name}/{t.language}"): t for t in WhatsAppTemplate.objects.filter(account=account)
        }
        by_name = {(t.name, t.language): t for t in ours.values()}
        seen: set[int] = set()
        for remote in listed:
            local = ours.get(remote.id) or by_name.get((remote.name, remote.language))
            fields = {
                "provider_id": remote.id,
                "status": remote.status,
                "status_reason": remote.rejected_reason[:255],
                "category": remote.category,
                "components": list(remote.components),
                "text": _body_text(remote.components),
            }
            if local is None:
                local = WhatsAppTemplate.objects.create(
                    account=account, name=remote.name, language=remote.language, status_at=now, **fields
                )
                result.created += 1
            elif any(getattr(local, k) != v for k, v in fields.items()):
                if local.status != remote.status:
                    fields["status_at"] = now
                WhatsAppTemplate.objects.filter(pk=local.pk).update(updated_at=now, **fields)
                result.updated += 1
            seen.add(local.pk)
        gone = (
            WhatsAppTemplate.objects.filter(account=account)
            .exclude(provider_id="")
            .exclude(pk__in=seen)
            .exclude(status=TemplateStatus.DELETED)
        )
        result.gone = gone.update(status=TemplateStatus.DELETED, status_at=now, updated_at=now)
    logger.info("WhatsApp account %s: templates synced (%s)", account.pk, result)
    return result


def templates_sync_all() -> dict[int, str]:
    """Beat: every active WhatsApp account; one account failing does not stop the others."""
    outcome = {}
    for account in ProviderAccount.objects.filter(channel=Channel.WHATSAPP, is_active=True):
        try:
            outcome[account.pk] = str(templates_sync(account=account))
        except TransportError as exc:
            logger.warning("WhatsApp account %s: template sync failed: %s", account.pk, exc)
            outcome[account.pk] = f"failed: {exc}"
    return outcome


def template_save_draft(*, account: ProviderAccount, name: str, language: str, category: str,
                        components: list, bindings: dict) -> WhatsAppTemplate:  # fmt: skip
    """A template made in the panel, not yet submitted (status empty)."""
    return WhatsAppTemplate.objects.create(
        account=whatsapp_account(account),
        name=name,
        language=language,
        category=category,
        components=components,
        variables=bindings,
        text=_body_text(components),
    )


def template_submit(*, template: WhatsAppTemplate) -> WhatsAppTemplate:
    """Submit to Meta for review (it answers PENDING; the verdict comes by webhook or sync)."""
    if template.provider_id:
        raise ValidationError(
            f"the template {template.name} was submitted already ({template.status or 'no status yet'})"
        )
    connector = template.account.connector_instance()
    created = connector.template_create(
        name=template.name, language=template.language, category=template.category, components=template.components
    )
    WhatsAppTemplate.objects.filter(pk=template.pk).update(
        provider_id=created.id,
        status=created.status,
        category=created.category,
        status_at=timezone.now(),
        updated_at=timezone.now(),
    )
    template.refresh_from_db()
    logger.info("WhatsApp template %s (%s) submitted: %s", template.name, template.language, created.status)
    return template


def templates_apply_updates(*, account_id: int, updates: list[TemplateStatusUpdate]) -> int:
    """Meta's template webhook: the template's status at once. An update for a template we do not
    know (made at Meta) makes the account's templates sync."""
    changed, unknown = 0, False
    now = timezone.now()
    for update in updates:
        templates = WhatsAppTemplate.objects.filter(account_id=account_id)
        match = templates.filter(provider_id=update.template_id) if update.template_id else templates.none()
        if not match.exists() and update.name:
            match = templates.filter(name=update.name, language=update.language)
        if not match.exists():
            unknown = True
            continue
        fields = {"status": update.status, "status_reason": update.reason[:255], "status_at": now, "updated_at": now}
        if update.category:
            fields["category"] = update.category
        changed += match.update(**fields)
    if unknown:
        from channels_whatsapp.tasks import sync_templates

        transaction.on_commit(lambda: sync_templates.delay(account_id))
    return changed


def handle_webhook_events(*, account_id: int, events: WebhookEvents) -> None:
    """settings.WEBHOOK_EVENT_HANDLERS entry (the core handles reports and inbound messages)."""
    if events.template_updates:
        templates_apply_updates(account_id=account_id, updates=events.template_updates)


def whatsapp_send(
    *,
    to: str,
    account: ProviderAccount,
    template: WhatsAppTemplate | None = None,
    values: dict[str, dict[str, str]] | None = None,
    text: str = "",
    acting_user=None,
) -> Message:
    """One WhatsApp message now: an approved template with `values` for its variables (bindings,
    as the template's, with literal values), or free text, which goes only inside the 24-hour
    window the person opened. The number's contact must have opted in (the sending rule)."""
    whatsapp_account(account)
    number = to_e164(to)
    if number is None:
        raise ValidationError({"to": f"'{to}' is not a valid phone number"})
    if (template is None) == (not text.strip()):
        raise ValidationError({"template": "give either a template or a text"})
    if template is not None:
        if refusal := template_refusal(template, account.pk):
            raise ValidationError({"template": refusal})
        bindings = _merge_values(template.variables, values or {})
        if problems := binding_problems(template.components, bindings):
            raise ValidationError({"template": "; ".join(problems)})
        kind = kind_for(template)
    else:
        bindings, kind = None, "transactional"  # a reply inside the window
    contact = Contact.objects.filter(whatsapp_number=number).first()
    message = Message(
        channel=Channel.WHATSAPP,
        kind=kind,
        account=account,
        to=number,
        text=text,
        template=template,
        parameters=bindings,
        contact=contact,
    )
    return message_send_now(message, acting_user=acting_user)


def _merge_values(bindings: dict, values: dict[str, dict[str, str]]) -> dict:
    merged = {part: dict(entries) for part, entries in (bindings or {}).items() if isinstance(entries, dict)}
    for part, entries in values.items():
        for name, value in entries.items():
            merged.setdefault(part, {})[name] = {"value": value}
    return merged
