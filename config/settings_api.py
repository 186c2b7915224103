"""Settings of the public API (api/) and the outgoing webhooks (webhooks/), read by settings.py."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured


def api_settings(env, *, debug: bool) -> dict:
    """The names settings.py takes over; every limit from the environment, checked."""
    limit = env.int("API_RATE_LIMIT", default=600)  # requests per key per window
    window = env.int("API_RATE_LIMIT_WINDOW_SECONDS", default=60)
    if limit < 1 or window < 1:
        raise ImproperlyConfigured("API_RATE_LIMIT and API_RATE_LIMIT_WINDOW_SECONDS must be at least 1.")
    return {
        "REST_FRAMEWORK": {
            "DEFAULT_AUTHENTICATION_CLASSES": ["api.auth.BearerKeyAuthentication"],
            "DEFAULT_PERMISSION_CLASSES": ["api.auth.HasScope"],
            "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
            "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
            "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
            "EXCEPTION_HANDLER": "api.errors.problem_handler",
            "UNAUTHENTICATED_USER": None,
            "DEFAULT_VERSIONING_CLASS": None,
            "TEST_REQUEST_DEFAULT_FORMAT": "json",
        },
        "SPECTACULAR_SETTINGS": {
            "TITLE": "Messaging panel API",
            "DESCRIPTION": (
                "The brand's systems call this API: contacts, consents (through the consent ledger), "
                "messages (under the sending rule), campaign statistics, events and outgoing webhooks. "
                "Authenticate with `Authorization: Bearer <key>`; each endpoint names the scope it needs."
            ),
            "VERSION": "1",
            "SERVE_INCLUDE_SCHEMA": False,
            "SWAGGER_UI_DIST": "SIDECAR",
            "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
            "REDOC_DIST": "SIDECAR",
            "COMPONENT_SPLIT_REQUEST": True,
            "SCHEMA_PATH_PREFIX": r"/api/v1",
            "ENUM_NAME_OVERRIDES": {
                "ConsentTypeEnum": "consent.models.ConsentType",
                "ConsentStatusEnum": "consent.models.ConsentStatus",
                "RecipientTypeEnum": "consent.models.RecipientType",
                "ChannelEnum": "providers.base.Channel",
                "KindEnum": "consent.models.MessageKind",
            },
            "POSTPROCESSING_HOOKS": [
                "drf_spectacular.hooks.postprocess_schema_enums",
                "api.docs.add_limits_and_idempotency",  # RateLimit-* headers, Idempotency-Key on POST
            ],
        },
        "API_RATE_LIMIT": limit,
        "API_RATE_LIMIT_WINDOW_SECONDS": window,
        # An Idempotency-Key's first answer is kept this long (product.md: 24 hours)
        "API_IDEMPOTENCY_SECONDS": env.int("API_IDEMPOTENCY_SECONDS", default=24 * 3600),
        "API_BATCH_MAX": 1000,
        # Outgoing webhooks: Standard Webhooks' suggested schedule (after the first attempt: 5 s,
        # 5 min, 30 min, 2 h, 5 h, 10 h, 10 h), then the delivery is failed
        "WEBHOOKS_RETRY_SECONDS": [5, 300, 1800, 7200, 18000, 36000, 36000],
        "WEBHOOKS_TIMEOUT_SECONDS": env.int("WEBHOOKS_TIMEOUT_SECONDS", default=10),
        # an endpoint on a private, loopback or link-local address (the panel's own network) is
        # refused unless allowed; plain http only where allowed (the embedded default: DEBUG)
        "WEBHOOKS_ALLOW_PRIVATE_ADDRESSES": env.bool("WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", default=debug),
        "WEBHOOKS_ALLOW_HTTP": env.bool("WEBHOOKS_ALLOW_HTTP", default=debug),
    }
