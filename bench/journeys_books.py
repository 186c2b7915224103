"""bench/journeys.py's verdicts, read from the database and the fakes after a run: the timer
lateness (how long after its due time each wait was passed) and the books (every contact one SMS,
every not-delivered contact exactly one WhatsApp, no delivered one any, each path as expected)."""

from __future__ import annotations

import statistics
from collections import Counter

from bench.production import consented_phone, whatsapp_number

UNDELIVERED, SILENT, DELIVERED = "undelivered", "silent", "delivered"


def met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def outcome_of(i: int) -> str:
    """What the fake reports for contact i: 10% undelivered, 5% nothing, the rest delivered."""
    k = i % 20
    return UNDELIVERED if k < 2 else SILENT if k == 2 else DELIVERED


def print_lateness(*, journey, wait: int) -> tuple[list, list[float]]:
    """Print the sending lag and the timer lateness; returns the wait steps' rows and the timeouts'."""
    from django.db import connection

    from journeys.models import EnrolmentStep
    from messaging.models import Message, MessageStatusEvent

    step_table = EnrolmentStep._meta.db_table
    event_table = MessageStatusEvent._meta.db_table
    message_table = Message._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT w.branch, w.reason, EXTRACT(EPOCH FROM w.at - GREATEST(s.at, m.sent_at)),
                   EXTRACT(EPOCH FROM w.at - e.at), EXTRACT(EPOCH FROM m.sent_at - s.at)
            FROM {step_table} w
            JOIN {step_table} s ON s.enrolment_id = w.enrolment_id AND s.step = 'sms'
            JOIN {message_table} m ON m.id = s.message_id
            LEFT JOIN LATERAL (
                SELECT min(at) AS at FROM {event_table} x
                WHERE x.message_id = s.message_id AND x.status IN ('delivered', 'undelivered')
            ) e ON true
            WHERE w.step = 'wait' AND w.journey_id = %s
            """,  # noqa: S608
            [journey.pk],
        )
        rows = cursor.fetchall()
    timeouts = [float(since) - wait for b, r, since, _e, _lag in rows if r.startswith("no delivery report")]
    delivered = [float(after) for b, _r, _s, after, _lag in rows if b == "delivered" and after is not None]
    reported = [
        float(e) for b, r, _s, e, _lag in rows if b == "not_delivered" and e is not None and not r.startswith("no")
    ]
    lags = [float(lag) for *_rest, lag in rows if lag is not None]
    if lags:
        print(
            f"  sending lag (the SMS made → handed to Infobip): p50 {percentile(lags, 50):.2f} s, "
            f"p99 {percentile(lags, 99):.2f} s, max {max(lags):.2f} s"
        )
    for label, values in (
        ("timeouts (no report): passed − (the SMS went + wait)", timeouts),
        ("delivered: passed − the delivered report's time", delivered),
        ("undelivered: passed − the undelivered report's time", reported),
    ):
        if values:
            print(
                f"  timer lateness, {label}: p50 {percentile(values, 50):.2f} s, p99 {percentile(values, 99):.2f} s, "
                f"max {max(values):.2f} s, mean {statistics.fmean(values):.2f} s ({len(values):,})"
            )
    p99 = percentile(timeouts, 99)
    print(f"  timeout p99 {p99:.2f} s (target ≤ 10 s: {met(p99 <= 10)})")

    return rows, timeouts


def check_books(*, sms_fake, meta, n: int, journey, rows: list, timeouts: list[float], paths: Counter, entered: int):
    """Print the fakes' books and the enrolments' paths; returns what is wrong (empty: right)."""
    from django.db.models import Count

    from journeys.models import Enrolment

    problems = []
    sms_books, wa_books, wa_keys = sms_fake.recipients(), meta.recipients(), meta.keys()
    classes = {i: outcome_of(i) for i in range(n)}
    phones = {consented_phone(i).lstrip("+"): i for i in range(n)}
    numbers = {whatsapp_number(i).lstrip("+"): i for i in range(n)}
    sms_dupes = sum(sms_books.values()) - len(sms_books)
    sms_lost = len(set(phones) - set(sms_books))
    sms_strays = len(set(sms_books) - set(phones))
    expected_wa = {number for number, i in numbers.items() if classes[i] != DELIVERED}
    wa_dupes = sum(k - 1 for number, k in wa_books.items() if k > 1)
    wa_lost = len(expected_wa - set(wa_books))
    wa_wrong = len(set(wa_books) - expected_wa)
    by_class = Counter(classes.values())
    print(
        f"  Infobip's books: {len(sms_books):,} numbers, {sms_dupes} duplicates, {sms_lost} lost, {sms_strays} "
        f"strays, {sms_fake.duplicates} repeated ids refused; {sms_fake.dlr_posted:,} reports posted "
        f"({by_class[DELIVERED]:,} delivered, {by_class[UNDELIVERED]:,} undelivered, {by_class[SILENT]:,} none)"
    )
    print(
        f"  Meta's books: {len(wa_books):,} numbers for {len(expected_wa):,} not delivered: {wa_dupes} duplicates, "
        f"{wa_lost} lost, {wa_wrong} to a delivered (or unknown) contact; keys twice: "
        f"{sum(wa_keys.values()) - len(wa_keys)}"
    )
    if sms_dupes or sms_lost or sms_strays or sms_fake.duplicates:
        problems.append("the SMS books")
    if wa_dupes or wa_lost or wa_wrong or sum(wa_keys.values()) != len(wa_keys):
        problems.append("the WhatsApp books")
    states = Counter(dict(Enrolment.objects.filter(journey=journey).values_list("state").annotate(k=Count("pk"))))
    expected_paths = {
        ("sms", "next"): n,
        ("wait", "delivered"): by_class[DELIVERED],
        ("wait", "not_delivered"): by_class[UNDELIVERED] + by_class[SILENT],
        ("whatsapp", "next"): by_class[UNDELIVERED] + by_class[SILENT],
        ("done", ""): n,
    }
    reasons = Counter(r.split(" within")[0] for b, r, *_rest in rows if b == "not_delivered")
    print(f"  enrolments: {dict(states)}; not delivered by {dict(reasons)}")
    if states != Counter({"finished": n}) or entered != n:
        problems.append(f"enrolments {dict(states)} (entered {entered:,})")
    if paths != Counter(expected_paths):
        problems.append(f"paths {dict(paths)} (expected {expected_paths})")
    if len(timeouts) != by_class[SILENT]:
        problems.append(f"{len(timeouts):,} timeouts for {by_class[SILENT]:,} silent numbers")
    if problems:
        print(f"  BOOKS WRONG: {'; '.join(problems)}")
    else:
        print("  books: right (0 duplicates, 0 lost; every not-delivered contact one WhatsApp, no delivered one any)")
    return problems
