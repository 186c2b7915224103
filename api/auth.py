"""Bearer keys and scopes: 401 without a usable key, 403 without the endpoint's scope."""

from __future__ import annotations

import time

from django.db import connection
from django.utils import timezone
from rest_framework import authentication, exceptions, permissions

from api.models import ApiKey
from api.ratelimit import ApiKeyRateThrottle, rate_limit_refund, rate_limit_spend
from messaging.policy import POLICY
from providers import snapshots

# a key's last use is written at most this often (one UPDATE per minute, not per request)
LAST_USED_EVERY_SECONDS = 60
# read with the rate limit's count in one round trip: is the process's copy of the key current,
# and the accounts' and the sending policy's tokens lent to the request (providers.snapshots)
TOKENS = (snapshots.API_KEYS, snapshots.ACCOUNTS, POLICY.name)

# this process's copies of keys it has seen: prefix → (token, loaded at, key); a key's save,
# delete or revocation sets a new token (api.keys), so a revoked key is refused at once
_known: dict[str, tuple[str, float, ApiKey]] = {}


def forget_keys() -> None:
    """Drop the process's copies (tests: another process)."""
    _known.clear()


class BearerKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <prefix>.<secret>`: the prefix finds the key, the hash checks it;
    a revoked or expired key is refused like a wrong one."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _sep, key = header.partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            raise exceptions.AuthenticationFailed("The Authorization header must be 'Bearer <API key>'.")
        prefix, dot, _secret = key.partition(".")
        api_key = self._known_key(request, prefix, key) if dot else None
        if api_key is None:
            token = snapshots.token(snapshots.API_KEYS)  # before the read: a later change is seen next time
            api_key = ApiKey.objects.filter(prefix=prefix, revoked=False).first() if dot else None
            self._check(api_key, key)
            if not connection.in_atomic_block:  # rows a transaction may still roll back are not kept
                _known[prefix] = (token, time.monotonic(), api_key)
        now = timezone.now()
        if api_key.last_used_at is None or (now - api_key.last_used_at).total_seconds() > LAST_USED_EVERY_SECONDS:
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
            api_key.last_used_at = now
        return (None, api_key)

    @staticmethod
    def _check(api_key: ApiKey | None, key: str) -> None:
        if api_key is None or not api_key.is_valid(key):
            raise exceptions.AuthenticationFailed("The API key is wrong or has been revoked.")
        if api_key.has_expired:
            raise exceptions.AuthenticationFailed("The API key has expired.")

    @staticmethod
    def _known_key(request, prefix: str, key: str) -> ApiKey | None:
        """The process's copy of the key if it is still current, checked and its request counted
        (the rate limit's round trip says whether it is current); None: read it from the database."""
        known = _known.get(prefix)
        if known is None or connection.in_atomic_block or time.monotonic() - known[1] >= snapshots.MAX_AGE:
            return None
        token, _at, api_key = known
        BearerKeyAuthentication._check(api_key, key)  # the hash never changes: a wrong secret is wrong
        budget = rate_limit_spend(api_key_id=api_key.pk, now=ApiKeyRateThrottle.timer(), read=TOKENS)
        if budget.read.get(snapshots.API_KEYS) != token:  # changed (or revoked) since: read it again
            rate_limit_refund(budget)
            _known.pop(prefix, None)
            return None
        request.rate_budget = budget  # the throttle counts nothing more
        request.snapshot_lent = snapshots.lend(budget.read)  # ApiView.dispatch gives it back
        return api_key

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


class HasScope(permissions.BasePermission):
    """The view's `scope` must be among the key's scopes."""

    def has_permission(self, request, view) -> bool:
        api_key = request.auth
        if not isinstance(api_key, ApiKey):
            raise exceptions.NotAuthenticated("An API key is needed: send 'Authorization: Bearer <API key>'.")
        scope = getattr(view, "scope", None)
        if scope and not api_key.has_scope(scope):
            self.message = f"This API key does not have the '{scope}' scope."
            return False
        return True
