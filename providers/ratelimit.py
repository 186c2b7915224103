"""Per-account send rate limits that hold across any number of workers (issue 5: dispatch).

GCRA (the generic cell rate algorithm) kept in Redis: each reservation of n messages moves the
account's "theoretical arrival time" n/rate seconds forward and tells the caller how long to wait
before sending; Redis' own clock is used so workers on several machines agree. Without Redis (the
embedded default, one process) the same algorithm runs in memory."""

from __future__ import annotations

import threading
import time

from django.conf import settings

_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local after = tat + tonumber(ARGV[1]) * tonumber(ARGV[2])
redis.call('SET', KEYS[1], string.format('%d', after), 'PX', math.ceil((after - now) / 1000) + 60000)
return tat - now
"""

_local_lock = threading.Lock()
_local_tat: dict[str, float] = {}
_client = None
_script = None


def _redis():
    global _client, _script
    if _client is None:
        import redis

        _client = redis.Redis.from_url(settings.REDIS_URL)
        _script = _client.register_script(_LUA)
    return _script


def reserve(key: str, *, count: int, rate: float) -> float:
    """Reserve `count` sends at `rate` per second under `key`; return the seconds to wait before
    sending them. rate <= 0 means unlimited."""
    if rate <= 0 or count <= 0:
        return 0.0
    interval_us = 1_000_000 / rate
    if settings.REDIS_URL:
        waited_us = _redis()(keys=[f"ratelimit:{key}"], args=[count, f"{interval_us:.3f}"])
        return max(0, int(waited_us)) / 1_000_000
    with _local_lock:
        now = time.monotonic()
        tat = max(_local_tat.get(key, 0.0), now)
        _local_tat[key] = tat + count * interval_us / 1_000_000
        return tat - now


def wait_for(key: str, *, count: int, rate: float) -> None:
    delay = reserve(key, count=count, rate=rate)
    if delay > 0:
        time.sleep(delay)
