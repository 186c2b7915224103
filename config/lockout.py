"""What a locked-out login gets (django-axes calls lockout_response, settings.AXES_LOCKOUT_CALLABLE):
the admin's login page again, with the reason and the wait in words, status 429."""

from __future__ import annotations

import math

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def lockout_message(request: HttpRequest | None = None) -> str:
    from axes.helpers import get_cool_off

    cool_off = get_cool_off(request)
    if not cool_off:
        return _(
            "Too many failed log-in attempts for this user: the account is locked. Ask an administrator to unlock it."
        )
    minutes = max(1, math.ceil(cool_off.total_seconds() / 60))
    return ngettext(
        "Too many failed log-in attempts for this user from your address: logging in is blocked for "
        "%(minutes)d minute. Try again later, or ask an administrator to unlock the account.",
        "Too many failed log-in attempts for this user from your address: logging in is blocked for "
        "%(minutes)d minutes. Try again later, or ask an administrator to unlock the account.",
        minutes,
    ) % {"minutes": minutes}


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    message = lockout_message(request)
    if request.path != reverse("admin:login"):
        return HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
    from django.contrib import admin
    from django.contrib.admin.forms import AdminAuthenticationForm

    username = (credentials or {}).get("username") or request.POST.get("username", "")
    context = {
        **admin.site.each_context(request),
        "title": _("Log in"),
        "subtitle": None,
        "app_path": request.get_full_path(),
        "username": request.user.get_username(),
        "next": request.POST.get("next") or request.GET.get("next") or reverse("admin:index"),
        # a fresh form: the lockout, not "wrong password", is the reason shown
        "form": AdminAuthenticationForm(request, initial={"username": username}),
        "lockout_message": message,
    }
    return TemplateResponse(request, "admin/login.html", context, status=429).render()
