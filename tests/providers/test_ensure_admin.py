"""ensure_admin (issue 12): a password given by environment passes Django's password validators."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.management import CommandError, call_command
from django.utils import translation

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):  # the validators' words are matched in English
        yield


@pytest.mark.parametrize(
    "weak, words",
    [("short1", "too short"), ("password123", "too common"), ("8405917263", "entirely numeric")],
)
def test_a_weak_admin_password_is_refused_in_the_validators_words(monkeypatch, weak, words):
    monkeypatch.setenv("ADMIN_PASSWORD", weak)
    with pytest.raises(CommandError, match=f"ADMIN_PASSWORD is refused: .*{words}"):
        call_command("ensure_admin")
    assert not get_user_model().objects.filter(username="admin").exists()


def test_a_password_like_the_username_is_refused(monkeypatch):
    monkeypatch.setenv("ADMIN_PASSWORD", "operations-admin")
    with pytest.raises(CommandError, match="too similar to the username"):
        call_command("ensure_admin", "--username", "operations-admin")


def test_a_weak_password_does_not_replace_a_good_one(monkeypatch):
    monkeypatch.setenv("ADMIN_PASSWORD", "Good-Admin-Pass-42")
    call_command("ensure_admin")
    monkeypatch.setenv("ADMIN_PASSWORD", "admin")
    with pytest.raises(CommandError, match="ADMIN_PASSWORD is refused"):
        call_command("ensure_admin", "--reset")
    assert get_user_model().objects.get(username="admin").check_password("Good-Admin-Pass-42")


def test_the_generated_password_passes_the_validators(monkeypatch, capsys):
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
    call_command("ensure_admin")
    password = capsys.readouterr().out.rsplit("password: ", 1)[1].strip()
    user = get_user_model().objects.get(username="admin")
    validate_password(password, user=user)  # raises if any validator refuses it
    assert user.check_password(password) and user.is_superuser
