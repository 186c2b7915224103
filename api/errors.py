"""One error shape for every 4xx/5xx of the API: problem details (RFC 9457) with each field's
errors (product.md: The public API, errors)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/problem+json"

TITLES = {
    400: "The request is not valid",
    401: "Not authenticated",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Request too large",
    308: "Permanent redirect",
    415: "Unsupported media type",
    422: "Unprocessable request",
    429: "Too many requests",
    500: "Server error",
}


class Unprocessable(exceptions.APIException):
    """The request is well-formed but a rule refuses it (İYS's rules, a reused Idempotency-Key)."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "The request cannot be applied."
    default_code = "unprocessable"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with another one still running."
    default_code = "conflict"


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The body is too large."
    default_code = "too_large"


def problem(status_code: int, detail: str, *, code: str = "", errors: dict | None = None) -> dict:
    body = {
        "type": f"/api/docs/#problem-{code or status_code}",
        "title": TITLES.get(status_code, "Error"),
        "status": status_code,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    return body


def _flatten(detail) -> dict[str, list[str]]:
    """DRF's nested error detail → {"field": ["message", ...]} with dotted paths for nesting."""
    out: dict[str, list[str]] = {}

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), item)
        elif isinstance(value, list) and value and all(isinstance(v, (str, exceptions.ErrorDetail)) for v in value):
            out.setdefault(prefix or "non_field_errors", []).extend(str(v) for v in value)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(f"{prefix}.{index}" if prefix else str(index), item)
        else:
            out.setdefault(prefix or "non_field_errors", []).append(str(value))

    walk("", detail)
    return out


def _summary(errors: dict[str, list[str]]) -> str:
    first_field, messages = next(iter(errors.items()))
    more = len(errors) - 1
    where = "" if first_field == "non_field_errors" else f"{first_field}: "
    return f"{where}{messages[0]}" + (f" (and {more} more field{'s' if more > 1 else ''})" if more else "")


def problem_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: every error as problem details; an unexpected one is logged with
    the request's path and answered 500 without internals."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        size = f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit} bytes"
        exc = RequestTooLarge(f"The body is larger than the {size} the API accepts.")
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    headers = {}
    if isinstance(exc, exceptions.APIException):
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
        code = exc.status_code
        if isinstance(exc, exceptions.ValidationError):
            errors = _flatten(exc.detail)
            body = problem(
                code, _summary(errors) if errors else "The request is not valid.", code="invalid", errors=errors
            )
        else:
            detail = exc.detail if isinstance(exc.detail, str) else _summary(_flatten(exc.detail))
            body = problem(code, str(detail), code=getattr(exc, "default_code", ""))
        set_rollback()
        return Response(body, status=code, headers=headers, content_type=CONTENT_TYPE)
    request = context.get("request")
    log.exception("API error on %s %s", getattr(request, "method", "?"), getattr(request, "path", "?"))
    set_rollback()
    return Response(
        problem(500, "Something went wrong on our side; the error is logged.", code="server"),
        status=500,
        content_type=CONTENT_TYPE,
    )


def not_found_or_html(request, exception=None):
    """handler404: under /api/, the problem shape; elsewhere Django's page."""
    if request.path.startswith("/api/"):
        body = problem(404, f"There is no API endpoint at {request.path}.", code="not_found")
        return JsonResponse(body, status=404, content_type=CONTENT_TYPE)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def server_error_or_html(request):
    if request.path.startswith("/api/"):
        body = problem(500, "Something went wrong on our side; the error is logged.", code="server")
        return JsonResponse(body, status=500, content_type=CONTENT_TYPE)
    from django.views.defaults import server_error

    return server_error(request)
