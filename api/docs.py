"""OpenAPI pieces shared by the views: the problem-details shape and its responses."""

from __future__ import annotations

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


def problems(*codes: int) -> dict[int, OpenApiResponse]:
    return {code: OpenApiResponse(Problem, description=PROBLEMS[code]) for code in codes}


class BearerKeyScheme(OpenApiAuthenticationExtension):
    target_class = "api.auth.BearerKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key made in the panel (API keys) or with `manage.py api_key_create`.",
        }
