"""Benchmarks run as production does: DEBUG off (no per-query SQL kept in memory), with
throw-away secrets when none are configured. Also the set-up the benchmarks share: a fresh
PostgreSQL database and contacts a newsletter may go to."""

from __future__ import annotations

import base64
import os
import secrets


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


def consented_phone(i: int) -> str:
    return f"+90533{i:07d}"


def insert_consented_contacts(n: int, *, external_ids: bool = False) -> None:
    """N contacts (phone consented_phone(i), attribute name, external id `c<i>` if asked),
    subscribed to SMS, each with an İYS-confirmed MESAJ ONAY consent; then VACUUM ANALYZE, as
    autovacuum would after a bulk load. Needs django.setup() and PostgreSQL."""
    from django.db import connection
    from django.utils import timezone

    from consent.models import Consent
    from contacts.bulk import insert_rows
    from contacts.models import Contact

    now = timezone.now()
    for start in range(0, n, 50_000):
        batch = range(start, min(n, start + 50_000))
        insert_rows(
            Contact,
            [
                {
                    "phone": consented_phone(i),
                    "phone_status": "active",
                    "sms_subscription": "subscribed",
                    "whatsapp_consent": "unknown",
                    "whatsapp_consent_source": "",
                    "attributes": {"name": f"Ad{i}"},
                    "created_at": now,
                    "updated_at": now,
                    "external_id": f"c{i}" if external_ids else None,
                    "email": None,
                    "whatsapp_number": None,
                    "whatsapp_consent_at": None,
                }
                for i in batch
            ],
        )
        insert_rows(
            Consent,
            [
                {
                    "recipient": consented_phone(i),
                    "type": "MESAJ",
                    "recipient_type": "BIREYSEL",
                    "status": "ONAY",
                    "consent_date": now,
                    "source": "HS_WEB",
                    "contact_id": None,
                    "iys_confirmed_at": now,
                    "updated_at": now,
                }
                for i in batch
            ],
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
