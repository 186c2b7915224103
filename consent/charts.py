"""Consent growth for the dashboard (static/panel/charts.js draws it): the ledger's accepted
changes to ONAY and to RET on each of the last 30 days, by the day they were recorded in
Europe/Istanbul; one GROUP BY over the history's created_at index."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from config.dashboard import ChartData, Series, last_days, local_zone
from consent.models import ConsentChange, ConsentStatus


def consent_changes_per_day(*, days: int = 30, now: datetime | None = None) -> ChartData:
    dates, start = last_days(days, now=now)
    rows = (
        ConsentChange.objects.filter(created_at__gte=start)
        .annotate(day=TruncDate("created_at", tzinfo=local_zone()))
        .order_by()
        .values_list("day", "status")
        .annotate(n=Count("pk"))
    )
    counts: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    for day, status, n in rows:
        counts[status][day] += n
    labels = {ConsentStatus.ONAY: _("ONAY (consent given)"), ConsentStatus.RET: _("RET (consent refused)")}
    return ChartData(
        kind="bars",
        keys=[d.isoformat() for d in dates],
        labels=[date_format(d, "j M") for d in dates],
        series=[Series(status.lower(), labels[status], [counts[status][d] for d in dates]) for status in labels],
        x_label=_("Day recorded (Europe/Istanbul)"),
        y_label=_("Consent changes"),
        empty=_("No consent changes in the last 30 days"),
    )


def dashboard_panels(*, request) -> list:
    """The consent growth chart on the dashboard (settings.DASHBOARD_PANELS), for those who may
    read the consent history."""
    from django.urls import reverse

    from config.dashboard import Panel

    if not request.user.has_perm("consent.view_consentchange"):
        return []
    chart = {
        "key": "consent-growth",
        "title": _("Consent growth, last 30 days"),
        "url": reverse("admin:consent_consentchange_per_day"),
        "caption": _("Changes to ONAY and to RET the ledger recorded each day, every consent type."),
    }
    return [Panel("consent-growth", "panel/chart.html", {"chart": chart}, wide=False)]
