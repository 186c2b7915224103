"""WhatsApp status webhooks benchmark (issue 13 "Speed": status webhooks applied at ≥ 3,000
events/s). N WhatsApp messages accepted by Meta (rows `queued` with a wamid, made directly); then
Meta's stand-in (threads of this process, --posters at once, as Meta delivers webhooks
concurrently) posts their statuses — sent, delivered and read for each message, signed with the
app secret, --status-batch statuses a POST — to the panel's webhook view under gunicorn
(`config.wsgi`, production settings), which stores each post for the `webhooks` workers
(providers.inbox → messaging.delivery). Events/s is from the first post to every message
delivered and read.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/15 \\
        .venv/bin/python bench/whatsapp_webhooks.py --messages 50000

The statuses come in the order a campaign makes them: the sent statuses of a block of --spread
messages, then their delivered, then their read (so one POST holds one status of 20 messages, and
a message's three statuses arrive in different POSTs, seconds apart at Meta). The bodies are made
and signed before the clock starts (the stand-in's work is Meta's, not ours); the stand-in's
HTTP CPU is printed with the rest."""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import json
import os
import queue
import signal
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from production import (  # noqa: E402
    TICKS,
    cpu_seconds,
    cpu_tree,
    django_on_fresh_database,
    machine_cpu,
    processes,
    server_pids,
    start_server,
    start_workers,
    stop_server,
    stop_workers,
    wait_ready,
)

