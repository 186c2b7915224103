"""The shared cache's own Redis client, for the few hot paths that need one Redis command per
request: Django's RedisCache makes a new redis-py client (with its table of response callbacks)
on every call."""

from __future__ import annotations

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.redis import RedisCache


def redis_client(backend: RedisCache):
    """A redis-py client on `backend`'s own (writing) connection pool, made once per cache object."""
    client = getattr(backend, "_panel_redis_client", None)
    if client is None:
        client = backend._panel_redis_client = backend._cache.get_client(write=True)
    return client


def add_flag(name: str, *, timeout: int) -> bool:
    """cache.add(name, 1, timeout) as one SET NX EX where the cache is Redis: whether it was set."""
    backend = caches[DEFAULT_CACHE_ALIAS]  # the cache itself: django.core.cache.cache is a proxy
    if isinstance(backend, RedisCache):
        return bool(redis_client(backend).set(backend.make_and_validate_key(name), 1, nx=True, ex=timeout))
    return backend.add(name, 1, timeout=timeout)
