"""WhatsApp campaign benchmark (issue 13 "Speed"): a template campaign to N opted-in contacts
through a fake Meta Cloud API over real HTTP, on PostgreSQL with real Redis and two real Celery
workers (queue `sending`). The fake (tests/fakes/whatsapp/, a thread of this process) serves the
template sync, the rate-limited run and the status webhooks; the unthrottled run's sends go to the
send endpoint's light stand-in (tests/fakes/whatsapp/quick_sends.py: the same checks and books, an
asyncio server in its own process), or with --full-fake to the fake itself.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/13 \\
        .venv/bin/python bench/send_whatsapp.py --contacts 1000000 --limited 15000

Prints: the campaign preview (median of 3), messages/s end to end (start → campaign done) with the
account's rate limit set out of the way, CPU per message of the workers and of the fake, duplicates
and losses by the fake's books; then a second campaign to --limited contacts at 80 messages/s,
the rate measured from the fake's acceptance times; then the status webhooks of that campaign
(sent, delivered, read for each message), signed by the fake and posted to the panel's webhook
view under gunicorn, which queues them for two `webhooks` workers (process_webhook →
handle_webhook_events): events/s applied, from the first post to every message read."""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from production import (  # noqa: E402
    TICKS,
    cpu_seconds,
    django_on_fresh_database,
    insert_consented_contacts,
    machine_cpu,
    start_server,
    start_workers,
    stop_server,
    stop_workers,
    wait_ready,
)

TEMPLATE = "bench_promo"
BODY = "Merhaba {{1}}, yaz indirimi başladı!"


class _Discard(list):
    """The fake's request log, kept empty: a million bodies are not needed (its books are `accepted`)."""

    def append(self, item) -> None:
        pass


def cpu_by_name(*names: str) -> float:
    """CPU seconds of every process named one of `names` (PostgreSQL's backends, redis-server), with
    the children they reaped (backends that ended count through the postmaster)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name, fields = text[text.index("(") + 1 : text.rindex(")")], text.rsplit(")", 1)[1].split()
        if name in names:
            total += sum(int(x) for x in fields[11:15]) / TICKS  # utime, stime, cutime, cstime
    return total


def met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def wait_done(campaign_pk: int, accepted=None) -> None:
    """Until the campaign is done; with `accepted` (a count), a line a minute of what Meta's stand-in took."""
    from messaging.models import Campaign

    started = shown = time.monotonic()
    while Campaign.objects.get(pk=campaign_pk).status != "done":
        time.sleep(0.25)
        if accepted is not None and time.monotonic() - shown >= 60:
            shown = time.monotonic()
            print(f"    … {accepted():,} accepted by the fake after {shown - started:.0f} s", flush=True)


