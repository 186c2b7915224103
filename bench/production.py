"""Benchmarks run as production does: DEBUG off (no per-query SQL kept in memory), with
throw-away secrets when none are configured. Also the set-up the benchmarks share: a fresh
PostgreSQL database, contacts a newsletter may go to (SMS or WhatsApp), real Celery workers, and
CPU accounting from /proc."""

from __future__ import annotations

import base64
import http.client
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TICKS = os.sysconf("SC_CLK_TCK")


def production_environment() -> None:
    """Set DEBUG=0 and, where missing, an ephemeral SECRET_KEY and FIELD_ENCRYPTION_KEY in
    os.environ (child processes such as workers inherit them). Call before django.setup()."""
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("FIELD_ENCRYPTION_KEY", base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
    os.environ.setdefault("SECURE_SSL_REDIRECT", "false")


def fresh_database(name: str) -> str:
    """Drop and create database `name` on the server of $DATABASE_URL and point $DATABASE_URL at
    it; returns the new URL. Call before django.setup() (migrate after it)."""
    admin_url = os.environ.get("DATABASE_URL", "")
    if not admin_url.startswith("postgres"):
        raise SystemExit("set DATABASE_URL=postgres://user@host:5432/db (a server where databases can be created)")
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = admin_url.rsplit("/", 1)[0] + f"/{name}"
    return os.environ["DATABASE_URL"]


def django_on_fresh_database(name: str, **environment: str) -> None:
    """What every benchmark starts with: database `name` made afresh, production settings,
    `environment` (settings read from os.environ, inherited by workers and servers), Django set
    up and the database migrated."""
    fresh_database(name)
    production_environment()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ.update(environment)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def consented_phone(i: int) -> str:
    return f"+90533{i:07d}"


def whatsapp_number(i: int) -> str:
    """A Turkish mobile ending in 1: no test fake's magic recipient (those end in 0026, 0429, …)."""
    return f"+9054{i:07d}1"


def insert_consented_contacts(n: int, *, external_ids: bool = False, channel: str = "sms") -> None:
    """N contacts with attribute name (external id `c<i>` if asked), then VACUUM ANALYZE, as
    autovacuum would after a bulk load. Needs django.setup() and PostgreSQL.
    channel "sms": phone consented_phone(i), subscribed to SMS, each with an İYS-confirmed MESAJ
    ONAY consent. channel "whatsapp": no phone; WhatsApp number whatsapp_number(i), opted in, each
    with the ledger's WHATSAPP ONAY consent linked to its contact (the fields it implies set)."""
    from django.db import connection
    from django.utils import timezone

    from consent.models import Consent
    from contacts.bulk import insert_rows
    from contacts.models import Contact

    whatsapp = channel == "whatsapp"
    now = timezone.now()
    for start in range(0, n, 50_000):
        batch = range(start, min(n, start + 50_000))
        ids = insert_rows(
            Contact,
            [
                {
                    "phone": None if whatsapp else consented_phone(i),
                    "phone_status": "active",
                    "sms_subscription": "none" if whatsapp else "subscribed",
                    "whatsapp_consent": "opt_in" if whatsapp else "unknown",
                    "whatsapp_consent_source": "bench (HS_WEB)" if whatsapp else "",
                    "attributes": {"name": f"Ad{i}"},
                    "created_at": now,
                    "updated_at": now,
                    "external_id": f"c{i}" if external_ids else None,
                    "email": None,
                    "whatsapp_number": whatsapp_number(i) if whatsapp else None,
                    "whatsapp_consent_at": now if whatsapp else None,
                }
                for i in batch
            ],
        )
        insert_rows(
            Consent,
            [
                {
                    "recipient": whatsapp_number(i) if whatsapp else consented_phone(i),
                    "type": "WHATSAPP" if whatsapp else "MESAJ",
                    "recipient_type": "BIREYSEL",
                    "status": "ONAY",
                    "consent_date": now,
                    "source": "HS_WEB",
                    "contact_id": pk if whatsapp else None,
                    "iys_confirmed_at": None if whatsapp else now,  # WHATSAPP consents stay in the panel
                    "updated_at": now,
                }
                for i, pk in zip(batch, ids, strict=True)
            ],
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def cpu_seconds(pid: int) -> float:
    """CPU seconds of a process and its live children (a prefork worker's pool processes)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat.parent.name) == pid or int(fields[1]) == pid:  # fields[1]: the parent's pid
            total += sum(int(x) for x in fields[11:13]) / TICKS  # utime, stime
    return total


def machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of all cores since boot, from /proc/stat."""
    values = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = values[3] + values[4]  # idle, iowait
    return sum(values) - idle, sum(values)


def start_workers(app, *, queue: str, count: int, concurrency: int, name: str = "bench") -> list[subprocess.Popen]:
    """`count` real Celery workers (prefork, `concurrency` processes each) on `queue`, started with
    this process's environment (production settings), waited for until each answers a ping.
    Stop them with stop_workers (in a finally)."""
    env = dict(os.environ, TESTING="0")
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue, "--pool", "prefork"]
    command += ["--concurrency", str(concurrency), "--without-gossip", "--without-mingle", "-l", "WARNING"]
    workers = []
    try:
        for i in range(count):
            workers.append(
                subprocess.Popen(
                    [*command, "-n", f"{name}{i}@%h"],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        deadline = time.monotonic() + 60
        names = {f"{name}{i}@" for i in range(count)}
        while True:
            answered = {next(iter(r)).split("@")[0] + "@" for r in app.control.ping(timeout=0.5) or []}
            if names <= answered:
                return workers
            if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
                raise SystemExit(f"{queue} workers did not start")
    except BaseException:
        stop_workers(workers)
        raise


def stop_workers(workers: list[subprocess.Popen]) -> None:
    """Warm shutdown (SIGTERM), then SIGKILL for a worker still running after 30 s."""
    for worker in workers:
        if worker.poll() is None:
            worker.terminate()
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def start_server(spec: str, port: int, env: dict, log: Path) -> subprocess.Popen:
    """gunicorn serving the panel (config.wsgi) in its own session, output to `log`. spec: sync:4
    (4 sync workers) or gthread:2x8 (2 workers of 8 threads)."""
    worker_class, _sep, size = spec.partition(":")
    workers, _x, threads = size.partition("x")
    command = [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", workers, "--worker-class", worker_class, "--threads", threads or "1"]
    command += ["--timeout", "60", "--backlog", "256", "--log-level", "warning"]
    with log.open("ab") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out, start_new_session=True)


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGQUIT)  # gunicorn's quick shutdown, master and workers (own session)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def wait_ready(port: int, path: str, server: subprocess.Popen, log: Path, *, headers: dict | None = None) -> None:
    """Until GET `path` answers 200 (60 s at most)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}; see {log}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path, headers=headers or {})
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer in 60 s; see {log}")


def processes() -> dict[int, tuple[str, int, list[int]]]:
    """pid → (command, parent pid, [utime, stime, cutime, cstime] in ticks) of every process."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text.rsplit(")", 1)[1].split()
        found[int(stat.parent.name)] = (text[text.index("(") + 1 : text.rindex(")")], int(fields[1]), fields[11:15])
    return found


def cpu_tree(pid: int, table: dict) -> float:
    """CPU seconds of a process, its reaped children (cutime, cstime: a worker or backend that
    exited still counts) and its live children."""
    total = sum(int(x) for x in table[pid][2]) if pid in table else 0
    total += sum(int(x) for _name, ppid, f in table.values() if ppid == pid for x in f[:2])
    return total / TICKS


def server_pids(gunicorn: int) -> dict[str, int]:
    """The processes whose CPU is reported: gunicorn's master, PostgreSQL's postmaster, Redis."""
    table = processes()
    pids = {"gunicorn": gunicorn}
    for pid, (name, ppid, _f) in table.items():
        if name == "postgres" and table.get(ppid, ("",))[0] != "postgres":
            pids["postgres"] = pid
        elif name == "redis-server":
            pids["redis"] = pid
    return pids
