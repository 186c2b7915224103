"""The per-key rate limit (product.md: The public API, limits): API_RATE_LIMIT requests per
API_RATE_LIMIT_WINDOW_SECONDS for each API key, counted in Django's cache so every web process
shares one count (Redis in production, a table on the embedded default).

A fixed window: the window is `floor(now / length)`, its counter one cache key made with
`cache.add` and raised with `cache.incr` (Redis INCR: atomic). Every answer to a key carries the
RateLimit-Limit / -Remaining / -Reset / -Policy fields of draft-ietf-httpapi-ratelimit-headers-06;
past the limit, 429 with Retry-After."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.redis import RedisCache
from django.db import router, transaction
from rest_framework import exceptions
from rest_framework.throttling import BaseThrottle

from api.models import ApiKey
from config.cache import redis_client


@dataclass(frozen=True)
class Budget:
    """What one request left of its key's window."""

    limit: int
    window: int
    used: int
    reset: int  # seconds until the window ends (1..window)
    name: str = field(default="", compare=False)  # the window's counter in the cache
    read: dict = field(default_factory=dict, compare=False)  # cache keys read in the same round trip

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)

    @property
    def exceeded(self) -> bool:
        return self.used > self.limit

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
            "RateLimit-Policy": f"{self.limit};w={self.window}",
        }


class RateLimited(exceptions.Throttled):
    """429 with the wait as Retry-After (api.errors turns `wait` into the header)."""

    def __init__(self, budget: Budget):
        super().__init__(
            detail=(
                f"This API key has used its {budget.limit} requests for this {budget.window}-second window; "
                f"try again in {budget.reset} second{'s' if budget.reset != 1 else ''}."
            )
        )
        self.wait = budget.reset


def rate_limit_spend(*, api_key_id: int, now: float, cache=None, read: tuple[str, ...] = ()) -> Budget:
    """Counts one request against the key's current window and says what is left; the cache
    keys `read` are read in the same round trip (Budget.read)."""
    # the cache itself, not django.core.cache.cache: that proxy is no RedisCache to isinstance
    cache = caches[DEFAULT_CACHE_ALIAS] if cache is None else cache
    limit = settings.API_RATE_LIMIT
    window = settings.API_RATE_LIMIT_WINDOW_SECONDS
    index = math.floor(now / window)
    name = f"api-rate:{api_key_id}:{window}:{index}"
    # kept a little past the window's end, so a late incr never finds it gone
    if isinstance(cache, RedisCache):
        used, values = _redis_incr(cache, name, timeout=window + 5, read=read)
    else:
        values = cache.get_many(read) if read else {}
        cache.add(name, 0, timeout=window + 5)
        used = _incr(cache, name, timeout=window + 5)
    reset = max(1, math.ceil((index + 1) * window - now))
    return Budget(limit=limit, window=window, used=used, reset=reset, name=name, read=values)


def rate_limit_refund(budget: Budget, *, cache=None) -> None:
    """Takes back a request counted for a key that turned out unusable (a 401 spends nothing)."""
    cache = caches[DEFAULT_CACHE_ALIAS] if cache is None else cache
    try:
        cache.decr(budget.name)
    except ValueError:  # the window's count is gone: nothing to take back
        pass


def _redis_incr(cache: RedisCache, name: str, *, timeout: int, read: tuple[str, ...]) -> tuple[int, dict]:
    """add + incr (and the GETs of `read`) in one round trip on the cache's own connection pool:
    SET NX EX, then INCR (Django stores an int as a plain Redis integer, so cache.get reads the
    same count)."""
    key = cache.make_and_validate_key(name)
    pipe = redis_client(cache).pipeline(transaction=False)
    keys = [cache.make_and_validate_key(k) for k in read]
    for other in keys:
        pipe.get(other)
    pipe.set(key, 0, ex=timeout, nx=True)
    pipe.incr(key)
    answers = pipe.execute()
    values = {}
    for name_read, raw in zip(read, answers[: len(keys)], strict=True):
        if raw is not None:
            values[name_read] = cache._cache._serializer.loads(raw)
    return int(answers[-1]), values


def _incr(cache, name: str, *, timeout: int) -> int:
    if isinstance(cache, DatabaseCache):
        # Django's database cache increments by get then set: in one transaction that is one
        # writer at a time on SQLite (transaction_mode IMMEDIATE), so no count is lost
        with transaction.atomic(using=router.db_for_write(cache.cache_model_class)):
            return _incr_or_add(cache, name, timeout=timeout)
    return _incr_or_add(cache, name, timeout=timeout)


def _incr_or_add(cache, name: str, *, timeout: int) -> int:
    try:
        return cache.incr(name)
    except ValueError:  # evicted between add and incr: this request starts the count again
        if cache.add(name, 1, timeout=timeout):
            return 1
        return cache.incr(name)


class ApiKeyRateThrottle(BaseThrottle):
    """DRF's throttle for ApiView: a request without a usable key is not counted (it is
    answered 401 before anything runs)."""

    timer = staticmethod(time.time)

    def allow_request(self, request, view) -> bool:
        api_key = request.auth
        if not isinstance(api_key, ApiKey):
            return True
        self.budget = getattr(request, "rate_budget", None)  # counted once per request
        if self.budget is None:
            self.budget = request.rate_budget = rate_limit_spend(api_key_id=api_key.pk, now=self.timer())
        return not self.budget.exceeded

    def wait(self) -> int:
        return self.budget.reset
