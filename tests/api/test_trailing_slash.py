"""An API path written without its trailing slash (product.md writes POST /api/v1/events): a 308
to the path with it, in the API's error shape, which a client follows with the same method and
body (Django's own answer would be a 301 that turns the POST into a GET)."""

import pytest

from contacts.models import Contact, ContactEvent

pytestmark = pytest.mark.django_db


def test_a_post_without_the_slash_is_sent_on_with_its_body(api):
    Contact.objects.create(external_id="u-1")
    body = {"contact": "u-1", "name": "cart_abandoned", "properties": {"total": 10}}
    response = api.post("/api/v1/events?x=1", body, format="json")
    assert response.status_code == 308
    assert response["Location"] == "/api/v1/events/?x=1"
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 308 and "/api/v1/events/" in response.json()["detail"]
    followed = api.post("/api/v1/events", body, format="json", follow=True)
    assert followed.status_code == 201, followed.content
    assert ContactEvent.objects.filter(name="cart_abandoned").count() == 1


def test_an_unknown_path_without_the_slash_is_still_a_404_problem(api):
    response = api.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.json()["status"] == 404
