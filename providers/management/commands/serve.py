"""`python manage.py serve [ADDR:PORT] [--noreload] [--concurrency N] [--without-worker]`: the panel
in one command (`make run`): Django's development server and, next to it, one Celery worker with
embedded beat on every queue, so uploads, sends and İYS work run in the background exactly as in
production. The worker stops when the server stops (Ctrl-C) and restarts with it when the code
changes. Production runs web, worker and beat as separate processes instead (Procfile)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV

from config.celery import STOP_GRACE_SECONDS, STOP_WITH_PID


class Command(BaseCommand):
    help = "Run the development server with a Celery worker and beat next to it (the embedded default)."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument("--noreload", action="store_false", dest="use_reloader", help="do not reload on changes")
        parser.add_argument("--concurrency", type=int, default=2, help="tasks the worker runs at once (threads)")
        parser.add_argument("--without-worker", action="store_true", help="serve only (workers run elsewhere)")

    def handle(self, *args, addrport, use_reloader, concurrency, without_worker, **options):
        watcher = use_reloader and os.environ.get(DJANGO_AUTORELOAD_ENV) != "true"
        if without_worker or watcher or settings.CELERY_TASK_ALWAYS_EAGER:
            # the reloader's watching process only restarts the serving one, which starts the worker
            call_command("runserver", addrport, use_reloader=use_reloader)
            return
        # SIGTERM (from a service manager or a test) stops the worker too, as Ctrl-C does
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        worker = self._start_worker(concurrency)
        try:
            call_command("runserver", addrport, use_reloader=use_reloader)
        finally:
            self._stop_worker(worker)

    def _start_worker(self, concurrency: int) -> subprocess.Popen:
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--beat",
            "-Q",
            ",".join(settings.CELERY_QUEUES),
            "--pool",
            "threads",  # SQLite serves several threads of one process well; no fork needed
            "--concurrency",
            str(concurrency),
            "-n",
            f"embedded-{os.getpid()}@%h",
            "--without-gossip",
            "--without-mingle",
            "-l",
            "INFO",
        ]
        # its own process group: Ctrl-C reaches the server only, which then stops the worker
        # (and the beat process it started) in order
        if os.name == "nt":
            group = {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
        else:
            group = {"start_new_session": True}
        env = {**os.environ, STOP_WITH_PID: str(os.getpid())}
        worker = subprocess.Popen(command, cwd=settings.BASE_DIR, env=env, **group)
        self.stdout.write(
            f"Celery worker with beat started (pid {worker.pid}), queues {', '.join(settings.CELERY_QUEUES)}"
        )
        return worker

    def _stop_worker(self, worker: subprocess.Popen) -> None:
        if worker.poll() is not None:
            self.stderr.write(f"The Celery worker had already stopped (exit code {worker.returncode}).")
            return
        self.stdout.write("Stopping the Celery worker…")
        _signal_group(worker, "stop")
        if not _wait_group(worker, STOP_GRACE_SECONDS):
            self.stdout.write(
                f"The worker was still busy after {STOP_GRACE_SECONDS} s and was stopped; beat carries its work on "
                "after the next start (a file transfer from its checkpoint once FILE_TRANSFER_STALE_SECONDS pass)."
            )
            _signal_group(worker, "kill")
            _wait_group(worker, 30)


def _wait_group(process: subprocess.Popen, timeout: float) -> bool:
    """Wait for the worker and, on POSIX, the beat process it started (same group) to end."""
    deadline = time.monotonic() + timeout
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return False
    while os.name != "nt" and time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return os.name == "nt"


def _signal_group(process: subprocess.Popen, how: str) -> None:
    try:
        if os.name == "nt":
            process.send_signal(signal.CTRL_BREAK_EVENT) if how == "stop" else process.kill()
        else:
            os.killpg(process.pid, signal.SIGTERM if how == "stop" else signal.SIGKILL)
    except ProcessLookupError:
        pass  # it stopped meanwhile
