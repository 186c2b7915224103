"""Public REST API benchmark: the panel under gunicorn (production settings, PostgreSQL, Redis),
driven by concurrent keep-alive HTTP clients (threads of this process).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/11 \\
        .venv/bin/python bench/api.py --seconds 20 --servers sync:4 gthread:2x8

For each gunicorn set-up (`sync:4` = 4 sync workers, `gthread:2x8` = 2 workers of 8 threads), in
this order, each after a short warm-up:
  baseline  GET /api/v1/contacts/<external id>/ (the same key check, rate limit and one query)
  messages  POST /api/v1/messages/, one newsletter SMS to a consented number (the sending rule runs)
  batch     POST /api/v1/contacts/batch/ with --batch-size new contacts
Prints requests/s, p50/p95/p99 latency, status codes (and any other answer), the ratio to the
baseline, CPU per request of gunicorn, PostgreSQL, Redis and these clients, and the targets. No
Celery worker runs: messages stay pending (their wake-up task waits on Redis, db flushed first)."""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import signal
import socket
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from production import (  # noqa: E402
    TICKS,
    consented_phone,
    cpu_tree,
    django_on_fresh_database,
    insert_consented_contacts,
    machine_cpu,
    processes,
    server_pids,
    start_server,
    stop_server,
    wait_ready,
)

TARGET_RPS, TARGET_P99_MS, TARGET_CONTACTS_S = 300, 150, 10_000


def cpu_now(pids: dict[str, int]) -> dict[str, float]:
    table = processes()
    cpu = {name: cpu_tree(pid, table) for name, pid in pids.items()}
    cpu["clients"] = time.process_time()
    busy, total = machine_cpu()
    cpu["machine"], cpu["ticks"] = busy / TICKS, total / TICKS
    return cpu


