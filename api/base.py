"""What every API view shares: the scope it needs, problem-details errors, the per-key rate
limit and Idempotency-Key on POST (wired in settings.REST_FRAMEWORK and here)."""

from __future__ import annotations

from rest_framework.views import APIView

from api.models import ApiKey


class ApiView(APIView):
    scope: str = ""

    @property
    def api_key(self) -> ApiKey:
        return self.request.auth

    def origin_ref(self) -> str:
        return self.request.auth.label
