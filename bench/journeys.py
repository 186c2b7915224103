"""Journey benchmark (issue "Journeys", speed): N contacts join a list and enter the fallback journey
of tests/journeys/conftest.py (SMS → wait for delivery `--wait-seconds` → not delivered: the
WhatsApp template "promo"), through the fake Infobip and the fake Meta Cloud API (real HTTP,
threads of this process), on a fresh PostgreSQL database with real Redis.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/9 \\
        .venv/bin/python bench/journeys.py --contacts 100000 --wait-seconds 60

Processes: two engine workers (this script with `--role engine`: a loop over
journeys.engine.enrolments_run_due, sleeping `--poll` seconds when nothing is due); a real Celery
worker on `sending` (messaging.tasks.send_single_messages → the Infobip and WhatsApp sends) and
one on `webhooks` (providers.tasks.process_webhooks, the inbox → the delivery reports); gunicorn serving the
panel, to which the fake Infobip posts each delivery report (PUBLIC_BASE_URL/hooks/infobip/…). The
Celery workers are `celery worker` started through this script (`--role celery`) only so that
journeys.tasks.run_journeys (the kick queued when contacts enter or a report wakes a wait) goes to
a queue no one reads: the two engine workers are then the only ones running journey steps.

Numbers: contact i has phone +90533<i:07d> and WhatsApp number +9054<i:07d>1; i % 20 in (0, 1):
the fake Infobip reports the SMS undelivered (10%), i % 20 == 2: it reports nothing (5%), else
delivered. Prints contact-steps/s, timer lateness (timeouts: wait passed − (the SMS went + wait);
reports: wait passed − the report's status time), CPU by process, and the books: every contact one
SMS, every not-delivered contact exactly one WhatsApp, no delivered one any. Exits 1 when the books
are wrong (targets missed are printed, not an error)."""

from __future__ import annotations

import argparse
import copy
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# this file is bench/journeys.py: with bench/ on the path, `import journeys` would find it, not the app
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))
from bench.journeys_books import check_books, met, outcome_of, print_lateness  # noqa: E402
from bench.production import (  # noqa: E402
    consented_phone,
    cpu_seconds,
    django_on_fresh_database,
    machine_cpu,
    production_environment,
    start_server,
    stop_server,
    wait_ready,
    whatsapp_number,
)

KICKS = "bench_journeys_kicks"  # where run_journeys goes: no worker reads it


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def route_kicks_away() -> None:
    """journeys.tasks.* to KICKS in this process (call after django.setup(), before any task is sent)."""
    from django.conf import settings

    from config.celery import app

    app.conf.task_routes = {**settings.CELERY_TASK_ROUTES, "journeys.tasks.*": {"queue": KICKS}}


def setup_child() -> None:
    """A child of the bench: the environment (database, secrets, Redis) is the parent's."""
    production_environment()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    route_kicks_away()


# --- the child processes ------------------------------------------------------------------------
def engine_role(out: Path, poll: float, profile: Path | None) -> None:
    setup_child()
    from journeys.engine import enrolments_run_due

    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    busy: list[tuple[float, float, int]] = []  # (start, end, steps) of each call that passed steps
    profiler = None
    if profile is not None:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    while not stopping:
        started = time.time()
        passed = enrolments_run_due()
        if passed:
            busy.append((started, time.time(), passed))
        else:
            time.sleep(poll)
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile)
    out.write_text(json.dumps({"busy": busy, "cpu": time.process_time()}))


def celery_role(argv: list[str]) -> None:
    setup_child()
    from config.celery import app

    app.worker_main(["worker", *argv])


