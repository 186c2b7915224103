"""Every write to connector accounts (CONVENTIONS: one write path per aggregate)."""

from __future__ import annotations

import logging

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from providers.base import CheckResult, Connector, TransportError
from providers.models import ProviderAccount
from providers.registry import connector_class

logger = logging.getLogger(__name__)


@sensitive_variables()
def account_validate(*, connector: str, values: dict, existing: ProviderAccount | None = None) -> tuple[dict, dict]:
    """Validate `values` with the connector's form; return (settings, credentials).
    Raises ValidationError with the form's messages (used by the admin and install_connector).

    A setting not given keeps the account's stored value, or takes the form field's default on a
    new account. A secret left empty keeps the stored one, except when a setting that says where
    requests go (a URL) changes: then the secret must be entered again, so that "Test connection"
    never sends a stored key to a host it was not given for."""
    cls = connector_class(connector)
    fields = cls.config_form.base_fields
    stored_settings = existing.settings if existing is not None else {}
    data = dict(values)
    for name, field in fields.items():
        if name in data or name in cls.secret_fields:
            continue
        if name in stored_settings:
            data[name] = stored_settings[name]
        elif field.initial is not None:
            data[name] = field.initial() if callable(field.initial) else field.initial
    kept_secrets = []
    if existing is not None:
        stored = existing.credentials
        for field in cls.secret_fields:
            if data.get(field) in (None, "") and stored.get(field):
                data[field] = stored[field]
                kept_secrets.append(field)
    form = cls.config_form(data=data)
    if not form.is_valid():
        raise ValidationError({k: v for k, v in form.errors.items()})
    unknown = set(values) - set(form.fields)
    if unknown:
        raise ValidationError(
            f"unknown setting(s) for {connector}: {', '.join(sorted(unknown))}; known: {', '.join(form.fields)}"
        )
    cleaned = {k: _jsonable(v) for k, v in form.cleaned_data.items()}
    moved = [name for name in endpoint_fields(cls) if (cleaned.get(name) or "") != (stored_settings.get(name) or "")]
    if kept_secrets and moved:
        where = ", ".join(str(fields[name].label or name) for name in moved)
        raise ValidationError(
            {
                secret: _(
                    "%(setting)s changed: enter the %(secret)s again (a stored secret is never sent to a new address)."
                )
                % {"setting": where, "secret": str(fields[secret].label or secret)}
                for secret in kept_secrets
            }
        )
    secrets = {k: cleaned.pop(k) for k in cls.secret_fields if k in cleaned}
    return cleaned, secrets


def endpoint_fields(cls: type[Connector]) -> list[str]:
    """The settings that say where the connector's requests (and so its secrets) go: every URL
    field of its form, and any a connector names in `endpoint_fields`."""
    named = getattr(cls, "endpoint_fields", ())
    return [
        name
        for name, field in cls.config_form.base_fields.items()
        if isinstance(field, forms.URLField) or name in named
    ]


def _jsonable(value):
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


@sensitive_variables()
@transaction.atomic
def account_install(
    *,
    name: str,
    connector: str,
    values: dict,
    acting_user=None,
    is_active: bool = True,
    account: ProviderAccount | None = None,
) -> ProviderAccount:
    """Create or update a connector account (install_connector and the admin form).
    Without `account`, the account called `name` is updated if it exists."""
    if account is None:
        account = ProviderAccount.objects.select_for_update().filter(name=name).first()
    if account is not None and account.connector != connector:
        raise ValidationError(f"an account named {name!r} already exists for connector {account.connector!r}")
    settings_, secrets = account_validate(connector=connector, values=values, existing=account)
    if account is None:
        account = ProviderAccount(name=name, connector=connector, created_by=acting_user)
    account.name = name
    account.channel = connector_class(connector).channel
    account.settings = settings_
    account.set_credentials(secrets)
    account.is_active = is_active
    account.save()
    logger.info(
        "connector account %s (%s) installed by %s",
        account.pk,
        connector,
        getattr(acting_user, "username", "command line"),
    )
    return account


def account_check(*, account_id: int) -> CheckResult:
    """Run the connector's connection test and keep its verdict on the account."""
    account = ProviderAccount.objects.get(pk=account_id)
    try:
        result = account.connector_instance().test_connection()
    except TransportError as exc:
        result = CheckResult(ok=False, message=str(exc))
    except Exception:  # a connector's own bug: the verdict in words, the details in the log only
        logger.exception("connection test of account %s raised", account.pk)
        result = CheckResult(
            ok=False,
            message=_("The test could not run: the connector failed unexpectedly (details in the server log)."),
        )
    ProviderAccount.objects.filter(pk=account.pk).update(
        last_check_at=timezone.now(), last_check_ok=result.ok, last_check_message=result.message
    )
    return result