APP_SECRET = "bench-app-secret"
PHONE_NUMBER_ID = "106540352242922"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bodies(messages: list[tuple[int, str, str]], *, batch: int, spread: int) -> list[tuple[bytes, str]]:
    """Signed webhook bodies (body, X-Hub-Signature-256) for every message's sent, delivered, read."""
    stream = []
    now = int(time.time())
    for start in range(0, len(messages), spread):
        block = messages[start : start + spread]
        for offset, status in enumerate(("sent", "delivered", "read")):
            for _pk, key, to in block:
                item = {"id": f"wamid.{key}", "recipient_id": to, "status": status, "timestamp": str(now + offset),
                        "biz_opaque_callback_data": key}  # fmt: skip
                if status != "read":
                    item["pricing"] = {"billable": True, "pricing_model": "PMP", "category": "marketing"}
                stream.append(item)
    made = []
    for start in range(0, len(stream), batch):
        chunk = stream[start : start + batch]
        changes = [
            {
                "field": "messages",
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": "908501234567", "phone_number_id": PHONE_NUMBER_ID},
                    "statuses": chunk[i : i + 2],
                },
            }
            for i in range(0, len(chunk), 2)
        ]
        body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": changes}]})
        raw = body.encode()
        made.append((raw, "sha256=" + hmac.new(APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()))
    return made


def post_all(port: int, path: str, work: queue.Queue, refused: list[int]) -> None:
    """One of Meta's delivery threads: a keep-alive connection (opened again when the server closes
    it), each post retried until taken, as Meta retries."""
    connection = None
    while True:
        try:
            body, signature = work.get_nowait()
        except queue.Empty:
            return
        while True:
            try:
                if connection is None:
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                connection.request(
                    "POST",
                    path,
                    body=body,
                    headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
                )
                response = connection.getresponse()
                response.read()
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
                    connection = None
                if response.status < 300:
                    break
                refused.append(response.status)
            except (OSError, http.client.HTTPException):
                refused.append(0)
                if connection is not None:
                    connection.close()
                connection = None
            time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--status-batch", type=int, default=20, help="statuses per POST")
    parser.add_argument("--spread", type=int, default=500, help="messages whose sent statuses come before delivered")
    parser.add_argument("--posters", type=int, default=4, help="POSTs in flight at once")
    parser.add_argument("--gunicorn", default="sync:2", help="the webhook view's server (kind:workers)")
    parser.add_argument("--workers", type=int, default=1, help="`webhooks` workers")
    parser.add_argument("--concurrency", type=int, default=2, help="processes per worker (prefork pool)")
    args = parser.parse_args()
    if not os.environ.get("REDIS_URL"):
        raise SystemExit("set DATABASE_URL=postgres://… (a server where databases can be created) and REDIS_URL")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    import redis

    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()
    django_on_fresh_database("bench_whatsapp_webhooks")
    from django.db import connection

    from config.celery import app
    from messaging.models import Message, MessageStatusEvent, message_key
    from providers.services import account_install

    n = args.messages
    print(f"WhatsApp status webhooks benchmark: {n:,} messages × 3 statuses, PostgreSQL, Redis, {os.cpu_count()} cores")
    account = account_install(
        name="WA",
        connector="whatsapp",
        values={"base_url": "http://127.0.0.1:9", "waba_id": "102290129340398", "phone_number_id": PHONE_NUMBER_ID,
                "access_token": "bench-token", "app_secret": APP_SECRET},
    )  # fmt: skip
    t = time.perf_counter()
    for start in range(0, n, 5000):
        Message.objects.bulk_create(
            [
                Message(
                    kind="newsletter",
                    channel="whatsapp",
                    account=account,
                    to=f"+9054{i:07d}1",
                    status="queued",
                    raw_status="accepted",
                    provider_id="",
                )
                for i in range(start, min(n, start + 5000))
            ]
        )
    rows = list(Message.objects.order_by("pk").values_list("pk", "to"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Message._meta.db_table} SET provider_id = 'wamid.' || %s || '-' || id, sent_at = now()",  # noqa: S608
            [message_key(0).rsplit("-", 1)[0]],
        )
        cursor.execute(f"VACUUM ANALYZE {Message._meta.db_table}")
    messages = [(pk, message_key(pk), to.lstrip("+")) for pk, to in rows]
    made = bodies(messages, batch=args.status_batch, spread=args.spread)
    expected = n * 3
    print(f"  setup: {n:,} queued messages, {len(made):,} signed POSTs made in {time.perf_counter() - t:.1f} s")

    port = free_port()
    log = Path(tempfile.gettempdir()) / f"bench_whatsapp_webhooks_gunicorn_{os.getpid()}.log"
    server = start_server(args.gunicorn, port, dict(os.environ, TESTING="0"), log)
    workers = []
    try:
        workers = start_workers(app, queue="webhooks", count=args.workers, concurrency=args.concurrency, name="hooks")
        wait_ready(port, "/healthz", server, log)  # /healthz answers 200 once a worker answers too
        path = f"/hooks/whatsapp/{account.webhook_secret}/"
        work: queue.Queue = queue.Queue()
        for item in made:
            work.put(item)
        refused: list[int] = []
        pids = server_pids(server.pid)  # gunicorn, PostgreSQL, Redis

        def spent_now() -> dict[str, float]:
            table = processes()
            return {
                **{name: cpu_tree(pid, table) for name, pid in pids.items()},
                "webhooks workers": sum(cpu_seconds(w.pid) for w in workers),
                "Meta's stand-in": time.process_time(),
            }

        before = spent_now()
        machine_before = machine_cpu()
        events_before = MessageStatusEvent.objects.count()
        t = time.perf_counter()
        posters = [threading.Thread(target=post_all, args=(port, path, work, refused)) for _ in range(args.posters)]
        for thread in posters:
            thread.start()
        done = Message.objects.filter(status="delivered", read_at__isnull=False)
        posted_at = None
        deadline = time.monotonic() + max(300, expected / 100)
        while done.count() < n:
            if time.monotonic() > deadline:
                raise SystemExit(f"not applied in time: {done.count():,} of {n:,} messages delivered and read")
            if posted_at is None and not any(thread.is_alive() for thread in posters):
                posted_at = time.perf_counter() - t
            time.sleep(0.1)
        elapsed = time.perf_counter() - t
        spent = {name: value - before[name] for name, value in spent_now().items()}
        machine_after = machine_cpu()
        busy = (machine_after[0] - machine_before[0]) / max(1, machine_after[1] - machine_before[1]) * 100
        ours = sum(spent.values()) / ((machine_after[1] - machine_before[1]) / TICKS) * 100
        rate = expected / elapsed
        history = MessageStatusEvent.objects.count() - events_before
        print(
            f"  {expected:,} events in {len(made):,} POSTs ({args.status_batch} a POST, {args.posters} at once, "
            f"gunicorn {args.gunicorn}, {args.workers}×{args.concurrency} webhooks worker processes) applied in "
            f"{elapsed:.1f} s = {rate:,.0f} events/s (target ≥ 3,000: {'met' if rate >= 3000 else 'NOT met'}); "
            f"every message delivered and read; {history:,} history rows of {expected:,} statuses (a sent "
            "applied after its delivered, by two drains at once, moves nothing and leaves no row); "
            f"the stand-in had posted all after {posted_at or elapsed:.1f} s; {len(refused)} posts refused or dropped "
            "and sent again"
        )
        print(
            "  CPU µs per event: "
            + ", ".join(f"{name} {s / expected * 1e6:,.0f}" for name, s in spent.items())
            + f"; all cores {busy:.0f}% busy, other processes of the machine {max(0.0, busy - ours):.0f}%"
        )
    finally:
        stop_workers(workers)
        stop_server(server)


if __name__ == "__main__":
    main()
