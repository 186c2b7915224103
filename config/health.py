"""GET /healthz and the dashboard's system figures: is every configured part answering?"""

from __future__ import annotations

import os
import time

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.dashboard import Figure


def _timed(check):
    started = time.monotonic()
    try:
        result = check()
    except Exception as exc:  # reported to the caller, who decides the status code
        result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    result["ms"] = round((time.monotonic() - started) * 1000, 1)
    return result


def check_database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True, "vendor": connection.vendor}


def _redis():
    import redis

    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)


def _embedded_broker_folder() -> str:
    return settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]


def check_broker() -> dict:
    if settings.REDIS_URL:
        _redis().ping()
        return {"ok": True, "mode": "redis"}
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"ok": True, "mode": "in-process (eager)"}
    # the embedded default: message files in a folder (config/broker.py)
    folder = _embedded_broker_folder()
    if not os.access(folder, os.R_OK | os.W_OK | os.X_OK):
        return {"ok": False, "mode": "files", "error": f"the broker folder {folder} is missing or not writable"}
    return {"ok": True, "mode": "files", "folder": folder}


def check_workers(timeout: float = 1.0) -> dict:
    if settings.CELERY_TASK_ALWAYS_EAGER and not settings.REDIS_URL:
        return {"ok": True, "mode": "in-process (eager)", "count": 0}
    from config.celery import app

    replies = app.control.ping(timeout=timeout) or []
    names = sorted(name for reply in replies for name in reply)
    if not names:
        hint = "" if settings.REDIS_URL else " (start the panel with `python manage.py serve`, as `make run` does)"
        return {"ok": False, "count": 0, "error": "no Celery worker answered" + hint}
    return {"ok": True, "count": len(names), "workers": names}


def queue_lengths() -> dict[str, int]:
    if settings.REDIS_URL:
        client = _redis()
        return {name: int(client.llen(name)) for name in settings.CELERY_QUEUES}
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {}
    from config.broker import queue_lengths as waiting_files

    return waiting_files(_embedded_broker_folder(), settings.CELERY_QUEUES)


@never_cache
@require_GET
def healthz(request):
    checks = {"database": _timed(check_database), "broker": _timed(check_broker)}
    # Without a reachable broker the worker ping can only hang; report it as unreachable.
    checks["workers"] = _timed(check_workers) if checks["broker"]["ok"] else {"ok": False, "error": "broker down"}
    healthy = all(c["ok"] for c in checks.values())
    return JsonResponse({"status": "ok" if healthy else "fail", "checks": checks}, status=200 if healthy else 503)


def system_figures(*, request) -> list[Figure]:
    if settings.CELERY_TASK_ALWAYS_EAGER and not settings.REDIS_URL:
        return [
            Figure(
                key="workers",
                label=_("Background tasks"),
                value=_("in-process"),
                detail=_("tasks run inside the web process"),
            )
        ]
    workers = _timed(check_workers)
    figures = [
        Figure(
            key="workers",
            label=_("Workers answering"),
            value=workers.get("count", 0),
            detail=workers.get("error", ""),
            state="ok" if workers["ok"] else "bad",
        )
    ]
    try:
        lengths = queue_lengths()
    except Exception as exc:
        return figures + [Figure(key="queues", label=_("Queued tasks"), value="?", detail=str(exc), state="bad")]
    figures.append(
        Figure(
            key="queues",
            label=_("Queued tasks"),
            value=sum(lengths.values()),
            detail=", ".join(f"{k}: {v}" for k, v in lengths.items()),
        )
    )
    return figures
