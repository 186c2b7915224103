"""What the İYS status page, the dashboard and `iys_status` show: backlog, deadlines, errors."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from consent.models import (
    Consent,
    ConsentStatus,
    ConsentType,
    IysBackfill,
    IysCursor,
    IysSubmission,
    SubmissionState,
)
from consent.selectors import IysGate, iys_gate

OPEN = [SubmissionState.PENDING, SubmissionState.SUBMITTED, SubmissionState.RETRYING]


@dataclass(frozen=True)
class IysStatus:
    by_state: dict[str, int]
    backlog: int
    oldest_deadline: object
    overdue: int
    last_pull: object
    errors_by_code: dict[str, int]
    backfills: list
    awaiting_iys: int  # ONAYs of +90 numbers İYS has not confirmed yet (only Integrator mode waits for them)
    gate: str = IysGate.OFF  # the mode in use: what awaiting_iys means (awaiting_wording)

    @property
    def awaiting_label(self) -> str:
        return awaiting_wording(self.gate)


def awaiting_wording(gate: str) -> str:
    """What the count of ONAYs İYS has not confirmed means in the mode in use (product.md Consent
    and İYS): in Integrator mode they wait and are not sendable; in Sync mode they are sendable and
    İYS confirms after the upload; with no İYS connector nothing waits for İYS ('' : not shown)."""
    if gate == IysGate.INTEGRATOR:
        return _("ONAY awaiting İYS confirmation (Integrator mode: not sendable yet)")
    if gate == IysGate.SYNC:
        return _("ONAY not yet confirmed by İYS (Sync mode: sendable now, confirmed after the upload)")
    return ""


def iys_status() -> IysStatus:
    from consent.iys.backfill import backfill_for
    from consent.iys.sync import iys_accounts

    for account in iys_accounts():
        backfill_for(account)  # scheduled from the install: shown before its first run
    now = timezone.now()
    by_state = dict(IysSubmission.objects.values_list("state").annotate(n=Count("pk")).order_by())
    open_ = IysSubmission.objects.filter(state__in=OPEN)
    errors = dict(
        IysSubmission.objects.exclude(error_code="").values_list("error_code").annotate(n=Count("pk")).order_by()
    )
    return IysStatus(
        by_state=by_state,
        backlog=sum(by_state.get(s, 0) for s in OPEN),
        oldest_deadline=open_.aggregate(d=Min("deadline"))["d"],
        overdue=open_.filter(deadline__lt=now).count(),
        last_pull=IysCursor.objects.aggregate(t=Max("last_pull_at"))["t"],
        errors_by_code=errors,
        backfills=list(IysBackfill.objects.select_related("account").order_by("account__name")),
        awaiting_iys=Consent.objects.filter(
            type=ConsentType.MESAJ,
            status=ConsentStatus.ONAY,
            iys_confirmed_at__isnull=True,
            recipient__startswith="+90",
        ).count(),
        gate=iys_gate(),
    )
