import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.utils import translation

from providers.roles import ADMIN, MARKETER
from tests.services import require_postgres, require_redis

ROOT = Path(__file__).resolve().parent.parent


def pytest_addoption(parser):
    parser.addoption("--screenshot-to", default=None, help="browser tests save a dashboard screenshot here")


@pytest.fixture
def marketer(django_user_model):
    user = django_user_model.objects.create_user("marketer", password="marketer-pass-123", is_staff=True)
    user.groups.add(Group.objects.get(name=MARKETER))
    return user


@pytest.fixture
def panel_admin(django_user_model):
    """An admin by role (staff in the Admin group), not a superuser."""
    user = django_user_model.objects.create_user("panel-admin", password="admin-pass-123", is_staff=True)
    user.groups.add(Group.objects.get(name=ADMIN))
    return user


class RealWorker:
    """A real `celery worker` process on the test database and the configured Redis."""

    def __init__(self, queues: str, env: dict | None = None):
        self.queues = queues
        self.extra_env = env or {}
        self.process = None

    def start(self):
        db = connection.settings_dict
        env = dict(os.environ)
        env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        env["TESTING"] = "0"
        from django.conf import settings

        env["MEDIA_ROOT"] = str(settings.MEDIA_ROOT)  # uploads saved by the test are read by the worker
        # the worker runs as a deployment does (DEBUG off, DATABASE_URL set): it is given the
        # secrets, and the test's leave to post webhooks to this machine's fake endpoints
        env["SECRET_KEY"] = settings.SECRET_KEY
        env["FIELD_ENCRYPTION_KEY"] = ",".join(settings.FIELD_ENCRYPTION_KEYS)
        env["WEBHOOKS_ALLOW_HTTP"] = str(settings.WEBHOOKS_ALLOW_HTTP).lower()
        env["WEBHOOKS_ALLOW_PRIVATE_ADDRESSES"] = str(settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES).lower()
        env.update(self.extra_env)
        self.log = open(ROOT / "test-artifacts" / f"worker-{self.queues.replace(',', '-')}.log", "ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-Q",
                self.queues,
                "--pool",
                "solo",
                "-n",
                f"test-{os.getpid()}-{self.queues.replace(',', '-')}@%h",
                "--without-gossip",
                "--without-mingle",
                "-l",
                "INFO",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        from config.celery import app

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"celery worker exited with {self.process.returncode}; see {self.log.name}")
            if any(self.name_prefix() in name for reply in (app.control.ping(timeout=0.5) or []) for name in reply):
                return self
        raise RuntimeError(f"celery worker did not answer within 60 s; see {self.log.name}")

    def name_prefix(self):
        return f"test-{os.getpid()}-{self.queues.replace(',', '-')}@"

    def kill(self, sig=signal.SIGKILL):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            self.process.wait(timeout=30)

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


@pytest.fixture
def real_celery(transactional_db):
    """Tasks go through Redis to real worker processes (not eager) for this test."""
    require_postgres()
    require_redis()
    from config.celery import app

    (ROOT / "test-artifacts").mkdir(exist_ok=True)
    app.control.purge()
    # Celery's "inside a task" flag is process-global: eager tasks run at once in two threads (a test
    # and its live server) can leave it set, which would refuse result.get() in this test.
    from celery._state import _set_task_join_will_block

    _set_task_join_will_block(False)
    was_eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    workers = []

    def start(queues="default", env=None):
        worker = RealWorker(queues, env).start()
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()
    app.conf.task_always_eager = was_eager


@pytest.fixture
def private_redis(settings, monkeypatch):
    """A redis-server of this test's own, which it may kill and restart (tests/redis_server.py):
    list it before real_celery, so the workers use it too."""
    from config.celery import app
    from tests.redis_server import RedisServer, drop_connections, use_redis

    (ROOT / "test-artifacts").mkdir(exist_ok=True)
    server = RedisServer(ROOT / "test-artifacts").start()
    use_redis(server.url, settings=settings, monkeypatch=monkeypatch)
    yield server
    server.kill()
    drop_connections(app)  # made again, from the restored settings, on next use


@pytest.fixture(autouse=True)
def _no_language_left_over():
    """A test that activates a language and does not deactivate it would hand it to the next
    test of its process (under pytest-xdist the order, and so the neighbour, changes)."""
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Uploads and reports of each test go to its own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
