"""A view that only subclasses ApiView, to show what every API view gets without code of its own:
it records each run, answers 201 with a Location, or fails on demand."""

from django.urls import include, path
from rest_framework.response import Response

from api.base import ApiView

runs: list[dict] = []
failures: list[str] = []  # each run pops one: "raise" → an exception (500)


class ProbeView(ApiView):
    scope = "contacts"

    def post(self, request):
        runs.append(request.data)
        if failures:
            failures.pop(0)
            raise RuntimeError("the probe fails on purpose")
        return Response({"run": len(runs)}, status=201, headers={"Location": f"/api/v1/probe/{len(runs)}/"})


urlpatterns = [
    path("api/v1/probe/", ProbeView.as_view()),
    path("", include("config.urls")),
]