# --- the bench ----------------------------------------------------------------------------------
def insert_contacts(n: int) -> None:
    """N contacts subscribed to SMS (no İYS connector: subscription is the SMS rule, as in
    tests/journeys) and opted in to WhatsApp, with a name; then VACUUM ANALYZE."""
    from django.db import connection
    from django.utils import timezone

    from contacts.bulk import insert_rows
    from contacts.models import Contact

    now = timezone.now()
    for start in range(0, n, 50_000):
        insert_rows(
            Contact,
            [
                {
                    "phone": consented_phone(i),
                    "phone_status": "active",
                    "sms_subscription": "subscribed",
                    "whatsapp_consent": "opt_in",
                    "whatsapp_consent_source": "bench",
                    "attributes": {"name": f"Ad{i}"},
                    "created_at": now,
                    "updated_at": now,
                    "external_id": None,
                    "email": None,
                    "whatsapp_number": whatsapp_number(i),
                    "whatsapp_consent_at": now,
                }
                for i in range(start, min(n, start + 50_000))
            ],
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def start_celery(queue: str, name: str, concurrency: int, log: Path) -> subprocess.Popen:
    command = [sys.executable, str(Path(__file__).resolve()), "--role", "celery", "--"]
    command += ["-Q", queue, "--pool", "prefork", "--concurrency", str(concurrency), "-n", f"{name}@%h"]
    command += ["--without-gossip", "--without-mingle", "-l", "WARNING"]
    with log.open("ab") as out:
        return subprocess.Popen(command, cwd=ROOT, env=dict(os.environ, TESTING="0"), stdout=out, stderr=out)


def wait_for_celery(app, workers: dict[str, subprocess.Popen]) -> None:
    deadline = time.monotonic() + 60
    while True:
        answered = {next(iter(r)).split("@")[0] for r in app.control.ping(timeout=0.5) or []}
        if set(workers) <= answered:
            return
        if time.monotonic() > deadline or any(w.poll() is not None for w in workers.values()):
            raise SystemExit("Celery workers did not start")


def stop_processes(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def union_seconds(intervals: list[tuple[float, float]]) -> float:
    total, end = 0.0, float("-inf")
    for a, b in sorted(intervals):
        if b <= end:
            continue
        total += b - max(a, end)
        end = b
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--wait-seconds", type=int, default=60, help="the wait for delivery's timeout")
    parser.add_argument("--engines", type=int, default=2, help="engine worker processes")
    parser.add_argument("--poll", type=float, default=0.2, help="an idle engine worker's sleep (s)")
    parser.add_argument("--sending-concurrency", type=int, default=2, help="processes of the `sending` worker")
    parser.add_argument("--webhooks-concurrency", type=int, default=2, help="processes of the `webhooks` worker")
    parser.add_argument("--gunicorn", default="sync:2", help="the webhook view's server (as bench/api.py)")
    parser.add_argument("--chunk", type=int, default=2000, help="contacts per contact_list_add (one transaction)")
    parser.add_argument("--report-delay", type=float, default=0.0, help="seconds from SMS accepted to its report")
    parser.add_argument("--whatsapp-rate", type=int, default=1000, help="the WhatsApp account's rate_limit (/s)")
    parser.add_argument("--database", default="bench_journeys")
    parser.add_argument("--profile", action="store_true", help="cProfile the first engine worker; print its top")
    parser.add_argument("--role", choices=["engine", "celery"], help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--profile-out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("rest", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "engine":
        return engine_role(args.out, args.poll, args.profile_out)
    if args.role == "celery":
        return celery_role(args.rest)

    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/9")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # as Ctrl-C: the finally blocks stop what runs
    import redis

    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()
    port = free_port()
    django_on_fresh_database(args.database, PUBLIC_BASE_URL=f"http://127.0.0.1:{port}", TESTING="0")
    route_kicks_away()
    from django.conf import settings
    from django.db import transaction
    from django.db.models import Count

    from channels_whatsapp.models import WhatsAppTemplate
    from config.celery import app
    from contacts.models import Contact, ContactList
    from contacts.services import contact_list_add
    from journeys.models import Enrolment, EnrolmentStep, Journey
    from journeys.services import journey_activate, journey_save_steps
    from messaging.models import Message
    from providers.services import account_install
    from tests.fakes.infobip import FakeInfobip
    from tests.fakes.whatsapp import FakeWhatsApp
    from tests.journeys.conftest import BODY, FALLBACK  # after django.setup(): importing pytest means TESTING

    assert not settings.CELERY_TASK_ALWAYS_EAGER, "the bench needs real workers (TESTING off)"
    n, wait = args.contacts, args.wait_seconds
    print(
        f"Journey benchmark: {n:,} contacts, SMS → wait for delivery {wait} s → not delivered: WhatsApp; "
        f"{args.engines} engine workers, PostgreSQL, Redis, {os.cpu_count()} cores"
    )
    started = time.perf_counter()
    insert_contacts(n)
    print(f"  setup: {n:,} contacts (SMS subscribed, WhatsApp opt-in) in {time.perf_counter() - started:.1f} s")

    class BenchInfobip(FakeInfobip):
        def _outcome(self, to: str) -> str:  # the contact's number says what happens to its SMS
            return outcome_of(int(to) - int(consented_phone(0)))

    class Discard(list):
        def append(self, item) -> None:
            pass

    sms_fake = BenchInfobip(report_delay=args.report_delay)
    sms_fake.record_requests = False
    sms_fake.real_times = True  # the reports' doneAt: the delivered-lateness is measured from it
    meta = FakeWhatsApp(page_size=25)
    meta.requests = Discard()
    handler = meta.server.RequestHandlerClass  # keep-alive with TCP_NODELAY, as bench/send_whatsapp.py
    handler.protocol_version, handler.disable_nagle_algorithm = "HTTP/1.1", True
    sms_fake.start()
    meta.start()  # no callback: its status webhooks are dropped (the journey waits for the SMS only)
    account_install(
        name="Infobip",
        connector="infobip",
        values={"base_url": sms_fake.url, "api_key": sms_fake.api_key, "sender": "MARKA", "price_per_segment": "0.02"},
    )
    wa = account_install(
        name="WA",
        connector="whatsapp",
        values={"base_url": meta.url, "waba_id": meta.waba_id, "phone_number_id": meta.phone_number_id,
                "access_token": meta.access_token, "app_secret": meta.app_secret,
                "rate_limit": min(args.whatsapp_rate, 1000)},
    )  # fmt: skip
    if args.whatsapp_rate > 1000:  # above what the form takes
        wa.settings["rate_limit"] = args.whatsapp_rate
        wa.save(update_fields=["settings"])
    meta.add_template("promo", category="MARKETING", components=BODY, status="APPROVED")
    WhatsAppTemplate.objects.create(
        account=wa, name="promo", language="tr", category="MARKETING", status="APPROVED", components=BODY,
        variables={"body": {"1": {"source": "name", "default": "Müşterimiz"}}}, text="Merhaba {{1}}", provider_id="1",
    )  # fmt: skip
    definition = copy.deepcopy(FALLBACK)
    definition["steps"]["wait"]["seconds"] = wait
    members = ContactList.objects.create(name="Yeni üyeler")
    journey = Journey.objects.create(name="Hoş geldin", re_entry="once", entry="list", entry_list=members)
    journey_save_steps(journey=journey, definition=definition)
    journey_activate(journey=journey)

    tag = f"bench-journeys-{os.getpid()}"
    tmp = Path(tempfile.gettempdir())
    log = tmp / f"{tag}.log"
    engines: list[subprocess.Popen] = []
    celery: dict[str, subprocess.Popen] = {}
    server = None
    outs = [tmp / f"{tag}-engine{i}.json" for i in range(args.engines)]
    profile = tmp / f"{tag}-engine0.prof" if args.profile else None
    try:
        celery["sending"] = start_celery("sending", "sending", args.sending_concurrency, log)
        celery["hooks"] = start_celery("webhooks", "hooks", args.webhooks_concurrency, log)
        wait_for_celery(app, celery)
        server = start_server(args.gunicorn, port, dict(os.environ, TESTING="0"), log)
        wait_ready(port, "/healthz", server, log)  # healthz answers 200 once workers answer too
        for i, out in enumerate(outs):
            command = [sys.executable, str(Path(__file__).resolve()), "--role", "engine", "--out", str(out)]
            command += ["--poll", str(args.poll)]
            if i == 0 and profile is not None:
                command += ["--profile-out", str(profile)]
            with log.open("ab") as output:
                engines.append(subprocess.Popen(command, cwd=ROOT, env=dict(os.environ), stdout=output, stderr=output))
        time.sleep(2)  # the engines' Django set-up
        if any(e.poll() is not None for e in engines):
            raise SystemExit(f"an engine worker exited; see {log}")
        processes = {
            "engines": [e.pid for e in engines],
            "sending worker": [celery["sending"].pid],
            "webhooks worker": [celery["hooks"].pid],
            "gunicorn": [server.pid],
        }
        cpu_before = {k: sum(cpu_seconds(p) for p in pids) for k, pids in processes.items()}
        own_before, machine_before = time.process_time(), machine_cpu()

        t0 = time.time()
        ids = list(Contact.objects.order_by("pk").values_list("pk", flat=True))
        for at in range(0, len(ids), args.chunk):
            with transaction.atomic():
                contact_list_add(contact_list=members, contact_ids=ids[at : at + args.chunk])
        entered_s = time.time() - t0
        entered = Enrolment.objects.filter(journey=journey).count()
        print(f"  {entered:,} contacts entered in {entered_s:.1f} s (contact_list_add, {args.chunk:,} a transaction)")

        deadline = time.monotonic() + wait + max(300, n / 100)
        shown = time.monotonic()
        open_messages = Message.objects.filter(status="pending")  # not yet handed to the provider
        while True:
            active = Enrolment.objects.filter(journey=journey, state="active").count()
            if not active and not open_messages.exists() and sms_fake._unposted == 0:
                break
            if any(e.poll() is not None for e in engines):
                raise SystemExit(f"an engine worker exited; see {log}")
            if time.monotonic() > deadline:
                raise SystemExit(f"not done in time: {active:,} enrolments still active; see {log}")
            if time.monotonic() - shown >= 10:
                shown = time.monotonic()
                at_wait = Enrolment.objects.filter(journey=journey, state="active", step="wait").count()
                print(
                    f"    … {time.time() - t0:.0f} s: {active:,} active ({at_wait:,} waiting), "
                    f"{EnrolmentStep.objects.count():,} steps passed, {len(sms_fake.accepted):,} SMS, "
                    f"{sms_fake.dlr_posted:,} reports posted, {len(meta.accepted):,} WhatsApp",
                    flush=True,
                )
            time.sleep(0.5)
        t_end = time.time()
        spent = {k: sum(cpu_seconds(p) for p in pids) - cpu_before[k] for k, pids in processes.items()}
        spent["bench (fakes, entry, polling)"] = time.process_time() - own_before
        machine_after = machine_cpu()
    finally:
        stop_processes(engines)
        stop_processes(list(celery.values()))
        if server is not None:
            stop_server(server)
        sms_fake.stop()
        meta.stop()
    busy_pct = (machine_after[0] - machine_before[0]) / max(1, machine_after[1] - machine_before[1]) * 100
    kicks = redis.Redis.from_url(os.environ["REDIS_URL"]).llen(KICKS)

    # --- throughput --------------------------------------------------------------------------
    busy, engine_steps = [], 0
    for out in outs:
        data = json.loads(out.read_text())
        busy += [(a, b) for a, b, _k in data["busy"]]
        engine_steps += sum(k for _a, _b, k in data["busy"])
    steps = EnrolmentStep.objects.filter(journey=journey)
    total_steps = steps.count()
    paths = Counter(dict(((s, b), k) for s, b, k in steps.values_list("step", "branch").annotate(k=Count("pk"))))
    busy_s = union_seconds(busy)
    first, last = t0, max(b for _a, b in busy)
    per_second = Counter(int(at.timestamp()) for at in steps.values_list("at", flat=True))
    window = 10
    peak = max(sum(per_second.get(s + d, 0) for d in range(window)) for s in per_second) / window
    rate = total_steps / busy_s
    shown_paths = ", ".join(f"{s}→{b or 'end'} {k:,}" for (s, b), k in sorted(paths.items()))
    print(f"  {total_steps:,} contact-steps ({shown_paths})")
    print(
        f"  contact-steps/s while an engine worker had work: {rate:,.0f} (target ≥ 3,000: {met(rate >= 3000)}); "
        f"{busy_s:.1f} s busy of {last - first:.1f} s from the first entry to the last step "
        f"(overall {total_steps / (last - first):,.0f}/s, the {wait} s wait included); best {window} s: {peak:,.0f}/s"
    )
    cpu_line = ", ".join(f"{k} {v:.1f} s" for k, v in spent.items())
    print(
        f"  CPU over the run ({t_end - t0:.0f} s): {cpu_line}; engines {spent['engines'] / total_steps * 1e6:,.0f} µs "
        f"a step; all cores {busy_pct:.0f}% busy; {kicks:,} run_journeys kicks left unread ({KICKS})"
    )

    rows, timeouts = print_lateness(journey=journey, wait=wait)
    problems = check_books(
        sms_fake=sms_fake, meta=meta, n=n, journey=journey, rows=rows, timeouts=timeouts, paths=paths, entered=entered
    )
    if profile is not None:
        import pstats

        print(f"  profile of engine worker 0 ({profile}):")
        for key in ("tottime", "cumulative"):
            pstats.Stats(str(profile), stream=sys.stdout).sort_stats(key).print_stats(25)
    from django.db import connection

    connection.close()
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
