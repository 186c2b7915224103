"""Settings fail loudly; production settings pass `check --deploy`."""

import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args, env_extra, drop=()):
    drop = (*drop, "DJANGO_ALLOW_ASYNC_UNSAFE", "DATABASE_URL", "REDIS_URL", "DEBUG")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "x" * 20 + "-a-long-random-production-secret-key-0123456789",
    "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    "ALLOWED_HOSTS": "panel.example.com",
    "SECURE_HSTS_PRELOAD": "true",  # opt-in for the preload list; without it W021 is the only warning
    "TESTING": "0",
    # a deployment: its database is named (no connection is made by `check`)
    "DATABASE_URL": "postgres://panel@db.example.com:5432/panel",
}


def test_check_deploy_passes_with_production_settings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env_extra=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr


def test_secret_key_is_required_when_debug_is_off():
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    result = run_manage("check", env_extra=env, drop=("SECRET_KEY", "SECRET_KEY_FILE"))
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


def test_secrets_can_come_from_files(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text(PRODUCTION["SECRET_KEY"] + "\n")
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    env["SECRET_KEY_FILE"] = str(secret)
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env_extra=env, drop=("SECRET_KEY",))
    assert result.returncode == 0, result.stderr


def test_a_bad_encryption_key_is_refused():
    result = run_manage("check", env_extra={**PRODUCTION, "FIELD_ENCRYPTION_KEY": "not-a-key"})
    assert result.returncode != 0 and "FIELD_ENCRYPTION_KEY" in result.stderr
