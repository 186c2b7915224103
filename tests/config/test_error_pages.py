"""issue 15: DEBUG is off unless asked for (a 404 must not list the URLs); 404 and 500 are pages
in the panel's style."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, override_settings
from django.urls import path

ROOT = Path(__file__).resolve().parents[2]


def settings_value(name: str, **env_extra) -> str:
    drop = ("DEBUG", "DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update({"TESTING": "0", **env_extra})
    code = f"from django.conf import settings; print(settings.{name})"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_debug_is_off_when_nothing_asks_for_it():
    assert settings_value("DEBUG") == "False"


def test_the_embedded_default_with_debug_off_still_starts_on_plain_http():
    # no DATABASE_URL: one machine, local secrets, no redirect to an https it does not have
    assert settings_value("SECURE_SSL_REDIRECT") == "False"


def test_make_run_asks_for_debug():
    makefile = (ROOT / "Makefile").read_text()
    assert "run: export DEBUG ?= true" in makefile


@pytest.mark.django_db
def test_a_404_shows_the_panel_not_the_url_list(client):
    client.cookies.load({"django_language": "en"})
    response = client.get("/admin/no-such-page/at-all/")
    assert response.status_code in (404, 302)
    response = client.get("/nothing-here/")
    assert response.status_code == 404
    text = response.content.decode()
    assert "There is nothing at this address" in text and "Back to the dashboard" in text
    assert "URLconf" not in text and "urlpatterns" not in text


def _boom(request):
    raise RuntimeError("kaboom-secret-detail")


urlpatterns = [path("boom/", _boom)]
handler500 = "api.errors.server_error_or_html"


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_a_500_says_what_to_do_and_shows_no_code():
    client = Client(raise_request_exception=False)
    client.cookies.load({"django_language": "en"})
    response = client.get("/boom/")
    assert response.status_code == 500
    text = response.content.decode()
    assert "Something went wrong on our side" in text and "kaboom-secret-detail" not in text
    assert "Traceback" not in text
