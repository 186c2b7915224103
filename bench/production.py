"""Benchmarks run as production does: DEBUG off (no per-query SQL kept in memory), with
throw-away secrets when none are configured."""

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
