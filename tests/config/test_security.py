"""Security rules of the panel (issue 12): login throttling, where a login lands, the
Content-Security-Policy, secrets kept out of error reports, and who may open the İYS status page."""

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.signals import got_request_exception
from django.test import override_settings
from django.urls import reverse
from django.views.debug import ExceptionReporter

from providers.models import ProviderAccount
from providers.roles import MARKETER

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent.parent
LOGIN = "/admin/login/"


def post_login(client, username, password, ip="203.0.113.7"):
    return client.post(
        LOGIN,
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=ip,
        HTTP_ACCEPT_LANGUAGE="en",
    )


# --- login throttling (django-axes) ---------------------------------------------------------------


def test_five_failed_logins_lock_that_username_from_that_address_with_a_message(client, django_user_model):
    django_user_model.objects.create_superuser("boss", password="right-pass-123")
    for _ in range(4):
        failed = post_login(client, "boss", "wrong")
        assert failed.status_code == 200 and b"correct username and password" in failed.content
    # the fifth failure locks: the login page again, with the reason and the wait in words
    for attempt in ("wrong", "right-pass-123"):  # then even the right password is refused
        locked = post_login(client, "boss", attempt)
        assert locked.status_code == 429
        text = locked.content.decode()
        assert 'id="login-locked-out"' in text and "Too many failed log-in attempts" in text and "15 minutes" in text
        assert 'id="login-form"' in text and "correct username and password" not in text
    assert "_auth_user_id" not in client.session
    # the lock is per username + address: the same user from elsewhere, and others from here, still log in
    assert post_login(client, "boss", "right-pass-123", ip="198.51.100.9").status_code == 302


def test_another_username_from_a_locked_address_still_logs_in(client, django_user_model):
    django_user_model.objects.create_superuser("boss", password="right-pass-123")
    django_user_model.objects.create_superuser("other", password="other-pass-123")
    for _ in range(5):
        post_login(client, "boss", "wrong")
    assert post_login(client, "other", "other-pass-123").status_code == 302


@override_settings(AXES_FAILURE_LIMIT=2)
def test_a_successful_login_resets_the_count(client, django_user_model):
    django_user_model.objects.create_superuser("boss", password="right-pass-123")
    post_login(client, "boss", "wrong")
    assert post_login(client, "boss", "right-pass-123").status_code == 302
    client.logout()
    post_login(client, "boss", "wrong")
    assert post_login(client, "boss", "right-pass-123").status_code == 302


def test_the_lockout_limits_come_from_the_environment_and_bad_ones_are_refused():
    from tests.config.test_settings import run_manage

    show = "from django.conf import settings as s; print(s.AXES_FAILURE_LIMIT, s.AXES_COOLOFF_TIME)"
    shown = run_manage("shell", "-c", show, env_extra={"AXES_FAILURE_LIMIT": "3", "AXES_COOLOFF_MINUTES": "45"})
    assert shown.returncode == 0 and shown.stdout.split()[-2:] == ["3", "0:45:00"], shown.stderr
    refused = run_manage("check", env_extra={"AXES_COOLOFF_MINUTES": "0"})
    assert refused.returncode != 0 and "AXES_COOLOFF_MINUTES must be at least 1" in refused.stderr


# --- where a login lands -------------------------------------------------------------------------


@override_settings(ROOT_URLCONF="tests.config.urls_login")
def test_a_login_outside_the_admin_lands_on_the_admin_index(client, django_user_model):
    django_user_model.objects.create_user("clerk", password="clerk-pass-123", is_staff=True)
    response = client.post("/accounts/login/", {"username": "clerk", "password": "clerk-pass-123"})
    assert response.status_code == 302 and response["Location"] == reverse("admin:index")


# --- Content-Security-Policy ---------------------------------------------------------------------


def csp(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def test_pages_carry_a_policy_of_own_files_only(admin_client):
    policy = csp(admin_client.get(reverse("admin:index")))
    assert policy["default-src"] == ["'self'"]
    for directive in ("script-src", "style-src"):
        assert "'unsafe-inline'" not in policy[directive] and "'unsafe-eval'" not in policy[directive]
        assert all(not source.startswith(("http:", "https:", "*")) for source in policy[directive])
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]


def test_the_change_list_inline_style_carries_the_page_nonce(admin_client, monkeypatch):
    from django.contrib import admin

    from consent.models import Consent

    # a list showing its actions neither above nor below gets Django's one inline <style>
    monkeypatch.setattr(admin.site._registry[Consent], "actions_on_top", False)
    response = admin_client.get(reverse("admin:consent_consent_changelist"))
    nonce = re.search(r'<style nonce="([^"]+)"', response.content.decode())
    assert nonce and f"'nonce-{nonce.group(1)}'" in csp(response)["style-src"]


