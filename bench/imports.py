"""File Transfers benchmark: lines/s and peak RSS per upload kind, against a plain
django-import-export ModelResource baseline (issue: Contacts, lists and File Transfers).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/imports.py --lines 1000000

Each import runs in its own process on a freshly migrated database, so peak RSS is that import's.
Never run by `make test`."""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from production import production_environment  # noqa: E402


def generate(kind: str, lines: int, path: Path, bad_ratio: float = 0.03, seed: int = 7) -> None:
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as fh:
        if kind == "whatsapp":
            fh.write("exid,email,msisdn,wpNumber,permission\n")
        for i in range(lines):
            bad = rng.random() < bad_ratio
            phone = f"90533{i:07d}"
            if kind == "sms-iys":
                status = "onay" if bad else rng.choice(["ONAY", "RET"])
                fh.write(f"{phone}; {rng.choice(['SMS', 'web', 'mobileapp'])}; {status}; 15.05.2025 14:23:00; u{i}\n")
            elif kind == "email-iys":
                date = "2025-05-15 14:23:00" if bad else "15.05.2025 14:23:00"
                fh.write(f"user{i}@example.com; EMAIL; {rng.choice(['ONAY', 'RET'])}; {date}; u{i}\n")
            elif kind == "users":
                fh.write(f"{'+90 533' if bad else phone},u{i}\n")
            elif kind == "whatsapp":
                fh.write(f"u{i},,,{phone},{'3' if bad else rng.choice('12')}\n")


def child(kind: str, path: str, mode: str) -> None:
    """Runs in a subprocess: one import, prints a JSON line with its figures."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    if mode == "pipeline":
        from django.core.files import File

        from contacts.imports import file_transfer_create, file_transfer_run

        with open(path, "rb") as fh:
            transfer = file_transfer_create(
                name=f"bench {kind}", kind=kind, upload=File(fh, name=Path(path).name), enqueue=False
            )
        transfer = file_transfer_run(transfer_id=transfer.pk)
        counts = {k: getattr(transfer, f"{k}_count") for k in ("read", "created", "updated", "unchanged", "rejected")}
    else:
        counts = baseline(path)
    elapsed = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # the parser child (big files on PostgreSQL) counts too: the sum of both peaks, an upper bound
    # (the child shares most of its pages with this process)
    child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"seconds": elapsed, "peak_rss_mb": peak_mb + child_mb, "child_rss_mb": child_mb, **counts}))


def baseline(path: str) -> dict:
    """The same SMS İYS rows through a plain django-import-export ModelResource (tablib dataset
    in memory, row-by-row save), the way a Django shop would do it without our pipeline."""
    import tablib
    from import_export import resources

    from consent.models import Consent

    class ConsentResource(resources.ModelResource):
        class Meta:
            model = Consent
            fields = ("recipient", "type", "status", "consent_date", "source")
            import_id_fields = ("recipient", "type")

    rows = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            parts = [p.strip() for p in line.split(";")]
            if len(parts) < 4:
                continue
            day, clock = parts[3].split(" ")
            d, m, y = day.split(".")
            rows.append(("+" + parts[0], "MESAJ", parts[2], f"{y}-{m}-{d} {clock}", "HS_WEB"))
    dataset = tablib.Dataset(*rows, headers=["recipient", "type", "status", "consent_date", "source"])
    result = ConsentResource().import_data(dataset, dry_run=False, raise_errors=False)
    return {
        "read": len(rows),
        "created": result.totals.get("new", 0),
        "updated": result.totals.get("update", 0),
        "unchanged": result.totals.get("skip", 0),
        "rejected": result.totals.get("invalid", 0) + result.totals.get("error", 0),
    }


def run_child(kind: str, path: Path, mode: str, database_url: str) -> dict:
    production_environment()
    env = dict(os.environ, DATABASE_URL=database_url, TESTING="0", LOG_LEVEL="WARNING")
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(path), mode],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"{kind} {mode} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def fresh_database(admin_url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + "/" + name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--kinds", default="sms-iys,email-iys,users,whatsapp")
    parser.add_argument(
        "--baseline-lines",
        type=int,
        default=20_000,
        help="lines for the django-import-export baseline (it is slow; the ratio uses lines/s)",
    )
    parser.add_argument(
        "--again",
        action="store_true",
        help="import each file a second time into the same database (every line known: the ledger's path)",
    )
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    admin_url = os.environ.get("DATABASE_URL", "")
    if not admin_url.startswith("postgres"):
        raise SystemExit("set DATABASE_URL=postgres://user@host:5432/db (a server where databases can be created)")
    print(f"File Transfers benchmark: {args.lines:,} lines per kind (3% bad), PostgreSQL, {os.cpu_count()} cores")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.kinds.split(","):
            path = Path(tmp) / f"{kind}.txt"
            generate(kind, args.lines, path)
            url = fresh_database(admin_url, "bench_imports")
            r = run_child(kind, path, "pipeline", url)
            rate = r["read"] / r["seconds"]
            results[kind] = rate
            print(
                f"  {kind:10s} {r['read']:>9,} lines in {r['seconds']:7.1f} s = {rate:>9,.0f} lines/s, "
                f"peak RSS {r['peak_rss_mb']:.0f} MB (of which the parser process {r['child_rss_mb']:.0f} MB; "
                f"created {r['created']:,}, rejected {r['rejected']:,})"
            )
            if args.again:
                r = run_child(kind, path, "pipeline", url)
                print(
                    f"  {'  again':10s} {r['read']:>9,} lines in {r['seconds']:7.1f} s = "
                    f"{r['read'] / r['seconds']:>9,.0f} lines/s, peak RSS {r['peak_rss_mb']:.0f} MB "
                    f"(the same file again: unchanged {r['unchanged']:,}, updated {r['updated']:,}, "
                    f"created {r['created']:,})"
                )
        if "sms-iys" in results and args.baseline_lines:
            path = Path(tmp) / "baseline.txt"
            generate("sms-iys", args.baseline_lines, path, bad_ratio=0)
            url = fresh_database(admin_url, "bench_imports")
            r = run_child("sms-iys", path, "baseline", url)
            base_rate = r["read"] / r["seconds"]
            print(
                f"  baseline   {r['read']:>9,} lines in {r['seconds']:7.1f} s = {base_rate:>9,.0f} lines/s, "
                f"peak RSS {r['peak_rss_mb']:.0f} MB (django-import-export ModelResource, SMS İYS rows)"
            )
            print(f"  ratio      {results['sms-iys'] / base_rate:.1f}x the baseline (target: at least 20x)")
        if "sms-iys" in results:
            print(
                f"  target     33,000 lines/s for SMS İYS (1,000,000 lines in 30 s): "
                f"{results['sms-iys'] / 33_000:.0%} of it"
            )


if __name__ == "__main__":
    main()
