from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from api.models import ApiKey
from api.services import api_key_revoke

pytestmark = pytest.mark.django_db


def _client(key: str | None) -> APIClient:
    client = APIClient()
    if key is not None:
        client.credentials(HTTP_AUTHORIZATION=key)
    return client


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer nope", "Bearer abc.def", "Token abc.def", "Basic eDp5"])
def test_no_key_or_a_wrong_one_is_401_with_a_bearer_challenge(header):
    response = _client(header).get("/api/v1/contacts/x/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["status"] == 401


def test_the_command_prints_the_key_alone_on_its_last_line_and_it_works():
    out = StringIO()
    call_command("api_key_create", "--name", "crm", "--scopes", "contacts,stats", stdout=out)
    key = out.getvalue().strip().splitlines()[-1]
    api_key = ApiKey.objects.get()
    assert key.startswith(api_key.prefix + ".")
    assert key not in api_key.hashed_key and key != api_key.id  # stored hashed only
    assert api_key.scopes == ["contacts", "stats"]
    assert _client(f"Bearer {key}").get("/api/v1/contacts/x/").status_code == 404
    assert ApiKey.objects.get().last_used_at is not None


def test_a_revoked_key_is_401():
    out = StringIO()
    call_command("api_key_create", "--name", "crm", "--scopes", "contacts", stdout=out)
    key = out.getvalue().strip().splitlines()[-1]
    api_key_revoke(api_key=ApiKey.objects.get())
    assert _client(f"Bearer {key}").get("/api/v1/contacts/x/").status_code == 401


def test_an_expired_key_is_401_and_a_key_works_through_its_last_day():
    out = StringIO()
    call_command(
        "api_key_create",
        "--name",
        "crm",
        "--scopes",
        "contacts",
        "--expires",
        str(date.today() + timedelta(days=1)),
        stdout=out,
    )
    key = out.getvalue().strip().splitlines()[-1]
    assert _client(f"Bearer {key}").get("/api/v1/contacts/x/").status_code == 404
    ApiKey.objects.update(expiry_date=ApiKey.objects.get().expiry_date - timedelta(days=3))
    response = _client(f"Bearer {key}").get("/api/v1/contacts/x/")
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


@pytest.mark.parametrize(
    "args",
    [
        ["--scopes", "contacts,nope"],
        ["--scopes", ""],
        ["--scopes", "contacts", "--expires", "2020-01-01"],
        ["--scopes", "contacts", "--expires", "31.12.2030"],
    ],
)
def test_the_command_refuses_bad_input_in_words(args):
    with pytest.raises(CommandError) as error:
        call_command("api_key_create", "--name", "crm", *args, stdout=StringIO())
    assert str(error.value)
    assert not ApiKey.objects.exists()


def test_a_key_without_the_scope_is_403_naming_it(make_client):
    client = make_client("consents")
    response = client.get("/api/v1/contacts/x/")
    assert response.status_code == 403
    assert "'contacts' scope" in response.json()["detail"]
    assert client.post("/api/v1/contacts/", {"external_id": "x"}).status_code == 403