def test_the_periodic_task_form_runs_no_inline_script(admin_client):
    page = admin_client.get(reverse("admin:django_celery_beat_periodictask_add")).content.decode()
    assert 'id="periodic-task-overrides" src="' in page and "panel/periodic_task.js" in page
    assert re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", page) is None


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)(?![^>]*\bnonce=)[^>]*>", re.I)
INLINE_STYLE = re.compile(r"<style(?![^>]*\bnonce=)[^>]*>", re.I)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.I)
HANDLER_ATTRIBUTE = re.compile(r"\son[a-z]+\s*=", re.I)


def project_sources():
    for folder in (
        "templates",
        "contacts",
        "consent",
        "messaging",
        "channels_sms",
        "channels_whatsapp",
        "providers",
        "config",
    ):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in (".html", ".py") and "migrations" not in path.parts:
                yield path


def test_no_template_or_admin_cell_has_inline_script_style_or_handler():
    """What the policy would block: inline scripts and styles without the nonce, style="…" and
    on…= attributes (admin cells are built in Python with format_html, so .py files count too)."""
    found = []
    for path in project_sources():
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".py":
            text = "\n".join(re.findall(r"(?:format_html|mark_safe)\((.*?)\)", text, re.S))
        for pattern in (INLINE_SCRIPT, INLINE_STYLE, STYLE_ATTRIBUTE, HANDLER_ATTRIBUTE):
            found += [f"{path.relative_to(ROOT)}: {m.group(0).strip()}" for m in pattern.finditer(text)]
    assert found == []


# --- secrets never in error reports ---------------------------------------------------------------


@pytest.fixture
def reported(monkeypatch):
    """The error report of a failing request, as an admin e-mail (AdminEmailHandler) carries it."""
    reports = []

    def capture(sender, request, **kwargs):
        import sys

        reporter = ExceptionReporter(request, *sys.exc_info(), is_email=True)
        # the text part and the HTML part (which lists each frame's local variables)
        reports.append(reporter.get_traceback_text() + reporter.get_traceback_html())

    got_request_exception.connect(capture)
    yield reports
    got_request_exception.disconnect(capture)


def _crash(*args, **kwargs):
    raise RuntimeError("the database went away")


@pytest.mark.parametrize("change", [False, True], ids=["add", "change"])
def test_connector_account_forms_keep_secrets_out_of_error_reports(client, panel_admin, reported, monkeypatch, change):
    from providers.services import account_install

    account = account_install(
        name="Infobip", connector="infobip", values={"base_url": "https://x.api.infobip.com", "api_key": "Stored-Key-1"}
    )
    monkeypatch.setattr(ProviderAccount, "save", _crash)
    client.raise_request_exception = False
    client.force_login(panel_admin)
    if change:
        url = reverse("admin:providers_provideraccount_change", args=[account.pk])
        name = "Infobip"
    else:
        url = reverse("admin:providers_provideraccount_add") + "?connector=infobip"
        name = "Infobip two"
    data = {"name": name, "is_active": "on", "base_url": "https://x.api.infobip.com", "api_key": "Typed-Key-2"}
    assert client.post(url, data).status_code == 500
    assert len(reported) == 1
    text = reported[0]
    assert "the database went away" in text and "api_key" in text  # the report is there, its values hidden
    assert "Typed-Key-2" not in text and "Stored-Key-1" not in text


def test_login_and_password_forms_keep_passwords_out_of_error_reports(client, django_user_model, reported, monkeypatch):
    from django.contrib.auth import forms as auth_forms

    monkeypatch.setattr(auth_forms.AuthenticationForm, "confirm_login_allowed", _crash)
    django_user_model.objects.create_superuser("boss", password="Login-Secret-77")
    client.raise_request_exception = False
    assert post_login(client, "boss", "Login-Secret-77").status_code == 500
    assert reported and "Login-Secret-77" not in reported[-1]

    monkeypatch.setattr(auth_forms.PasswordChangeForm, "save", _crash)
    client.force_login(django_user_model.objects.get(username="boss"))
    data = {"old_password": "Login-Secret-77", "new_password1": "New-Secret-8899", "new_password2": "New-Secret-8899"}
    assert client.post(reverse("admin:password_change"), data).status_code == 500
    assert "New-Secret-8899" not in reported[-1] and "Login-Secret-77" not in reported[-1]


# --- the İYS status page -----------------------------------------------------------------------------


def test_iys_status_page_needs_the_view_permission(client, django_user_model, marketer, panel_admin):
    url = reverse("admin:consent_iysbackfill_changelist")
    staff = django_user_model.objects.create_user("helpdesk", password="helpdesk-pass-1", is_staff=True)
    client.force_login(staff)
    assert client.get(url).status_code == 403
    assert client.post(url, {"start_now": "1"}).status_code == 403
    for user in (marketer, panel_admin):
        client.force_login(user)
        page = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
        assert page.status_code == 200 and "İYS status" in page.content.decode()
    # the marketer reads it; starting a backfill stays with those who may change it
    assert Group.objects.get(name=MARKETER).permissions.filter(codename="view_iysbackfill").exists()
    client.force_login(marketer)
    assert client.post(url, {"start_now": "1"}).status_code == 403
