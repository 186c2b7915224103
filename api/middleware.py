"""Middleware of the panel's pages, not run for the API's own requests (/api/v1/): the language,
the logged-in user, messages and the Content-Security-Policy belong to pages a person opens; the
API authenticates each request by its key and answers JSON in English (api.base). The API's
documentation pages (/api/docs/, /api/schema/) are pages: they keep all of them.

Each is a subclass of the middleware it stands for (the admin's checks look for those). Sessions,
CSRF and axes stay as they are: `check --deploy` and axes look for them by name (a renamed one
would silently drop the session and CSRF cookie checks), and they cost little here (the session
is never read, the API's views are csrf_exempt)."""

from __future__ import annotations

import json

from csp.middleware import CSPMiddleware
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.http.response import HttpResponseRedirectBase
from django.middleware.common import CommonMiddleware
from django.middleware.locale import LocaleMiddleware

API_PREFIX = "/api/v1/"


def is_api(request) -> bool:
    return request.path_info.startswith(API_PREFIX)


class PanelOnly:
    """Mixed in before a middleware class: the API's requests go straight past it."""

    def __call__(self, request):
        if is_api(request):
            return self.get_response(request)
        return super().__call__(request)


class ContentSecurityPolicy(PanelOnly, CSPMiddleware):
    pass


class Language(PanelOnly, LocaleMiddleware):
    pass


class User(PanelOnly, AuthenticationMiddleware):
    pass


class Messages(PanelOnly, MessageMiddleware):
    pass


class SlashRedirect(HttpResponseRedirectBase):
    status_code = 308  # the same method and body again, at the new location


class Common(CommonMiddleware):
    """Django's CommonMiddleware; an API path missing its trailing slash (POST /api/v1/events)
    is answered 308 to the path with it, which a client follows with the same method and body
    (Django's own 301 would turn a POST into a GET, and raises under DEBUG), with the error shape
    of every API answer."""

    def process_request(self, request):
        if request.path_info.startswith("/api/") and self.should_redirect_with_slash(request):
            from api.errors import problem

            query = request.META.get("QUERY_STRING", "")
            body = problem(308, f"The path ends with a slash: {request.path}/", code="trailing_slash")
            return SlashRedirect(
                f"{request.path}/" + (f"?{query}" if query else ""),
                content=json.dumps(body),
                content_type="application/problem+json",
            )
        return super().process_request(request)
