"""SMS send benchmark (issue 5): a newsletter to N contacts through the fake Infobip, on
PostgreSQL with real Redis and two real Celery workers (queue `sending`).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/send.py --contacts 1000000 --limited 15000

Prints: audience preview time, messages/s end to end (start → campaign done), worker CPU per
message, then a second campaign with a 500 messages/s limit and the rate the fake measured; and
duplicates and losses by the fake's own books. The fake runs in this process (a thread)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from production import (  # noqa: E402
    cpu_seconds,
    django_on_fresh_database,
    insert_consented_contacts,
    machine_cpu,
    start_workers,
    stop_workers,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--limited", type=int, default=15_000, help="messages in the 500/s rate-limited run")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=2, help="processes per worker (prefork pool)")
    parser.add_argument("--preview-only", action="store_true", help="measure the audience preview (3 runs) and stop")
    args = parser.parse_args()
    if not os.environ.get("REDIS_URL"):
        raise SystemExit("set DATABASE_URL=postgres://… (a server where databases can be created) and REDIS_URL")
    django_on_fresh_database("bench_send", SMS_DISPATCH_PARALLELISM=str(args.workers * args.concurrency))

    from config.celery import app
    from contacts.models import Contact
    from messaging.models import Campaign, Message
    from messaging.selectors import campaign_preview
    from messaging.services import campaign_create, campaign_start
    from providers.models import ProviderAccount
    from providers.services import account_install
    from tests.fakes.infobip import FakeInfobip

    n = args.contacts
    print(f"SMS send benchmark: {n:,} contacts, PostgreSQL + Redis, {args.workers} workers, {os.cpu_count()} cores")
    started = time.perf_counter()
    insert_consented_contacts(n)
    print(f"  setup: {n:,} contacts with MESAJ ONAY in {time.perf_counter() - started:.1f} s")
    ProviderAccount.objects.create(name="İYS", connector="iys", channel="iys", settings={"mode": "sync"})
    fake = FakeInfobip().start()
    fake.post_reports = False
    fake.record_requests = False
    account = account_install(
        name="Infobip", connector="infobip", values={"base_url": fake.url, "api_key": fake.api_key, "sender": "MARKA"}
    )

    campaign = campaign_create(name="bench", kind="newsletter", account=account, text="Merhaba {{name}}, indirim!")
    timings = []
    for _run in range(3):  # the first run is cold (tables not yet in the page cache); the median is reported
        t = time.perf_counter()
        preview = campaign_preview(campaign)
        timings.append(time.perf_counter() - t)
    preview_s = sorted(timings)[len(timings) // 2]  # the median
    print(
        f"  preview of {preview.audience:,} contacts: {preview_s:.2f} s "
        f"(target < 2 s: {'met' if preview_s < 2 else 'NOT met'}); {preview.sendable:,} recipients"
        + (f"; runs: {', '.join(f'{x:.2f}' for x in timings)} s" if len(timings) > 1 else "")
    )
    if args.preview_only:
        fake.stop()
        return

    workers = start_workers(app, queue="sending", count=args.workers, concurrency=args.concurrency)
    try:
        cpu_before = sum(cpu_seconds(w.pid) for w in workers)
        own_before = time.process_time()
        machine_before = machine_cpu()
        t = time.perf_counter()
        campaign_start(campaign_id=campaign.pk)
        materialised = time.perf_counter() - t
        while Campaign.objects.get(pk=campaign.pk).status != "done":
            time.sleep(0.25)
        elapsed = time.perf_counter() - t
        cpu = sum(cpu_seconds(w.pid) for w in workers) - cpu_before
        own_cpu = time.process_time() - own_before  # the fake provider (and this polling loop)
        machine_after = machine_cpu()
        busy = (machine_after[0] - machine_before[0]) / max(1, machine_after[1] - machine_before[1]) * 100
        sent = Message.objects.filter(campaign=campaign).count()
        books = fake.recipients()
        print(
            f"  unthrottled: {sent:,} messages in {elapsed:.1f} s = {sent / elapsed:,.0f} messages/s end to end "
            f"(target ≥ 5,000: {'met' if sent / elapsed >= 5000 else 'NOT met'})"
        )
        campaign.refresh_from_db()
        prepared = campaign.prepared_at - campaign.started_at
        print(
            f"    starting (the exclusion counts) took {materialised:.1f} s; the {sent:,} message rows were all made "
            f"{prepared.total_seconds():.1f} s after the start, in chunks sent as they landed"
        )
        print(f"  worker CPU: {cpu:.1f} s = {cpu / sent * 1e6:,.0f} µs per message")
        print(
            f"  fake provider CPU: {own_cpu / sent * 1e6:,.0f} µs per message; all cores {busy:.0f}% busy over the run "
            "(the rest is PostgreSQL, Redis and the kernel)"
        )
        print(
            f"  fake's books: {len(books):,} numbers, {sum(books.values()) - len(books)} duplicates, "
            f"{preview.sendable - len(books)} lost, {fake.duplicates} repeated ids refused"
        )

        limited_contacts = Contact.objects.order_by("pk").values_list("pk", flat=True)[: args.limited]
        from contacts.models import ContactList

        contact_list = ContactList.objects.create(name="limited")
        from contacts.services import contact_list_add

        contact_list_add(contact_list=contact_list, contact_ids=list(limited_contacts))
        account = account_install(
            name="Infobip",
            connector="infobip",
            values={"base_url": fake.url, "api_key": fake.api_key, "sender": "MARKA", "rate_limit": 500},
        )
        fake.accepted.clear()
        limited = campaign_create(
            name="limited",
            kind="newsletter",
            account=account,
            text="Merhaba {{name}}",
            audience="list",
            contact_list=contact_list,
        )
        t = time.perf_counter()
        campaign_start(campaign_id=limited.pk)
        while Campaign.objects.get(pk=limited.pk).status != "done":
            time.sleep(0.25)
        times = sorted(m["at"] for m in fake.accepted.values())
        # each batch is one second's worth, sent at its reserved start: the rate over whole seconds
        span = times[-1] - times[0]
        rate = (len(times) - 500) / span if span > 0 else float("nan")
        print(
            f"  limit 500/s: {len(times):,} messages, measured {rate:,.1f} messages/s "
            f"({(rate / 500 - 1) * 100:+.1f}%; target ±5%: {'met' if abs(rate / 500 - 1) <= 0.05 else 'NOT met'})"
        )
    finally:
        stop_workers(workers)
        fake.stop()


if __name__ == "__main__":
    main()
