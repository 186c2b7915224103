"""The Celery app. Settings live in config/settings.py under the CELERY_ namespace."""

import os
import signal
import threading
import time

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("panel")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# `manage.py serve` names itself here: its worker stops when it is gone, even when it was killed
# (Django's autoreloader kills the serving process 0.25 s after a Ctrl-C) rather than live on.
STOP_WITH_PID = "PANEL_WORKER_STOP_WITH_PID"
STOP_GRACE_SECONDS = 10  # for the task being run; an interrupted file transfer resumes later


@worker_ready.connect
def _stop_with_serve(**kwargs):
    parent = os.environ.get(STOP_WITH_PID)
    if parent:
        threading.Thread(target=_watch_parent, args=(int(parent),), daemon=True, name="stop-with-serve").start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1)
    if os.name == "nt":
        os.kill(os.getpid(), signal.SIGTERM)  # Windows has no warm stop from outside
        return
    group = os.getpgrp()  # serve starts the worker in its own group: the worker and its beat
    os.killpg(group, signal.SIGTERM)  # warm shutdown
    time.sleep(STOP_GRACE_SECONDS)
    os.killpg(group, signal.SIGKILL)
