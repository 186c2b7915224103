"""Bearer keys and scopes: 401 without a usable key, 403 without the endpoint's scope."""

from __future__ import annotations

from django.utils import timezone
from rest_framework import authentication, exceptions, permissions

from api.models import ApiKey

# a key's last use is written at most this often (one UPDATE per minute, not per request)
LAST_USED_EVERY_SECONDS = 60


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
        api_key = ApiKey.objects.filter(prefix=prefix, revoked=False).first() if dot else None
        if api_key is None or not api_key.is_valid(key):
            raise exceptions.AuthenticationFailed("The API key is wrong or has been revoked.")
        if api_key.has_expired:
            raise exceptions.AuthenticationFailed("The API key has expired.")
        now = timezone.now()
        if api_key.last_used_at is None or (now - api_key.last_used_at).total_seconds() > LAST_USED_EVERY_SECONDS:
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        return (None, api_key)

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
