"""The charts of messages (drawn by static/panel/charts.js): messages per day by status on the
dashboard, a campaign's delivery by hour on its preview. Each is a few GROUP BY queries on
indexed columns (the day or hour in Europe/Istanbul by TruncDate / TruncHour); Python only
folds the grouped rows into buckets, never a message at a time."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from django.db.models import Count, Q
from django.db.models.functions import TruncDate, TruncHour
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from config.dashboard import ChartData, Series, last_days, local_zone
from messaging.models import Campaign, Message, MessageStatus

# The dashboard's five colours of a message's status (each status in exactly one).
DAY_GROUPS = {
    "delivered": (MessageStatus.DELIVERED,),
    "sent": (MessageStatus.QUEUED, MessageStatus.SENT),
    "failed": (MessageStatus.UNDELIVERED, MessageStatus.EXPIRED, MessageStatus.REJECTED, MessageStatus.FAILED),
    "waiting": (MessageStatus.PENDING,),
    "not_sent": (MessageStatus.SKIPPED, MessageStatus.CANCELLED),
}
FAILED = DAY_GROUPS["failed"]
MAX_HOURS = 7 * 24  # a campaign's chart by hour up to a week; longer, by day


def day_group_labels() -> dict[str, str]:
    return {
        "delivered": _("Delivered"),
        "sent": _("Sent, no report yet"),
        "failed": _("Failed or undelivered"),
        "waiting": _("Waiting to be sent"),
        "not_sent": _("Not sent (refused or cancelled)"),
    }


def messages_per_day(*, days: int = 30, now: datetime | None = None) -> ChartData:
    """Messages of every channel made on each of the last `days` days, by their status now."""
    dates, start = last_days(days, now=now)
    rows = (
        Message.objects.filter(created_at__gte=start)
        .annotate(day=TruncDate("created_at", tzinfo=local_zone()))
        .order_by()
        .values_list("day", "status")
        .annotate(n=Count("pk"))
    )
    group_of = {status: key for key, statuses in DAY_GROUPS.items() for status in statuses}
    counts: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    for day, status, n in rows:
        counts[group_of.get(status, "waiting")][day] += n
    labels = day_group_labels()
    return ChartData(
        kind="bars",
        keys=[d.isoformat() for d in dates],
        labels=[date_format(d, "j M") for d in dates],
        series=[Series(key, labels[key], [counts[key][d] for d in dates]) for key in DAY_GROUPS],
        x_label=_("Day (Europe/Istanbul)"),
        y_label=_("Messages"),
        empty=_("No messages in the last 30 days") if days == 30 else _("No messages in this period"),
    )


def campaign_delivery(campaign: Campaign) -> ChartData:
    """A campaign's messages by the hour each step happened: accepted by the provider (sent_at),
    delivered and failed (the final report, done_at), read (WhatsApp, read_at)."""
    mine = Message.objects.filter(campaign=campaign).order_by()
    zone = local_zone()
    steps = {
        "sent": ("sent_at", Q(sent_at__isnull=False)),
        "delivered": ("done_at", Q(status=MessageStatus.DELIVERED, done_at__isnull=False)),
        "read": ("read_at", Q(read_at__isnull=False)),
        "failed": ("done_at", Q(status__in=FAILED, done_at__isnull=False)),
    }
    counts: dict[str, dict[datetime, int]] = {}
    for key, (column, condition) in steps.items():
        rows = mine.filter(condition).annotate(hour=TruncHour(column, tzinfo=zone)).values_list("hour")
        counts[key] = {timezone.localtime(hour, zone): n for hour, n in rows.annotate(n=Count("pk"))}
    hours = sorted({hour for by_hour in counts.values() for hour in by_hour})
    labels = {
        "sent": _("Accepted by the provider"),
        "delivered": _("Delivered"),
        "read": _("Read"),
        "failed": _("Failed or undelivered"),
    }
    empty = _("No message of this campaign has been sent yet")
    if not hours:
        return ChartData("lines", [], [], [Series(k, labels[k], []) for k in steps], _("Hour"), _("Messages"), empty)
    first, last = hours[0], hours[-1]
    if (last - first) <= timedelta(hours=MAX_HOURS):
        start = first.astimezone(UTC)  # stepped in UTC: an hour is an hour whatever the clocks do
        span = int((last - first).total_seconds() // 3600) + 1
        buckets = [(start + timedelta(hours=n)).astimezone(zone) for n in range(span)]
        keys = [b.isoformat() for b in buckets]
        names = [date_format(b, "j M H:i") for b in buckets]
        x_label = _("Hour (Europe/Istanbul)")

        def bucket(hour):
            return hour

    else:  # a long campaign (late reports, reads days later): one bucket a day
        buckets = [first.date() + timedelta(days=n) for n in range((last.date() - first.date()).days + 1)]
        keys = [d.isoformat() for d in buckets]
        names = [date_format(d, "j M") for d in buckets]
        x_label = _("Day (Europe/Istanbul)")

        def bucket(hour):
            return hour.date()

    series = []
    for key in steps:
        folded: dict = defaultdict(int)
        for hour, n in counts[key].items():
            folded[bucket(hour)] += n
        if key == "read" and not counts[key]:
            continue  # only WhatsApp reports reads: no line (nor legend) of zeros for SMS
        series.append(Series(key, labels[key], [folded[b] for b in buckets]))
    return ChartData("lines", keys, names, series, x_label, _("Messages"), empty)
