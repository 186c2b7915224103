"""What every API view shares: the scope it needs, problem-details errors (settings.REST_FRAMEWORK),
the per-key rate limit (api.ratelimit) and Idempotency-Key on POST (api.idempotency), wired
here so a view only writes its handlers."""

from __future__ import annotations

from django.db import transaction
from django.utils import translation
from rest_framework import exceptions
from rest_framework.views import APIView

from api.idempotency import Idempotency, Replayed
from api.models import ApiKey
from api.ratelimit import ApiKeyRateThrottle, RateLimited
from providers import snapshots


class ApiView(APIView):
    scope: str = ""
    throttle_classes = [ApiKeyRateThrottle]

    @classmethod
    def as_view(cls, **initkwargs):
        # An Idempotency-Key claim must be committed before the view runs, so the view is never
        # wrapped in one request-long transaction (should ATOMIC_REQUESTS be turned on)
        return transaction.non_atomic_requests(super().as_view(**initkwargs))

    @property
    def api_key(self) -> ApiKey:
        return self.request.auth

    def origin_ref(self) -> str:
        return self.request.auth.label

    def refuse_unknown_params(self, *known: str) -> None:
        """A query parameter the endpoint does not know is a 400 (a typo would otherwise filter nothing)."""
        if unknown := sorted(set(self.request.query_params) - set(known)):
            raise exceptions.ValidationError(
                {name: [f"unknown query parameter; this endpoint takes {', '.join(known)}"] for name in unknown}
            )

    def dispatch(self, request, *args, **kwargs):
        self.idempotency: Idempotency | None = None
        try:
            with translation.override("en"):  # one language for machines, as the schema's
                return super().dispatch(request, *args, **kwargs)
        finally:
            if self.idempotency is not None:  # no answer was stored: the client may retry
                self.idempotency.release()
            lent = getattr(getattr(self, "request", None), "snapshot_lent", None)
            if lent is not None:  # the snapshot tokens read with the rate limit (api.auth)
                snapshots.unlend(lent)

    def check_permissions(self, request):
        try:
            super().check_permissions(request)
        except exceptions.PermissionDenied:
            # a key without the scope still spends its budget (and hears about it)
            self.check_throttles(request)
            raise

    def throttled(self, request, wait):
        raise RateLimited(request.rate_budget)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication, scope, rate limit
        self.idempotency = Idempotency.begin(request)

    def handle_exception(self, exc):
        if isinstance(exc, Replayed):
            return exc.response
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        budget = getattr(request, "rate_budget", None)
        if budget is not None:
            for name, value in budget.headers().items():
                response[name] = value
        if self.idempotency is not None:
            self.idempotency.finish(response)
        return response
