"""Two requests with one Idempotency-Key at once, on PostgreSQL: the claim is a committed insert
under the unique (api_key, key) constraint, so exactly one of them runs the view."""

import threading
import time

import pytest
from django.db import connections
from rest_framework.test import APIClient

from api import contacts as contacts_view
from api.models import IdempotencyState, IdempotentRequest
from api.services import api_key_create
from contacts.models import Contact
from tests.services import require_postgres

pytestmark = [pytest.mark.services]


@pytest.mark.django_db(transaction=True)
def test_two_posts_with_one_key_at_once_run_the_view_once(monkeypatch):
    require_postgres()
    _api_key, key = api_key_create(name="race", scopes=["contacts"])
    runs = []
    upsert = contacts_view.contacts_upsert

    def slow_upsert(**kwargs):
        runs.append(threading.get_ident())
        time.sleep(0.5)  # the other request arrives while this one runs
        return upsert(**kwargs)

    monkeypatch.setattr(contacts_view, "contacts_upsert", slow_upsert)
    barrier = threading.Barrier(2)
    responses, errors = [], []

    def post():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        try:
            barrier.wait()
            responses.append(
                client.post("/api/v1/contacts/", {"external_id": "race-1"}, format="json", HTTP_IDEMPOTENCY_KEY="once")
            )
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    assert len(runs) == 1
    statuses = sorted(r.status_code for r in responses)
    assert statuses[0] == 201
    loser = next(r for r in responses if r.status_code != 201 or r.has_header("Idempotency-Replay"))
    assert loser.status_code == 409 or loser["Idempotency-Replay"] == "true"
    assert Contact.objects.filter(external_id="race-1").count() == 1
    assert IdempotentRequest.objects.get().state == IdempotencyState.DONE
