"""The embedded default (no REDIS_URL, a SQLite file) works as production does (issue 12, items 15
and 16): `manage.py serve`, which `make run` starts, runs a Celery worker with beat next to the web
server over a broker that needs no server, so an upload returns at once and imports in the
background with live progress, and periodic work fires on its own; and the cache that holds İYS
tokens is shared by every process. Real processes on a temporary SQLite file: no services needed."""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.fakes.iys import FakeIys

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "embedded-admin-pass-123"
LINES = 20_000  # about 10 s of import on SQLite: far longer than an upload request may take


def embedded_env(folder: Path, **extra: str) -> dict[str, str]:
    """The environment of `make run`: no REDIS_URL, a SQLite file, TESTING off."""
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_ALLOW_ASYNC_UNSAFE", "DATABASE_URL", "CI")}
    env.update(
        DATABASE_URL=f"sqlite:///{folder / 'db.sqlite3'}",
        REDIS_URL="",  # set and empty: a .env file cannot bring Redis back
        TESTING="0",
        DEBUG="true",
        BROKER_DIR=str(folder / "broker"),
        MEDIA_ROOT=str(folder / "media"),
        ADMIN_PASSWORD=PASSWORD,
        **extra,
    )
    return env


def manage(folder: Path, *args: str, timeout: float = 120, **extra: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=embedded_env(folder, **extra),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def migrated(tmp_path_factory) -> Path:
    """A migrated SQLite database (what `make run` does first), copied by each test."""
    folder = tmp_path_factory.mktemp("embedded-template")
    manage(folder, "migrate", "--noinput", "-v0")
    return folder / "db.sqlite3"


@pytest.fixture
def embedded(migrated, tmp_path) -> Path:
    with sqlite3.connect(migrated) as source, sqlite3.connect(tmp_path / "db.sqlite3") as copy:
        source.backup(copy)
    return tmp_path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SETUP = """
import uuid
from datetime import timedelta

from django.core.files.base import ContentFile
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from contacts.imports import file_transfer_create
from contacts.models import FileTransfer, FileTransferStatus

call_command("ensure_admin")  # as make run does (ADMIN_PASSWORD)
lines = b"".join(b"9054400000%02d; SMS; ONAY; 15.05.2025 14:23:00; s%d\\n" % (i, i) for i in range(3))
stalled = file_transfer_create(name="stalled", kind="sms-iys", upload=ContentFile(lines, name="s.txt"), enqueue=False)
# its worker died an hour ago, and nothing queued it: only beat's reaper can start it again
FileTransfer.objects.filter(pk=stalled.pk).update(
    status=FileTransferStatus.PROCESSING, claim=uuid.uuid4(), heartbeat_at=timezone.now() - timedelta(hours=1)
)
# the reaper's schedule made short, as an admin may edit it (Periodic tasks), so the test need not wait a minute
every_2s, _ = IntervalSchedule.objects.get_or_create(every=2, period=IntervalSchedule.SECONDS)
assert PeriodicTask.objects.filter(task="contacts.tasks.resume_stalled_transfers").update(interval=every_2s) == 1
print(stalled.pk)
"""


class Serve:
    """`python manage.py serve` on a free port (without the autoreloader: others edit this tree)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.base = f"http://127.0.0.1:{free_port()}"
        self.log_path = folder / "serve.log"

    def __enter__(self):
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "serve", self.base.removeprefix("http://"), "--noreload"],
            cwd=ROOT,
            env=embedded_env(self.folder),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_until_healthy(self, timeout: float = 40) -> dict:
        deadline = time.monotonic() + timeout
        body = None
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"serve exited with {self.process.returncode}:\n{self.output()}"
            try:
                response = requests.get(f"{self.base}/healthz", timeout=5)
                body = response.json()
                if response.status_code == 200:
                    return body
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"no healthy /healthz within {timeout} s (last: {body}):\n{self.output()}")

    def worker_pid(self) -> int:
        found = re.search(r"worker with beat started \(pid (\d+)\)", self.output())
        assert found, self.output()
        return int(found.group(1))

    def __exit__(self, *exc):
        # as Ctrl-C or a service manager would: serve then stops its worker
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        self.log.close()
        worker = re.search(r"worker with beat started \(pid (\d+)\)", self.output())
        if worker:
            try:
                os.killpg(int(worker.group(1)), 0)
            except ProcessLookupError:
                return
            os.killpg(int(worker.group(1)), signal.SIGKILL)
            if exc[0] is None:  # else the test's own failure is the one to report
                raise AssertionError(f"the worker outlived serve:\n{self.output()}")


def login(base: str, password: str = PASSWORD) -> requests.Session:
    session = requests.Session()
    session.get(f"{base}/admin/login/", timeout=10)
    response = session.post(
        f"{base}/admin/login/?next=/admin/",
        data={
            "username": "admin",
            "password": password,
            "next": "/admin/",
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 302, response.text[:3000]
    return session


def sms_iys_file(lines: int) -> bytes:
    return "".join(f"90533{i:07d}; SMS; ONAY; 15.05.2025 14:23:00; u{i}\n" for i in range(lines)).encode()


def test_make_run_imports_in_the_background_with_live_progress_and_beat_fires(embedded):
    stalled_id = int(manage(embedded, "shell", "-c", SETUP).strip().splitlines()[-1])
    with Serve(embedded) as serve:
        health = serve.wait_until_healthy()
        assert health["checks"]["broker"]["mode"] == "files"
        assert health["checks"]["workers"]["count"] == 1, health  # the worker answers a ping over the broker
        session = login(serve.base)
        add_url = f"{serve.base}/admin/contacts/filetransfer/add/"
        session.get(add_url, timeout=10)
        started = time.monotonic()
        response = session.post(
            add_url,
            data={
                "name": "background import",
                "kind": "sms-iys",
                "encoding": "auto",
                "csrfmiddlewaretoken": session.cookies["csrftoken"],
            },
            files={"file": ("numbers.txt", sms_iys_file(LINES), "text/plain")},
            allow_redirects=False,
            timeout=60,
        )
        upload_seconds = time.monotonic() - started
        assert response.status_code == 302, response.text[:3000]
        assert upload_seconds < 3, f"the upload took {upload_seconds:.1f} s: the import ran inside the request"

        changelist = session.get(f"{serve.base}/admin/contacts/filetransfer/?q=background", timeout=10).text
        (transfer_id,) = {int(pk) for pk in re.findall(r'data-transfer="(\d+)"', changelist)}
        progress_url = f"{serve.base}/admin/contacts/filetransfer/progress.json"
        seen, second_login = [], None
        deadline = time.monotonic() + 50
        while time.monotonic() < deadline:
            snapshots = session.get(progress_url, params={"ids": f"{transfer_id},{stalled_id}"}, timeout=30).json()
            transfers = {t["id"]: t for t in snapshots["transfers"]}
            big = transfers[transfer_id]
            seen.append((big["status"], big["progress"]))
            if big["status"] == "processing" and 0 < big["progress"] < 100 and second_login is None:
                # a write from the web while the worker writes its batches: no "database is locked" (only
                # once a mid-way progress is recorded: the login waits for the worker's batch to commit)
                second_login = login(serve.base)
                assert second_login.get(f"{serve.base}/admin/", timeout=30).status_code == 200
            if not snapshots["active"]:
                break
            time.sleep(0.3)
        assert seen[0][0] != "done", seen  # the request did not wait for the import
        assert any(status == "processing" and 0 < progress < 100 for status, progress in seen), seen
        assert second_login is not None, seen
        assert big["status"] == "done", (seen, serve.output()[-5000:])
        assert (big["read"], big["created"], big["rejected"]) == (LINES, LINES, 0)
        # the stalled transfer was resumed by beat's reaper, which nobody called
        stalled = transfers[stalled_id]
        assert (stalled["status"], stalled["read"], stalled["created"]) == ("done", 3, 3), serve.output()[-5000:]
    assert "database is locked" not in serve.output()


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_the_worker_stops_when_serve_is_killed(embedded):
    """Even a `kill -9` of serve (Django's reloader does that to it on Ctrl-C) leaves no worker."""
    with Serve(embedded) as serve:
        serve.wait_until_healthy()
        worker = serve.worker_pid()
        os.killpg(serve.process.pid, signal.SIGKILL)
        serve.process.wait(timeout=10)
        deadline = time.monotonic() + 20
        while group_alive(worker) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not group_alive(worker), "the worker (or its beat) outlived a killed serve"


@pytest.mark.django_db
def test_healthz_on_the_embedded_default_says_no_worker_answers(client, settings, tmp_path):
    """runserver without serve: work would sit queued, so /healthz is 503 and says what to run."""
    settings.REDIS_URL = ""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(tmp_path)}
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 503, body
    broker = body["checks"]["broker"]
    assert (broker["ok"], broker["mode"], broker["folder"]) == (True, "files", str(tmp_path))
    assert "manage.py serve" in body["checks"]["workers"]["error"]


TOKEN_SCRIPT = """
import os, time
from pathlib import Path

from consent.iys.client import IysClient

Path(os.environ["READY_FILE"]).touch()
while not Path(os.environ["GO_FILE"]).exists():
    time.sleep(0.01)
client = IysClient(
    base_url=os.environ["FAKE_IYS_URL"], username="api-user", password="api-pass", iys_code=700100, brand_code=700100
)
print(len(client.brands()))
"""


def test_processes_share_one_iys_token(embedded):
    """Two processes at once (a worker and an `iys_sync` run, say), then a third later: one token."""
    fake = FakeIys(iys_code=700100, brands=(700100,)).start()
    try:
        go = embedded / "go"
        processes = [
            subprocess.Popen(
                [sys.executable, "manage.py", "shell", "-c", TOKEN_SCRIPT],
                cwd=ROOT,
                env=embedded_env(
                    embedded, FAKE_IYS_URL=fake.url, READY_FILE=str(embedded / f"ready-{n}"), GO_FILE=str(go)
                ),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for n in range(2)
        ]
        deadline = time.monotonic() + 30
        while not all((embedded / f"ready-{n}").exists() for n in range(2)) and time.monotonic() < deadline:
            time.sleep(0.05)
        go.touch()  # both ask for a token at the same moment
        for process in processes:
            out, err = process.communicate(timeout=60)
            assert process.returncode == 0, out + err
            assert out.splitlines()[-1] == "1"  # the brand list arrived
        assert fake.token_requests == 1
        later = manage(
            embedded, "shell", "-c", TOKEN_SCRIPT, FAKE_IYS_URL=fake.url, READY_FILE=str(go), GO_FILE=str(go)
        )
        assert later.splitlines()[-1] == "1"
        assert fake.token_requests == 1  # the next run reuses it too
    finally:
        fake.stop()
