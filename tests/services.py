"""Tests that need a service fail in CI when it is missing and skip (visibly) elsewhere."""

import os

import pytest
from django.conf import settings
from django.db import connection


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(name: str, available: bool, how: str) -> None:
    if available:
        return
    if in_ci():
        pytest.fail(f"{name} is required in CI but is not available: {how}")
    pytest.skip(f"{name} not available here ({how}); CI runs this test")


def require_postgres() -> None:
    require("PostgreSQL", connection.vendor == "postgresql", "set DATABASE_URL=postgres://...")


def require_redis() -> None:
    require("Redis", bool(settings.REDIS_URL), "set REDIS_URL=redis://127.0.0.1:6379/0")
