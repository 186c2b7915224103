"""Security settings (config/settings.py takes them): headers, HTTPS for a deployment, login
throttling (django-axes) and the Content-Security-Policy (django-csp)."""

from __future__ import annotations

from datetime import timedelta

from csp.constants import NONCE, NONE, SELF, UNSAFE_HASHES
from django.core.exceptions import ImproperlyConfigured

from config.csp import source_hash


def security_settings(env, *, production: bool, https: bool) -> dict:
    """`production`: DEBUG off outside tests; `https`: a deployment (DATABASE_URL set) rather than
    the embedded default, which is one machine on plain http."""
    found = {
        "SESSION_COOKIE_HTTPONLY": True,
        "CSRF_COOKIE_HTTPONLY": False,
        "X_FRAME_OPTIONS": "DENY",
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "SECURE_REFERRER_POLICY": "same-origin",
    }
    if production:
        found.update(
            {
                "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
                "SECURE_SSL_REDIRECT": env.bool("SECURE_SSL_REDIRECT", default=https),
                "SECURE_REDIRECT_EXEMPT": [r"^healthz$"],
                "SESSION_COOKIE_SECURE": env.bool("SESSION_COOKIE_SECURE", default=https),
                "CSRF_COOKIE_SECURE": env.bool("CSRF_COOKIE_SECURE", default=https),
                "SECURE_HSTS_SECONDS": env.int("SECURE_HSTS_SECONDS", default=31536000 if https else 0),
                "SECURE_HSTS_INCLUDE_SUBDOMAINS": env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=https),
                "SECURE_HSTS_PRELOAD": env.bool("SECURE_HSTS_PRELOAD", default=False),
            }
        )
    # Login throttling: AXES_FAILURE_LIMIT failed logins for one username from one address lock
    # that pair out for AXES_COOLOFF_MINUTES; the login page says so (config/lockout.py).
    limit = env.int("AXES_FAILURE_LIMIT", default=5)
    cooloff = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
    if limit < 1 or cooloff < timedelta(minutes=1):
        raise ImproperlyConfigured("AXES_FAILURE_LIMIT and AXES_COOLOFF_MINUTES must be at least 1.")
    found.update(
        {
            "AXES_FAILURE_LIMIT": limit,
            "AXES_COOLOFF_TIME": cooloff,
            "AXES_LOCKOUT_PARAMETERS": [["username", "ip_address"]],
            "AXES_RESET_ON_SUCCESS": True,
            "AXES_LOCKOUT_CALLABLE": "config.lockout.lockout_response",
        }
    )
    # Nothing but this site's own files; the few inline scripts and styles carry the request's
    # nonce. The hashes allow, with 'unsafe-hashes', exactly the inline handler and style
    # attributes of django-import-export's export page (a third-party template).
    found["CONTENT_SECURITY_POLICY"] = {
        "DIRECTIVES": {
            "default-src": [SELF],
            "script-src": [SELF, NONCE, UNSAFE_HASHES, source_hash("onSelectToggleChange(event)")],
            "style-src": [SELF, NONCE, UNSAFE_HASHES, source_hash("padding: 0;"), source_hash("font-weight: bold;")],
            "object-src": [NONE],
            "base-uri": [SELF],
            "form-action": [SELF],
            "frame-ancestors": [NONE],
        },
    }
    return found
