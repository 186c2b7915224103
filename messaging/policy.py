"""The frequency cap and quiet hours (product.md Journeys: at most N newsletters per contact per
day/week across campaigns and journeys, none in quiet hours), one policy for every channel and
every maker of messages, applied where every message is sent (messaging.sending): a newsletter in
quiet hours is deferred to their end, one over the cap is not sent (skipped, with the reason);
a transactional message bypasses both, and the bypass is written on the message. The cap counts
newsletters the provider accepted (sent_at) in the last 24 hours and the last 7 days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Q

from consent.models import MessageKind
from providers.snapshots import Snapshot, bump

ISTANBUL = ZoneInfo("Europe/Istanbul")


@dataclass(frozen=True)
class Policy:
    per_day: int | None = None
    per_week: int | None = None
    quiet_from: time | None = None
    quiet_until: time | None = None

    @property
    def caps(self) -> bool:
        return bool(self.per_day or self.per_week)

    def quiet_end(self, now: datetime) -> datetime | None:
        """When the quiet hours `now` falls in end (None: `now` is not in quiet hours)."""
        if self.quiet_from is None or self.quiet_until is None or self.quiet_from == self.quiet_until:
            return None
        local = now.astimezone(ISTANBUL)
        clock = local.time()
        start, end = self.quiet_from, self.quiet_until
        if start < end:  # e.g. 01:00-07:00, inside one day
            quiet = start <= clock < end
            end_day = local.date()
        else:  # e.g. 21:00-09:00, across midnight
            quiet = clock >= start or clock < end
            end_day = local.date() + timedelta(days=1) if clock >= start else local.date()
        return datetime.combine(end_day, end, tzinfo=ISTANBUL) if quiet else None


def _read_policy() -> Policy:
    from messaging.models import SendingPolicy

    row = SendingPolicy.objects.order_by("pk").first()
    if row is None:
        return Policy()
    return Policy(row.newsletters_per_day, row.newsletters_per_week, row.quiet_from, row.quiet_until)


# the process's copy (providers.snapshots), read again after a save or delete of the row (messaging.apps)
POLICY = Snapshot("snapshot:sending-policy", _read_policy)


def current_policy() -> Policy:
    return POLICY.get()


def policy_changed(sender, **kwargs) -> None:
    bump(POLICY.name)


def sent_counts(contact_ids: list[int], *, now: datetime) -> dict[int, tuple[int, int]]:
    """contact id → (newsletters accepted in the last 24 hours, in the last 7 days)."""
    from messaging.models import Message

    if not contact_ids:
        return {}
    day, week = now - timedelta(days=1), now - timedelta(days=7)
    rows = (
        Message.objects.filter(
            contact_id__in=contact_ids, kind=MessageKind.NEWSLETTER, created_at__gte=week, sent_at__gte=week
        )
        .values("contact_id")
        .annotate(day=Count("pk", filter=Q(sent_at__gte=day)), week=Count("pk"))
        .order_by()
    )
    return {row["contact_id"]: (row["day"], row["week"]) for row in rows}


def over_cap(policy: Policy, counts: tuple[int, int]) -> str:
    """Why one more newsletter would break the cap, in words ("" when it would not)."""
    day, week = counts
    if policy.per_day and day >= policy.per_day:
        return f"frequency cap: {day} newsletter(s) in the last 24 hours (at most {policy.per_day})"
    if policy.per_week and week >= policy.per_week:
        return f"frequency cap: {week} newsletter(s) in the last 7 days (at most {policy.per_week})"
    return ""


class Judge:
    """The policy's verdict on the rows of one batch being sent: defer, refuse, or send (noting a
    transactional bypass). Counts grow as the batch goes, so one contact's two rows count both."""

    def __init__(self, rows: list[dict], *, now: datetime):
        self.policy = current_policy()
        self.now = now
        self.quiet_end = self.policy.quiet_end(now)
        ids = [r["contact_id"] for r in rows if r["contact_id"]]
        self.counts = sent_counts(ids, now=now) if self.policy.caps and ids else {}

    def defer_until(self, row: dict) -> datetime | None:
        return self.quiet_end if row["kind"] == MessageKind.NEWSLETTER else None

    def refusal(self, row: dict) -> str:
        if row["kind"] != MessageKind.NEWSLETTER or not self.policy.caps or not row["contact_id"]:
            return ""
        return over_cap(self.policy, self.counts.get(row["contact_id"], (0, 0)))

    def bypass(self, row: dict) -> str:
        """For a transactional message: the rule it goes through ("" when none applies now)."""
        if row["kind"] == MessageKind.NEWSLETTER:
            return ""
        notes = []
        if self.quiet_end is not None:
            notes.append("quiet hours")
        if self.policy.caps and row["contact_id"] and over_cap(self.policy, self.counts.get(row["contact_id"], (0, 0))):
            notes.append("frequency cap")
        return f"transactional: sent despite {' and '.join(notes)}" if notes else ""

    def counted(self, row: dict) -> None:
        if row["kind"] == MessageKind.NEWSLETTER and row["contact_id"] and self.policy.caps:
            day, week = self.counts.get(row["contact_id"], (0, 0))
            self.counts[row["contact_id"]] = (day + 1, week + 1)
