"""WhatsApp templates and single messages (product.md WhatsApp channel): the templates Meta holds
are mirrored here (sync: every page of Meta's list; a template's review verdict pushed by Meta's
webhook at once), templates made in the panel are submitted to Meta, and a single message goes
through the core's message_send_now under the sending rule."""

from __future__ import annotations

import ipaddress
import logging
import socket
import time
from dataclasses import dataclass
from urllib.parse import unquote, urljoin, urlsplit

import certifi
import urllib3
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from channels_whatsapp.models import TemplateStatus, WhatsAppTemplate
from providers.base import Channel, TemplateStatusUpdate, TransportError, WebhookEvents
from providers.models import ProviderAccount
from providers.whatsapp.uploads import MB, SAMPLE_MAX_BYTES, SAMPLE_TYPES, sample_type

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
            reason = remote.rejected_reason[:255]
            if not reason and local is not None and local.status == remote.status:
                reason = local.status_reason  # a pause's reason came by webhook; the list has none
            fields = {
                "provider_id": remote.id,
                "status": remote.status,
                "status_reason": reason,
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


def template_submission(template: WhatsAppTemplate) -> list:
    """The components to submit (a media header's sample fetched and uploaded: its handle in place
    of the link). It needs no saved row, so a caller may do it before opening a transaction (the
    fetch and upload may take a minute; a transaction held that long would block other writers)."""
    return _with_sample_handle(template, template.account.connector_instance())


def template_submit(*, template: WhatsAppTemplate, components: list | None = None) -> WhatsAppTemplate:
    """Submit to Meta for review (it answers PENDING; the verdict comes by webhook or sync). A media
    header's sample is fetched from its link and uploaded to the Meta app first, because Meta creates
    such a template only with that upload's handle (providers.md §6.4, Meta's "Template media"); the
    link stays in the bindings, which sends use."""
    if template.provider_id:
        raise ValidationError(
            f"the template {template.name} was submitted already ({template.status or 'no status yet'})"
        )
    connector = template.account.connector_instance()
    components = components if components is not None else _with_sample_handle(template, connector)
    created = connector.template_create(
        name=template.name, language=template.language, category=template.category, components=components
    )
    WhatsAppTemplate.objects.filter(pk=template.pk).update(
        provider_id=created.id,
        components=components,
        status=created.status,
        category=created.category,
        status_at=timezone.now(),
        updated_at=timezone.now(),
    )
    template.refresh_from_db()
    logger.info("WhatsApp template %s (%s) submitted: %s", template.name, template.language, created.status)
    return template


# --- a media header's sample ----------------------------------------------------------------------
SAMPLE_TIMEOUT = urllib3.Timeout(connect=5, read=20)
SAMPLE_DEADLINE = 60  # seconds for the whole file
SAMPLE_REDIRECTS = 3


@dataclass(frozen=True)
class Sample:
    data: bytes
    file_type: str
    file_name: str


def _with_sample_handle(template: WhatsAppTemplate, connector) -> list:
    """The components to submit: a media header's example becomes the handle of its uploaded sample.
    An example that is not a link (a handle given outside the editor) is left for Meta to judge."""
    components = list(template.components)
    for index, component in enumerate(components):
        kind = str(component.get("format", "")).lower()
        if str(component.get("type", "")).upper() != "HEADER" or kind not in SAMPLE_TYPES:
            continue
        example = component.get("example") if isinstance(component.get("example"), dict) else {}
        given = example.get("header_handle")
        given = str(given[0]) if isinstance(given, list) and given else ""
        if given and not given.startswith(("http://", "https://")):
            continue
        if not connector.settings.get("app_id"):
            raise ValidationError(
                _(
                    "Meta accepts a template with a picture, video or document only with its sample uploaded "
                    "through the Meta app: add the Meta app id on the WhatsApp account."
                )
            )
        header = (template.variables or {}).get("header") or {}
        link = given or str((header.get("1") or {}).get("default") or "")
        if not link:
            raise ValidationError(_("Give a public link to a sample: WhatsApp's reviewers look at it."))
        sample = _sample_fetch(link=link, kind=kind)
        handle = connector.upload_sample(data=sample.data, file_type=sample.file_type, file_name=sample.file_name)
        logger.info("WhatsApp template %s: sample %s uploaded (%d bytes)", template.pk, link, len(sample.data))
        components[index] = {**component, "example": {**example, "header_handle": [handle]}}
    return components


def _sample_fetch(*, link: str, kind: str) -> Sample:
    """The sample behind `link`: over https from a public address only (the host is resolved first and
    the connection made to the address checked), redirects checked the same way, at most WhatsApp's
    size for the kind, in time, and of a type WhatsApp takes for it. Refusals are ValidationErrors in
    words. settings.WHATSAPP_SAMPLE_FETCH_ALLOW_PRIVATE lets tests fetch from 127.0.0.1 over http."""
    url, deadline = link, time.monotonic() + SAMPLE_DEADLINE
    for _hop in range(SAMPLE_REDIRECTS + 1):
        parts = urlsplit(url)
        response = _sample_request(parts, link)
        try:
            if response.status in (301, 302, 303, 307, 308) and response.headers.get("Location"):
                url = urljoin(url, response.headers["Location"])
                continue
            if response.status != 200:
                raise ValidationError(
                    _("The sample link answered HTTP %(status)d instead of the file: %(link)s")
                    % {"status": response.status, "link": link}
                )
            data = _sample_read(response, kind=kind, link=link, deadline=deadline)
        except urllib3.exceptions.HTTPError:
            raise ValidationError(_("The sample could not be downloaded from %(link)s.") % {"link": link}) from None
        finally:
            response.close()  # a body left unread (too big, a redirect) goes with its connection
        file_type = sample_type(data)
        if file_type not in SAMPLE_TYPES[kind]:
            raise ValidationError(
                {
                    "image": _("The sample at %(link)s is not a JPEG or PNG image."),
                    "video": _("The sample at %(link)s is not an MP4 video."),
                    "document": _("The sample at %(link)s is not a PDF document."),
                }[kind]
                % {"link": link}
            )
        name = unquote(parts.path.rsplit("/", 1)[-1]) or f"sample.{file_type.rsplit('/', 1)[-1]}"
        return Sample(data=data, file_type=file_type, file_name=name)
    raise ValidationError(_("The sample link redirects too many times: %(link)s") % {"link": link})


def _sample_request(parts, link: str):
    """One GET, to the address the host resolved to (checked before connecting)."""
    allow_private = settings.WHATSAPP_SAMPLE_FETCH_ALLOW_PRIVATE
    if parts.scheme != "https" and not (allow_private and parts.scheme == "http"):
        raise ValidationError(_("The sample link must start with https://: %(link)s") % {"link": link})
    host = parts.hostname or ""
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM) if host else []
    except (OSError, ValueError, UnicodeError):
        found = []
    if not found:
        raise ValidationError(_("The sample link's host %(host)s could not be found.") % {"host": host or link})
    addresses = [str(info[4][0]).split("%", 1)[0] for info in found]
    if not allow_private and (private := next((a for a in addresses if not _public(a)), None)):
        raise ValidationError(
            _("The sample link points to a private or local address (%(address)s); give a public link.")
            % {"address": private}
        )
    target = parts.path or "/"
    headers = {"Host": parts.netloc.rpartition("@")[2], "User-Agent": "consent-panel", "Accept-Encoding": "identity"}
    options = {"timeout": SAMPLE_TIMEOUT, "retries": False, "maxsize": 1}
    query = f"?{parts.query}" if parts.query else ""
    for address in dict.fromkeys(addresses):  # in the resolver's order; a refused one gives way to the next
        if parts.scheme == "https":  # the certificate is checked for the host, the connection goes to `address`
            pool = urllib3.HTTPSConnectionPool(
                address, port, server_hostname=host, assert_hostname=host, ca_certs=certifi.where(), **options
            )
        else:
            pool = urllib3.HTTPConnectionPool(address, port, **options)
        try:
            return pool.urlopen("GET", target + query, headers=headers, redirect=False, preload_content=False)
        except urllib3.exceptions.NewConnectionError:  # a ConnectTimeoutError subclass: refused, unreachable
            continue
        except urllib3.exceptions.TimeoutError:
            raise ValidationError(_("The sample link did not answer in time: %(link)s") % {"link": link}) from None
        except urllib3.exceptions.SSLError:
            raise ValidationError(_("The sample link's certificate is not valid: %(link)s") % {"link": link}) from None
        except (urllib3.exceptions.HTTPError, OSError):
            break
    raise ValidationError(_("The sample link could not be reached: %(link)s") % {"link": link})


def _sample_read(response, *, kind: str, link: str, deadline: float) -> bytes:
    limit = SAMPLE_MAX_BYTES[kind]
    too_big = ValidationError(
        {
            "image": _("The sample image is larger than %(limit)d MB, WhatsApp's limit for images: %(link)s"),
            "video": _("The sample video is larger than %(limit)d MB, WhatsApp's limit for videos: %(link)s"),
            "document": _("The sample document is larger than %(limit)d MB, WhatsApp's limit for documents: %(link)s"),
        }[kind]
        % {"limit": limit // MB, "link": link}
    )
    length = response.headers.get("Content-Length") or ""
    if length.isdigit() and int(length) > limit:
        raise too_big
    data = bytearray()
    for chunk in response.stream(64 * 1024):
        data += chunk
        if len(data) > limit:
            raise too_big
        if time.monotonic() > deadline:
            raise ValidationError(_("The sample took too long to download: %(link)s") % {"link": link})
    return bytes(data)


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


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
