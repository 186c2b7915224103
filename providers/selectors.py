from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from config.dashboard import Figure
from providers.models import ProviderAccount


def active_account_ids() -> list[int]:
    return list(ProviderAccount.objects.filter(is_active=True).values_list("pk", flat=True))


def dashboard_figures(*, request) -> list[Figure]:
    if not request.user.has_perm("providers.view_provideraccount"):
        return []
    accounts = ProviderAccount.objects.filter(is_active=True)
    failing = accounts.filter(last_check_ok=False).count()
    return [
        Figure(
            key="connectors",
            label=_("Active connectors"),
            value=accounts.count(),
            detail=_("%(n)d failing their connection test") % {"n": failing} if failing else "",
            state="bad" if failing else "ok",
            url=reverse("admin:providers_provideraccount_changelist"),
        )
    ]


def account_choice_label(account: ProviderAccount) -> str:
    """How an account is offered where it is picked: flagged when its last connection test failed."""
    if account.last_check_ok is False:
        return _("%(name)s — failed its last connection test") % {"name": account.name}
    return account.name
