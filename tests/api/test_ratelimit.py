"""The per-key limit (product.md: The public API, limits): RateLimit-* headers on every answer
to a key, 429 with Retry-After past API_RATE_LIMIT requests in a window, one count per key
shared by every web process."""

import pytest
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.redis import RedisCache
from django.core.management import call_command
from rest_framework.test import APIClient

from api.ratelimit import ApiKeyRateThrottle, rate_limit_spend
from contacts.models import Contact
from tests.services import require_redis

pytestmark = pytest.mark.django_db

WINDOW_START = 1_800_000_000.0  # a multiple of 60: the window's first second


@pytest.fixture
def clock(monkeypatch, settings):
    """A limit of 3 per 60 seconds, on a clock the test moves."""
    settings.API_RATE_LIMIT = 3
    settings.API_RATE_LIMIT_WINDOW_SECONDS = 60
    now = {"t": WINDOW_START + 15}
    monkeypatch.setattr(ApiKeyRateThrottle, "timer", staticmethod(lambda: now["t"]))
    return now


def test_every_answer_carries_the_headers_counting_down(api, clock):
    answers = [api.get("/api/v1/contacts/nobody/") for _ in range(3)]
    assert [a.status_code for a in answers] == [404, 404, 404]
    assert [a["RateLimit-Remaining"] for a in answers] == ["2", "1", "0"]
    assert {a["RateLimit-Limit"] for a in answers} == {"3"}
    assert {a["RateLimit-Reset"] for a in answers} == {"45"}  # 15 s into a 60 s window
    assert {a["RateLimit-Policy"] for a in answers} == {"3;w=60"}


def test_the_request_past_the_limit_is_a_429_problem_with_retry_after(api, clock):
    for _ in range(3):
        api.get("/api/v1/contacts/nobody/")
    clock["t"] += 20.5
    refused = api.post("/api/v1/contacts/", {"external_id": "u-1"}, format="json")
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/problem+json"
    assert refused["Retry-After"] == "25"  # rounded up, never 0
    assert (refused["RateLimit-Remaining"], refused["RateLimit-Reset"]) == ("0", "25")
    body = refused.json()
    assert (body["status"], body["title"]) == (429, "Too many requests")
    assert body["detail"] == "This API key has used its 3 requests for this 60-second window; try again in 25 seconds."
    assert not Contact.objects.exists()  # nothing ran


def test_a_new_window_starts_a_new_count(api, clock):
    for _ in range(4):
        api.get("/api/v1/contacts/nobody/")
    assert api.get("/api/v1/contacts/nobody/").status_code == 429
    clock["t"] = WINDOW_START + 60
    fresh = api.get("/api/v1/contacts/nobody/")
    assert fresh.status_code == 404
    assert (fresh["RateLimit-Remaining"], fresh["RateLimit-Reset"]) == ("2", "60")


def test_two_keys_have_their_own_budgets(make_client, clock):
    one, other = make_client(name="one"), make_client(name="other")
    for _ in range(3):
        one.get("/api/v1/contacts/nobody/")
    assert one.get("/api/v1/contacts/nobody/").status_code == 429
    answer = other.get("/api/v1/contacts/nobody/")
    assert (answer.status_code, answer["RateLimit-Remaining"]) == (404, "2")


def test_a_request_without_a_usable_key_is_a_401_and_spends_no_budget(api, clock):
    prefix = api.api_key.prefix
    for header in (None, f"Bearer {prefix}.wrong-secret"):
        stranger = APIClient()
        if header:
            stranger.credentials(HTTP_AUTHORIZATION=header)
        for _ in range(5):
            answer = stranger.get("/api/v1/contacts/nobody/")
            assert answer.status_code == 401
            assert not answer.has_header("RateLimit-Remaining")  # no key, no budget to tell
    assert api.get("/api/v1/contacts/nobody/")["RateLimit-Remaining"] == "2"


def test_a_key_without_the_scope_spends_its_budget_too(make_client, clock):
    stats_only = make_client("stats")
    answers = [stats_only.get("/api/v1/contacts/nobody/") for _ in range(4)]
    assert [a.status_code for a in answers] == [403, 403, 403, 429]
    assert answers[0]["RateLimit-Remaining"] == "2"


def test_the_embedded_default_database_cache_counts_every_request(api):
    call_command("createcachetable", "test_rate_cache", verbosity=0)
    first, second = DatabaseCache("test_rate_cache", {}), DatabaseCache("test_rate_cache", {})  # two processes
    used = [rate_limit_spend(api_key_id=api.api_key.pk, now=WINDOW_START, cache=c).used for c in (first, second, first)]
    assert used == [1, 2, 3]


def test_with_redis_two_cache_clients_share_one_count(api, settings):
    require_redis()
    first, second = RedisCache(settings.REDIS_URL, {}), RedisCache(settings.REDIS_URL, {})  # two web processes
    budgets = [
        rate_limit_spend(api_key_id=api.api_key.pk, now=WINDOW_START, cache=c) for c in (first, second, second, first)
    ]
    assert [b.used for b in budgets] == [1, 2, 3, 4]
    assert budgets[-1].remaining == settings.API_RATE_LIMIT - 4
