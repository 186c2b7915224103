"""Typed environment readers that fail loudly (CONVENTIONS: settings fail loudly).

Every secret can also be read from ``<NAME>_FILE`` (Docker/Kubernetes secrets).
Local secrets that are missing are generated once into untracked files so that
``make run`` works on a bare machine; production refuses to start without them.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured


def read_secret(env, name: str, *, default: str | None = None) -> str | None:
    """Return NAME, or the content of the file named by NAME_FILE, or default."""
    file_var = f"{name}_FILE"
    path = os.environ.get(file_var)
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{file_var} points to {path!r}, which cannot be read: {exc}") from exc
    return env.str(name, default=default)


def local_secret(path: Path, make) -> str:
    """Read a generated secret from ``path``, creating it (mode 600) the first time."""
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    value = make()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(value + "\n")
    return value


def new_secret_key() -> str:
    return secrets.token_urlsafe(50)


def new_fernet_key() -> str:
    return Fernet.generate_key().decode("ascii")


def validate_fernet_keys(value: str) -> list[str]:
    """FIELD_ENCRYPTION_KEY holds one or more comma-separated Fernet keys (newest first)."""
    keys = [k.strip() for k in value.split(",") if k.strip()]
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY is empty.")
    for index, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode("ascii"))
        except (ValueError, TypeError) as exc:
            raise ImproperlyConfigured(
                f"FIELD_ENCRYPTION_KEY key #{index} is not a valid Fernet key "
                "(32 url-safe base64-encoded bytes; make one with "
                "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`)."
            ) from exc
    return keys
