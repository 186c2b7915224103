"""What every API view shares: the scope it needs, problem-details errors (settings.REST_FRAMEWORK),
and the per-key rate limit (api.ratelimit), wired here so a view only writes its handlers."""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.views import APIView

from api.models import ApiKey
from api.ratelimit import ApiKeyRateThrottle, RateLimited


class ApiView(APIView):
    scope: str = ""
    throttle_classes = [ApiKeyRateThrottle]

    @property
    def api_key(self) -> ApiKey:
        return self.request.auth

    def origin_ref(self) -> str:
        return self.request.auth.label

    def check_permissions(self, request):
        try:
            super().check_permissions(request)
        except exceptions.PermissionDenied:
            # a key without the scope still spends its budget (and hears about it)
            self.check_throttles(request)
            raise

    def throttled(self, request, wait):
        raise RateLimited(request.rate_budget)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        budget = getattr(request, "rate_budget", None)
        if budget is not None:
            for name, value in budget.headers().items():
                response[name] = value
        return response
