"""A private redis-server for fault tests (never the shared one): started on a free port with no
persistence, so killing it and starting it again loses everything it held, as a Redis restarted
without a disk would: the task queues, the unacked tasks, the rate limiter's keys, the cache."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from tests.services import require


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    def __init__(self, log_dir: Path):
        require("redis-server", shutil.which("redis-server") is not None, "install the redis-server package")
        self.port = _free_port()
        self.log_path = log_dir / f"redis-{self.port}.log"
        self.process: subprocess.Popen | None = None
        self.restarts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 10
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server on port {self.port} did not start; see {self.log_path}")
            time.sleep(0.02)
        return self

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL: no shutdown, no save; whatever it held is gone."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def restart(self, *, down_for: float = 0.5) -> None:
        self.kill()
        time.sleep(down_for)
        self.start()
        self.restarts += 1


def use_redis(url: str, *, settings, monkeypatch) -> None:
    """Point this process (settings, cache, the rate limiter, the Celery app) and the workers it
    starts (their environment) at `url`."""
    from config.celery import app
    from providers import ratelimit

    settings.REDIS_URL = url
    settings.CELERY_BROKER_URL = settings.CELERY_RESULT_BACKEND = url  # app.conf reads these as they are now
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}}
    monkeypatch.setenv("REDIS_URL", url)  # RealWorker copies the environment
    monkeypatch.setattr(ratelimit, "_client", None)
    drop_connections(app)


def drop_connections(app) -> None:
    """The app keeps its broker pool, producer pool and result backend once made; the next use
    makes them again from the configuration."""
    app._pool = None
    app.amqp._producer_pool = None
    app._backend_cache = None
    app._local.__dict__.pop("backend", None)