def slope(times: list[float]) -> float:
    """Messages per second: the least-squares slope of acceptance count over acceptance time
    (batches of one second's worth, each sent at its reserved start, do not bias it)."""
    n = len(times)
    mean_t, mean_i = sum(times) / n, (n - 1) / 2
    spread = sum((t - mean_t) ** 2 for t in times)
    return sum((t - mean_t) * (i - mean_i) for i, t in enumerate(times)) / spread if spread else float("nan")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--limited", type=int, default=15_000, help="messages in the rate-limited run")
    parser.add_argument("--rate", type=int, default=80, help="the limited run's rate_limit (messages/s)")
    parser.add_argument(
        "--unthrottled-rate", type=int, default=100_000, help="rate_limit of the first run (the form allows ≤ 1,000)"
    )
    parser.add_argument("--workers", type=int, default=2, help="sending workers (and webhooks workers)")
    parser.add_argument("--concurrency", type=int, default=2, help="processes per worker (prefork pool)")
    parser.add_argument("--gunicorn", default="sync:2", help="the webhook view's server (as bench/api.py)")
    parser.add_argument("--status-batch", type=int, default=20, help="statuses per webhook POST the fake makes")
    parser.add_argument("--http10", action="store_true", help="the fake closes each connection (its default)")
    parser.add_argument(
        "--full-fake",
        action="store_true",
        help="the unthrottled run through the full fake (http.server, a thread of this process) instead of the "
        "send endpoint's light stand-in (tests/fakes/whatsapp/quick_sends.py, its own process)",
    )
    parser.add_argument("--preview-only", action="store_true", help="measure the preview (3 runs) and stop")
    args = parser.parse_args()
    if not os.environ.get("REDIS_URL"):
        raise SystemExit("set DATABASE_URL=postgres://… (a server where databases can be created) and REDIS_URL")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # as Ctrl-C: the finally blocks stop what runs
    import redis

    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()
    django_on_fresh_database("bench_send_whatsapp", SMS_DISPATCH_PARALLELISM=str(args.workers * args.concurrency))
    from django.db.models import Count

    from channels_whatsapp.models import WhatsAppTemplate
    from channels_whatsapp.services import templates_sync
    from config.celery import app
    from contacts.models import Contact, ContactList
    from contacts.services import contact_list_add
    from messaging.models import Message, MessageStatusEvent
    from messaging.selectors import campaign_preview
    from messaging.services import campaign_create, campaign_start
    from providers.services import account_install
    from tests.fakes.whatsapp import FakeWhatsApp
    from tests.fakes.whatsapp.quick_sends import QuickSends

    n = args.contacts
    print(f"WhatsApp send benchmark: {n:,} contacts, PostgreSQL, Redis, {args.workers} workers, {os.cpu_count()} cores")
    started = time.perf_counter()
    insert_consented_contacts(n, channel="whatsapp")
    print(f"  setup: {n:,} contacts with a WhatsApp number and WHATSAPP ONAY in {time.perf_counter() - started:.1f} s")
    fake = FakeWhatsApp(page_size=25).start()
    fake.requests = _Discard()
    if not args.http10:  # keep-alive, as Meta's Graph API answers HTTP/1.1
        handler = fake.server.RequestHandlerClass
        handler.protocol_version = "HTTP/1.1"
        # headers and body go in two writes: without TCP_NODELAY each answer on a kept-alive
        # connection waits ~40 ms for the client's delayed ACK (Nagle)
        handler.disable_nagle_algorithm = True

    def install(rate_limit: int):
        values = {
            "base_url": fake.url,
            "waba_id": fake.waba_id,
            "phone_number_id": fake.phone_number_id,
            "access_token": fake.access_token,
            "app_secret": fake.app_secret,
            "rate_limit": min(rate_limit, 1000),  # the form's most
        }
        installed = account_install(name="WA", connector="whatsapp", values=values)
        if rate_limit > 1000:  # above what the form takes: set in the account's settings, as a migration could
            installed.settings["rate_limit"] = rate_limit
            installed.save(update_fields=["settings"])
        return installed

    account = install(args.unthrottled_rate)
    fake.add_template(TEMPLATE, category="MARKETING", body=BODY)  # approved at Meta
    synced = templates_sync(account=account)
    template = WhatsAppTemplate.objects.get(account=account, name=TEMPLATE, language="tr")
    print(f"  template {TEMPLATE!r} {template.status} at the fake, synced into the panel ({synced})")
    variables = {"body": {"1": {"source": "name", "default": "Müşterimiz"}}}

    def campaign(name: str, **audience):
        return campaign_create(
            name=name, channel="whatsapp", account=account, template=template, variables=variables, **audience
        )

    main_campaign = campaign("bench")
    timings = []
    for _run in range(3):  # the first run is cold (tables not yet in the page cache); the median is reported
        t = time.perf_counter()
        preview = campaign_preview(main_campaign)
        timings.append(time.perf_counter() - t)
    preview_s = sorted(timings)[1]
    print(
        f"  preview of {preview.audience:,} contacts: {preview_s:.2f} s (target < 2 s: {met(preview_s < 2)}); "
        f"{preview.sendable:,} recipients, exclusions {dict((c, k) for c, _l, k in preview.exclusions)}; "
        f"runs: {', '.join(f'{x:.2f}' for x in timings)} s; sample {preview.sample_text!r}"
    )
    if args.preview_only:
        fake.stop()
        return

    sends = None
    if not args.full_fake:  # the sends of the unthrottled run go to the light stand-in (same checks and books)
        sends = QuickSends(
            access_token=fake.access_token, phone_number_id=fake.phone_number_id, templates=fake.templates
        )
        sends.start()
        account.settings["base_url"] = sends.url  # as the rate limit above: in the account's settings
        account.save(update_fields=["settings"])
    meta = sends or fake  # whose books the unthrottled run is counted by
    workers = start_workers(app, queue="sending", count=args.workers, concurrency=args.concurrency)
    hook_workers, server = [], None
    try:
        cpu_before = sum(cpu_seconds(w.pid) for w in workers)
        stand_in_before = cpu_seconds(sends.pid) if sends else 0.0
        services_before = cpu_by_name("postgres"), cpu_by_name("redis-server")
        own_before = time.process_time()
        machine_before = machine_cpu()
        t = time.perf_counter()
        campaign_start(campaign_id=main_campaign.pk)
        materialised = time.perf_counter() - t
        wait_done(main_campaign.pk, sends.count if sends else lambda: len(fake.accepted))
        elapsed = time.perf_counter() - t
        cpu = sum(cpu_seconds(w.pid) for w in workers) - cpu_before
        stand_in_cpu = cpu_seconds(sends.pid) - stand_in_before if sends else 0.0
        postgres_cpu = cpu_by_name("postgres") - services_before[0]
        redis_cpu = cpu_by_name("redis-server") - services_before[1]
        own_cpu = time.process_time() - own_before  # the fake (HTTP threads, status queue) and this polling loop
        machine_after = machine_cpu()
        busy = (machine_after[0] - machine_before[0]) / max(1, machine_after[1] - machine_before[1]) * 100
        sent = Message.objects.filter(campaign=main_campaign).count()
        by_status = dict(Message.objects.filter(campaign=main_campaign).values_list("status").annotate(k=Count("pk")))
        books, keys = meta.recipients(), meta.keys()
        rate = sent / elapsed
        print(
            f"  unthrottled (rate_limit {args.unthrottled_rate:,}): {sent:,} messages in {elapsed:.1f} s = "
            f"{rate:,.0f} messages/s end to end (target ≥ 5,000: {met(rate >= 5000)}); statuses {by_status}"
        )
        main_campaign.refresh_from_db()
        prepared = main_campaign.prepared_at - main_campaign.started_at
        print(
            f"    starting (the exclusion counts) took {materialised:.1f} s; all {sent:,} message rows were made "
            f"{prepared.total_seconds():.1f} s after the start, in chunks sent as they landed"
        )
        print(
            f"  worker CPU: {cpu:.1f} s = {cpu / sent * 1e6:,.0f} µs per message; PostgreSQL "
            f"{postgres_cpu / sent * 1e6:,.0f} µs, Redis {redis_cpu / sent * 1e6:,.0f} µs per message"
        )
        if sends:
            print(
                f"  Meta's stand-in for sends (asyncio, its own process) CPU: {stand_in_cpu / sent * 1e6:,.0f} µs per "
                f"message (one keep-alive HTTP request each); this process (the full fake, idle, and the polling "
                f"loop) {own_cpu / sent * 1e6:,.0f} µs; all cores {busy:.0f}% busy over the run (the rest is "
                "PostgreSQL, Redis and the kernel)"
            )
        else:
            print(
                f"  fake Cloud API CPU: {own_cpu / sent * 1e6:,.0f} µs per message (one HTTP request each, "
                f"{'HTTP/1.0' if args.http10 else 'keep-alive'}); all cores {busy:.0f}% busy over the run "
                "(the rest is PostgreSQL, Redis and the kernel)"
            )
        every_part = cpu + postgres_cpu + redis_cpu + stand_in_cpu + own_cpu
        print(
            f"  CPU of every part (workers, PostgreSQL, Redis, Meta's stand-in, this process): "
            f"{every_part / sent * 1e6:,.0f} µs per message, so {os.cpu_count()} cores could take at most "
            f"{os.cpu_count() * sent / every_part:,.0f} messages/s with nothing else running (PostgreSQL's figure "
            "counts every session of the server, other users' too)"
        )
        duplicates = sum(books.values()) - len(books)
        print(
            f"  fake's books: {len(books):,} numbers, {duplicates} duplicates, {preview.sendable - len(books)} lost; "
            f"{len(keys):,} message keys, {sum(keys.values()) - len(keys)} accepted twice"
        )
        # the statuses of the first campaign were dropped (no callback yet); the limited campaign's are
        # held by the fake and posted to the panel once it is done
        fake.wait_for_webhooks(timeout=120)
        fake.accepted.clear()
        ids = list(Contact.objects.order_by("pk").values_list("pk", flat=True)[: args.limited])
        contact_list = ContactList.objects.create(name="limited")
        contact_list_add(contact_list=contact_list, contact_ids=ids)
        account = install(args.rate)
        port = free_port()
        fake.callback_url = f"http://127.0.0.1:{port}/hooks/whatsapp/{account.webhook_secret}/"
        fake.hold_statuses = True
        fake.status_batch = args.status_batch
        limited = campaign("limited", audience="list", contact_list=contact_list)
        campaign_start(campaign_id=limited.pk)
        wait_done(limited.pk)
        times = sorted(m["at"] for m in fake.accepted.values())
        span = times[-1] - times[0]
        measured = slope(times)
        print(
            f"  limit {args.rate}/s: {len(times):,} messages over {span:.1f} s, measured {measured:,.1f} messages/s "
            f"({(measured / args.rate - 1) * 100:+.1f}%; target ±5%: {met(abs(measured / args.rate - 1) <= 0.05)}); "
            f"least-squares slope of the fake's acceptances over time (first to last: {(len(times) - 1) / span:,.1f}/s)"
        )

        log = Path(tempfile.gettempdir()) / f"bench_send_whatsapp_gunicorn_{os.getpid()}.log"
        server = start_server(args.gunicorn, port, dict(os.environ, TESTING="0"), log)
        wait_ready(port, "/healthz", server, log)
        hook_workers = start_workers(
            app, queue="webhooks", count=args.workers, concurrency=args.concurrency, name="hooks"
        )
        expected = len(times) * (3 if fake.send_read else 2)
        events_before = MessageStatusEvent.objects.count()
        before = {
            "gunicorn": cpu_seconds(server.pid),
            "webhooks workers": sum(cpu_seconds(w.pid) for w in hook_workers),
        }
        own_before, machine_before = time.process_time(), machine_cpu()
        t = time.perf_counter()
        fake.release_statuses()
        read = Message.objects.filter(campaign=limited, read_at__isnull=False)
        deadline = time.monotonic() + max(120, expected / 200)
        posted_at = None  # when the fake had posted every status (the view answered each)
        while read.count() < len(times) or fake._outstanding:
            if time.monotonic() > deadline:
                raise SystemExit(f"status webhooks not applied: {read.count():,} of {len(times):,} messages read")
            if posted_at is None and not fake._outstanding:
                posted_at = time.perf_counter() - t
            time.sleep(0.05)
        elapsed = time.perf_counter() - t
        posted_at = elapsed if posted_at is None else posted_at
        spent = {
            "gunicorn": cpu_seconds(server.pid) - before["gunicorn"],
            "webhooks workers": sum(cpu_seconds(w.pid) for w in hook_workers) - before["webhooks workers"],
            "fake": time.process_time() - own_before,
        }
        machine_after = machine_cpu()
        busy = (machine_after[0] - machine_before[0]) / max(1, machine_after[1] - machine_before[1]) * 100
        delivered = Message.objects.filter(campaign=limited, status="delivered").count()
        rate = expected / elapsed
        print(
            f"  status webhooks (path: fake → POST {args.gunicorn} gunicorn /hooks/whatsapp/<secret>/ (signature "
            f"checked) → Redis → {args.workers} `webhooks` workers: providers.tasks.process_webhook → "
            "messaging.delivery.handle_webhook_events):"
        )
        print(
            f"    {expected:,} events ({len(times):,} messages × sent, delivered, read; {args.status_batch} a POST, "
            f"{len(fake.posted):,} POSTs, {fake.post_failures} refused) applied in {elapsed:.1f} s = {rate:,.0f} "
            f"events/s (target ≥ 3,000: {met(rate >= 3000)}); {delivered:,} delivered and read, "
            f"{MessageStatusEvent.objects.count() - events_before:,} status events recorded (the furthest status of a "
            f"message in one POST is kept); the fake had posted all after {posted_at:.1f} s"
        )
        print(
            "    CPU µs per event: "
            + ", ".join(f"{name} {s / expected * 1e6:,.0f}" for name, s in spent.items())
            + f"; all cores {busy:.0f}% busy"
        )
    finally:
        if server is not None:
            stop_server(server)
        stop_workers(hook_workers)
        stop_workers(workers)
        if sends:
            sends.stop()
        fake.stop()


if __name__ == "__main__":
    main()
