import re

import pytest
from rest_framework.test import APIClient

from api.models import ApiKey

pytestmark = pytest.mark.django_db


def test_an_admin_makes_a_key_sees_it_once_and_it_works(client, panel_admin):
    client.force_login(panel_admin)
    response = client.post(
        "/admin/api/apikey/add/", {"name": "crm", "scope_choices": ["contacts", "messages"], "expires_on": ""}
    )
    assert response.status_code == 200, response.content[:500]
    page = response.content.decode()
    key = re.search(r'value="([A-Za-z0-9]{8}\.[A-Za-z0-9]+)"', page).group(1)
    api_key = ApiKey.objects.get()
    assert (api_key.name, api_key.scopes, api_key.created_by) == ("crm", ["contacts", "messages"], panel_admin)
    assert key not in str(ApiKey.objects.values_list().get())  # stored hashed only
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api.get("/api/v1/contacts/x/").status_code == 404
    listing = client.get("/admin/api/apikey/").content.decode()
    assert "crm" in listing and key not in listing
    client.post("/admin/api/apikey/", {"action": "revoke", "_selected_action": [api_key.pk]})
    assert ApiKey.objects.get().revoked
    assert api.get("/api/v1/contacts/x/").status_code == 401


def test_a_key_needs_a_scope(client, panel_admin):
    client.force_login(panel_admin)
    response = client.post("/admin/api/apikey/add/", {"name": "crm", "expires_on": ""})
    assert response.status_code == 200
    assert not ApiKey.objects.exists()
    assert "scope_choices" in response.context["adminform"].form.errors


def test_marketers_cannot_see_api_keys(client, marketer):
    client.force_login(marketer)
    assert client.get("/admin/api/apikey/").status_code == 403
