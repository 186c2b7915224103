"""İYS sync benchmark: N pending consent changes pushed to the fake İYS, then N citizen changes
pulled, on PostgreSQL. Prints changes/s each way and the HTTP requests used.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/iys_sync.py --changes 100000

The fake İYS runs in this process (a thread), so its own CPU counts against the figures."""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from production import production_environment  # noqa: E402

IST = ZoneInfo("Europe/Istanbul")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--changes", type=int, default=100_000)
    args = parser.parse_args()
    admin_url = os.environ.get("DATABASE_URL", "")
    if not admin_url.startswith("postgres"):
        raise SystemExit("set DATABASE_URL=postgres://user@host:5432/db (a server where databases can be created)")
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute('DROP DATABASE IF EXISTS "bench_iys"')
        conn.execute('CREATE DATABASE "bench_iys"')
    os.environ["DATABASE_URL"] = admin_url.rsplit("/", 1)[0] + "/bench_iys"
    production_environment()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from consent.iys.sync import iys_pull, iys_push
    from consent.models import IysSubmission
    from consent.services import ConsentInput, consent_apply
    from providers.services import account_install
    from tests.fakes.iys import FakeIys

    n = args.changes
    fake = FakeIys(iys_code=700100, brands=(700100,)).start()
    fake.polls_before_done = 0
    account = account_install(
        name="İYS",
        connector="iys",
        values={
            "brand_code": "700100",
            "iys_code": "700100",
            "username": "api-user",
            "password": "api-pass",
            "environment": "custom",
            "base_url": fake.url,
            "mode": "sync",
            "backfill_hour": "2",
        },
    )
    day = datetime(2025, 5, 20, 9, 0, tzinfo=IST)
    for start in range(0, n, 5000):
        consent_apply(
            changes=[
                ConsentInput(recipient=f"+90533{i:07d}", type="MESAJ", status="ONAY", consent_date=day, source="HS_WEB")
                for i in range(start, min(n, start + 5000))
            ],
            origin="upload",
        )
    print(f"İYS sync benchmark: {n:,} changes each way, PostgreSQL, fake İYS in-process, {os.cpu_count()} cores")
    before = len(fake.received)
    started = time.perf_counter()
    while IysSubmission.objects.exclude(state__in=["confirmed", "rejected", "skipped"]).exists():
        iys_push(account=account)
    push_seconds = time.perf_counter() - started
    push_requests = len(fake.received) - before
    confirmed = IysSubmission.objects.filter(state="confirmed").count()
    print(
        f"  push  {confirmed:>9,} confirmed in {push_seconds:6.1f} s = {confirmed / push_seconds:>8,.0f} changes/s, "
        f"{push_requests} HTTP requests (N/1000 = {n // 1000} batches + polls)"
    )

    fake.lag_hours = 0
    now = datetime.now(IST) - timedelta(minutes=5)
    for i in range(n):
        fake._record(700100, f"+90533{i:07d}", "BIREYSEL", "MESAJ", "RET", "IYS_MOBIL", now, now, origin="IYS")
    before = len(fake.received)
    started = time.perf_counter()
    pulled = iys_pull(account=account)
    pull_seconds = time.perf_counter() - started
    pull_requests = len(fake.received) - before
    total = pulled["IYS"] + pulled["HS"]
    print(
        f"  pull  {total:>9,} applied   in {pull_seconds:6.1f} s = {total / pull_seconds:>8,.0f} changes/s "
        f"({pulled['IYS']:,} citizen RETs + {pulled['HS']:,} brand-side movements confirming the push), "
        f"{pull_requests} HTTP requests (pages of 999)"
    )
    print("  target ≥ 2,000 changes/s each way")
    fake.stop()


if __name__ == "__main__":
    main()