@dataclass
class Result:
    name: str
    clients: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds, every answer
    codes: Counter = field(default_factory=Counter)
    outcomes: Counter = field(default_factory=Counter)  # what the bodies said
    unexpected: list[str] = field(default_factory=list)  # the first unexpected answers
    items: int = 0  # contacts per request in the batch phase
    cpu: dict[str, float] = field(default_factory=dict)  # µs per request
    busy: float = 0.0  # % of all cores
    others: float = 0.0  # % of all cores used by other processes of the machine

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def rps(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def ms(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")


def drive(port: int, clients: int, seconds: float, make, check, name: str, pids: dict[str, int]) -> Result:
    """`clients` threads, each with one connection (reopened when the server closes it, as sync
    workers do after every answer), sending make(client, n) -> (method, path, body) until the
    time is up; check(code, body) -> an outcome word. Returns what was measured."""
    result = Result(name=name, clients=clients)
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        latencies, codes, outcomes, others = [], Counter(), Counter(), []
        for n in itertools.count():
            if time.perf_counter() >= deadline:
                break
            method, path, body = make(index, n)
            started = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=HEADERS)
                response = conn.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                codes[type(exc).__name__] += 1
                continue
            latencies.append(time.perf_counter() - started)
            codes[response.status] += 1
            outcome = check(response.status, data)
            outcomes[outcome] += 1
            if outcome.startswith("unexpected") and len(others) < 3:
                others.append(f"{response.status} {data[:300]!r}")
            if response.will_close:
                conn.close()
        conn.close()
        with lock:
            result.latencies += latencies
            result.codes.update(codes)
            result.outcomes.update(outcomes)
            result.unexpected += others

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    before = cpu_now(pids)
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - started
    after = cpu_now(pids)
    spent = {k: after[k] - before[k] for k in before}
    result.busy = spent.pop("machine") / spent["ticks"] * 100
    ticks = spent.pop("ticks")
    result.cpu = {k: v / max(1, result.count) * 1e6 for k, v in spent.items()}
    result.others = max(0.0, result.busy - sum(spent.values()) / ticks * 100)
    return result


HEADERS = {"Content-Type": "application/json"}  # the key is added in main()


def report(r: Result, baseline: Result | None = None) -> None:
    unit = f" = {r.rps * r.items:,.0f} contacts/s" if r.items else ""
    what = "contacts/s" if r.items else "requests/s"
    ratio = f"; {what} {r.rps * (r.items or 1) / baseline.rps:.2f}× the baseline's requests/s" if baseline else ""
    print(
        f"  {r.name:<9} {r.count:>6,} requests in {r.seconds:5.1f} s = {r.rps:7,.0f} req/s{unit}{ratio}\n"
        f"            latency p50 {r.ms(0.5):6.1f} ms, p95 {r.ms(0.95):6.1f}, p99 {r.ms(0.99):6.1f}, "
        f"max {r.ms(1.0):6.1f}; {r.clients} clients"
    )
    print(f"            codes {dict(r.codes)}; bodies {dict(r.outcomes)}")
    for other in r.unexpected:
        print(f"            unexpected: {other}")
    cpu = ", ".join(f"{k} {v:,.0f}" for k, v in r.cpu.items())
    print(
        f"            CPU µs per request: {cpu}; all cores {r.busy:.0f}% busy, "
        f"other processes of the machine {r.others:.0f}% of the cores"
    )
    client_share = r.cpu["clients"] * r.rps / 1e6 * 100
    print(f"            the clients used {client_share:.0f}% of one core (the GIL caps them at 100%)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20, help="measured seconds per phase")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of unmeasured load before each phase")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--batch-clients", type=int, default=4, help="clients of the batch phase (one per sync worker)")
    parser.add_argument("--batch-size", type=int, default=1000, help="contacts per batch request (≤ 1,000)")
    parser.add_argument("--contacts", type=int, default=20_000, help="consented contacts made first")
    parser.add_argument("--servers", nargs="+", default=["sync:4"], help="sync:N or gthread:NxT, each in turn")
    parser.add_argument("--workers", type=int, help="shorthand for --servers sync:N")
    parser.add_argument("--quick", action="store_true", help="5 s phases, 1 s warm-ups, 2,000 contacts")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # as Ctrl-C: the finally below stops gunicorn
    if args.quick:
        args.seconds, args.warmup, args.contacts = 5, 1, 2000
    if args.workers:
        args.servers = [f"sync:{args.workers}"]
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/11")
    import redis

    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()
    # the limiter still counts every request, on Redis
    django_on_fresh_database("bench_api", API_RATE_LIMIT=str(10**9))
    from api.models import Scope
    from api.services import api_key_create
    from messaging.models import Message
    from providers.models import ProviderAccount
    from providers.services import account_install
    from tests.fakes.infobip import FakeInfobip

    started = time.perf_counter()
    n = args.contacts
    insert_consented_contacts(n, external_ids=True)
    # İYS connector installed, as in bench/send.py: the sending rule's İYS subquery is in play
    ProviderAccount.objects.create(name="İYS", connector="iys", channel="iys", settings={"mode": "sync"})
    fake = FakeInfobip().start()  # nothing is sent to it (no worker runs); the account needs a URL
    account_install(
        name="Infobip", connector="infobip", values={"base_url": fake.url, "api_key": fake.api_key, "sender": "MARKA"}
    )
    _api_key, key = api_key_create(name="bench", scopes=list(Scope.values))
    HEADERS["Authorization"] = f"Bearer {key}"
    print(
        f"API benchmark: {os.cpu_count()} cores, PostgreSQL + Redis, production settings (DEBUG off); "
        f"{n:,} consented contacts made in {time.perf_counter() - started:.1f} s"
    )

    def baseline(client: int, i: int):
        return "GET", f"/api/v1/contacts/c{(client * 7919 + i) % n}/", None

    def message(client: int, i: int):
        to = consented_phone((client * 7919 + i) % n)
        body = {"channel": "sms", "to": to, "kind": "newsletter", "text": "Merhaba {{name}}, siparişiniz yolda."}
        return "POST", "/api/v1/messages/", json.dumps(body)

    numbers = itertools.count(1)  # new contacts of the batch phase (next() is atomic under the GIL)

    def batch(client: int, i: int):
        ids = [next(numbers) for _ in range(args.batch_size)]
        contacts = [{"external_id": f"b{k}", "phone": f"+90535{k:07d}", "attributes": {"name": f"B{k}"}} for k in ids]
        return "POST", "/api/v1/contacts/batch/", json.dumps({"contacts": contacts})

    def ok_if(code: int, expected: int, word: str):
        return word if code == expected else f"unexpected {code}"

    def check_message(code: int, data: bytes) -> str:
        return json.loads(data)["status"] if code == 201 else f"unexpected {code}"

    def check_batch(code: int, data: bytes) -> str:
        if code != 200:
            return f"unexpected {code}"
        body = json.loads(data)
        return "all created" if body["created"] == args.batch_size else f"unexpected {body['rejected']} rejected"

    env = dict(os.environ, TESTING="0")
    log = Path(tempfile.gettempdir()) / f"bench_api_gunicorn_{os.getpid()}.log"
    summary = []
    server = None
    try:
        for spec in args.servers:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            server = start_server(spec, port, env, log)
            wait_ready(port, "/api/v1/contacts/c0/", server, log, headers=HEADERS)
            pids = server_pids(server.pid)
            print(f"gunicorn {spec} (pid {server.pid}, log {log}):")
            results = {}
            phases = [
                ("baseline", args.clients, baseline, lambda code, _d: ok_if(code, 200, "ok")),
                ("messages", args.clients, message, check_message),
                ("batch", args.batch_clients, batch, check_batch),
            ]
            for name, clients, make, check in phases:
                last = Message.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
                warm = drive(port, clients, args.warmup, make, check, name, pids)
                r = drive(port, clients, args.seconds, make, check, name, pids)
                r.items = args.batch_size if name == "batch" else 0
                results[name] = r
                report(r, None if name == "baseline" else results["baseline"])
                if name == "messages":
                    rows = Message.objects.filter(pk__gt=last)
                    made = rows.count()
                    answered = warm.codes[201] + r.codes[201]
                    states = Counter(rows.values_list("status", flat=True))
                    print(
                        f"            Message rows made {made:,} (201 answers incl. warm-up {answered:,}: "
                        f"{'equal' if made == answered else 'NOT equal'}); their status {dict(states)}"
                    )
            stop_server(server)
            summary.append((spec, results))
    finally:
        if server is not None:
            stop_server(server)
        fake.stop()

    print("\nsummary (targets: messages ≥ 300 req/s and p99 ≤ 150 ms; batch ≥ 10,000 contacts/s):")
    for spec, results in summary:
        b, m, c = results["baseline"], results["messages"], results["batch"]
        clean = set(m.codes) == {201} and set(m.outcomes) == {"queued"} and set(c.outcomes) == {"all created"}
        met = [
            m.rps >= TARGET_RPS,
            m.ms(0.99) <= TARGET_P99_MS,
            c.rps * c.items >= TARGET_CONTACTS_S,
            clean,
        ]
        print(
            f"  {spec:<12} baseline {b.rps:6,.0f} req/s p99 {b.ms(0.99):5.1f} ms | messages {m.rps:6,.0f} req/s "
            f"({m.rps / b.rps:.2f}× baseline) p99 {m.ms(0.99):5.1f} ms | batch {c.rps * c.items:7,.0f} contacts/s "
            f"p50 {c.ms(0.5):5.0f} ms p99 {c.ms(0.99):5.0f} ms | "
            + ("all targets met" if all(met) else "NOT met: " + ", ".join(
                w for w, ok in zip(["req/s", "p99", "contacts/s", "all 201 queued"], met, strict=True) if not ok
            ))
        )  # fmt: skip


if __name__ == "__main__":
    main()
