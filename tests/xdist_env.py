"""Loaded before Django (pyproject's addopts: -p tests.xdist_env). Under pytest-xdist every
worker process runs its share of the suite on its own test database (pytest-django adds _gw0,
_gw1 to the name); this gives each its own Redis database too. Celery's broker, the cache and the
rate limiter live there, and the real workers a test starts copy the environment: a task queued
by one worker's tests is never taken by a Celery worker of the other's (it would read another
database)."""

from __future__ import annotations

import os

_worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # gw0, gw1, … (set before the worker's pytest starts)
_url = os.environ.get("REDIS_URL", "")
if _worker.startswith("gw") and _url:
    base, _sep, db = _url.rpartition("/")
    number = int(db) if db.isdigit() else 0
    os.environ["REDIS_URL"] = f"{base}/{(number + 1 + int(_worker[2:])) % 16}"
