"""The panel's page middleware (language, user, messages, Content-Security-Policy) does not run
for the API's requests (api.middleware); the API's documentation and the panel keep it."""

import pytest

pytestmark = pytest.mark.django_db


def test_an_api_answer_skips_the_page_middleware(api):
    response = api.get("/api/v1/contacts/nobody/", HTTP_ACCEPT_LANGUAGE="tr")
    assert response.status_code == 404 and response.json()["status"] == 404
    assert "Content-Security-Policy" not in response
    assert "Content-Language" not in response
    assert not response.cookies
    assert response["X-Frame-Options"] == "DENY" and response["X-Content-Type-Options"] == "nosniff"


def test_the_docs_and_the_panel_keep_it(client):
    for path in ("/api/docs/", "/admin/login/"):
        response = client.get(path, HTTP_ACCEPT_LANGUAGE="tr")
        assert response.status_code == 200, path
        assert "Content-Security-Policy" in response, path
        assert response["Content-Language"] == "tr", path
