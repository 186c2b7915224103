"""GET /healthz: 200 when the configured parts answer, 503 otherwise."""

import pytest

pytestmark = pytest.mark.django_db


def test_healthz_reports_every_part(client, settings):
    response = client.get("/healthz")
    body = response.json()
    assert set(body["checks"]) == {"database", "broker", "workers"}
    assert body["checks"]["database"]["ok"] is True
    if not settings.REDIS_URL:
        assert response.status_code == 200 and body["status"] == "ok"
        assert "in-process" in body["checks"]["broker"]["mode"]


def test_healthz_is_503_when_the_broker_is_unreachable(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["broker"]["ok"] is False and "Error" in body["checks"]["broker"]["error"]
    assert body["checks"]["workers"]["ok"] is False


def test_healthz_needs_no_login_and_only_get(client):
    assert client.post("/healthz").status_code == 405
