"""OpenAPI pieces shared by the views: the problem-details shape and its responses."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

Problem = inline_serializer(
    name="Problem",
    fields={
        "type": serializers.CharField(help_text="A reference to this kind of problem."),
        "title": serializers.CharField(help_text="The kind of problem, in a few words."),
        "status": serializers.IntegerField(help_text="The HTTP status."),
        "detail": serializers.CharField(help_text="What went wrong, in the caller's terms."),
        "errors": serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()),
            required=False,
            help_text="Each field's errors (dotted paths for nested fields).",
        ),
    },
)

PROBLEMS = {
    400: "The body is not valid: see `errors` for each field.",
    401: "No API key, or a wrong, revoked or expired one.",
    403: "The API key does not have this endpoint's scope.",
    404: "Not found.",
    409: "A request with the same Idempotency-Key is still running.",
    413: "The body is too large.",
    422: "A rule refuses the request (the reason is in `detail`), or the Idempotency-Key was used with another body.",
    429: "Too many requests for this key: wait `Retry-After` seconds.",
}


def problems(*codes: int) -> dict[tuple[int, str], OpenApiResponse]:
    """Problem-details responses, served as application/problem+json (RFC 9457)."""
    return {(code, "application/problem+json"): OpenApiResponse(Problem, description=PROBLEMS[code]) for code in codes}


class BearerKeyScheme(OpenApiAuthenticationExtension):
    target_class = "api.auth.BearerKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key made in the panel (API keys) or with `manage.py api_key_create`.",
        }


# Response headers of every API answer but a 401 (no key, no budget): draft-ietf-httpapi-ratelimit-headers-06
RESPONSE_HEADERS = {
    "RateLimit-Limit": ("integer", "How many requests this API key may make in one window."),
    "RateLimit-Remaining": ("integer", "How many requests are left in the current window."),
    "RateLimit-Reset": ("integer", "Seconds until the current window ends and the count starts again."),
    "RateLimit-Policy": ("string", "The limit and its window in seconds, as `600;w=60`."),
    "Retry-After": ("integer", "Seconds to wait before the next request (with a 429)."),
    "Idempotency-Replay": ("string", "`true` when the answer is the stored first answer to this Idempotency-Key."),
}
RATE_LIMIT_HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "RateLimit-Policy")
# answered before an Idempotency-Key is looked at: never a replay
NOT_REPLAYED = {"401", "403", "429"}

IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"},
    "description": (
        "Makes a retry safe: the same key with the same request, within {hours} hours, gets the first answer again "
        "(with `Idempotency-Replay: true`) and nothing is done twice. The same key with another body, method "
        "or path is refused (422); while the first request is still running, 409. Keys are per API key; "
        "1 to 255 printable ASCII characters."
    ),
}


def add_limits_and_idempotency(result, generator, request, public):
    """drf-spectacular postprocessing hook: every path in the schema is an ApiView (under
    SCHEMA_PATH_PREFIX), so each gets the rate-limit headers and each POST the Idempotency-Key."""
    components = result.setdefault("components", {})
    headers = components.setdefault("headers", {})
    for name, (kind, description) in RESPONSE_HEADERS.items():
        headers[name] = {"schema": {"type": kind}, "description": description}
    hours = settings.API_IDEMPOTENCY_SECONDS // 3600
    components.setdefault("parameters", {})["IdempotencyKey"] = {
        **IDEMPOTENCY_KEY,
        "description": IDEMPOTENCY_KEY["description"].format(hours=hours),
    }
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in ("get", "put", "patch", "post", "delete", "head", "options", "trace"):
                continue
            if method == "post":
                operation.setdefault("parameters", []).append({"$ref": "#/components/parameters/IdempotencyKey"})
            for code, response in operation.get("responses", {}).items():
                if code == "401":
                    continue
                names = list(RATE_LIMIT_HEADERS)
                if code == "429":
                    names.append("Retry-After")
                if method == "post" and code not in NOT_REPLAYED:
                    names.append("Idempotency-Replay")
                response.setdefault("headers", {}).update(
                    {name: {"$ref": f"#/components/headers/{name}"} for name in names}
                )
    return result
