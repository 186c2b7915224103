"""Idempotency-Key (product.md: The public API, idempotency): the same key and body replay the
first answer and run nothing again; another body is 422; a running first one is 409."""

from datetime import timedelta

import pytest
from django_celery_beat.models import PeriodicTask

from api.idempotency import fingerprint_of
from api.models import IdempotencyState, IdempotentRequest
from api.tasks import forget_idempotent_requests
from contacts.models import Contact
from tests.api import probe

pytestmark = pytest.mark.django_db


@pytest.fixture
def probed():
    probe.runs.clear()
    probe.failures.clear()
    yield probe
    probe.runs.clear()
    probe.failures.clear()


def _post(client, path, body, key, **extra):
    return client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=key, **extra)


def test_the_same_key_and_body_get_the_first_answer_and_nothing_runs_again(api):
    api.post("/api/v1/contacts/", {"external_id": "u-1", "attributes": {"n": 0}}, format="json")
    body = {"external_id": "u-1", "attributes": {"n": 1}}
    first = _post(api, "/api/v1/contacts/", body, "k-1")
    assert first.status_code == 200 and "Idempotency-Replay" not in first
    api.post("/api/v1/contacts/", {"external_id": "u-1", "attributes": {"n": 2}}, format="json")  # no key
    updated_at = Contact.objects.get(external_id="u-1").updated_at

    replay = _post(api, "/api/v1/contacts/", body, "k-1")

    assert replay.status_code == 200
    assert replay["Idempotency-Replay"] == "true"
    assert replay.content == first.content  # the first answer, byte for byte
    assert replay.json()["attributes"] == {"n": 1}
    contact = Contact.objects.get(external_id="u-1")
    assert contact.attributes == {"n": 2}  # not applied again
    assert contact.updated_at == updated_at


@pytest.mark.urls("tests.api.probe")
def test_a_replay_repeats_the_status_and_location_and_the_view_ran_once(api, probed):
    first = _post(api, "/api/v1/probe/", {"a": 1}, "k-2")
    replay = _post(api, "/api/v1/probe/", {"a": 1}, "k-2")
    assert (first.status_code, replay.status_code) == (201, 201)
    assert replay["Location"] == first["Location"] == "/api/v1/probe/1/"
    assert replay["Content-Type"] == first["Content-Type"]
    assert replay.json() == {"run": 1}
    assert probed.runs == [{"a": 1}]
    assert "RateLimit-Remaining" in replay  # the replay's own budget, not the first answer's
    assert int(replay["RateLimit-Remaining"]) == int(first["RateLimit-Remaining"]) - 1


@pytest.mark.urls("tests.api.probe")
def test_the_quoted_form_of_a_key_is_the_same_key(api, probed):
    _post(api, "/api/v1/probe/", {"a": 1}, "k-3")
    assert _post(api, "/api/v1/probe/", {"a": 1}, '"k-3"')["Idempotency-Replay"] == "true"
    assert len(probed.runs) == 1


@pytest.mark.urls("tests.api.probe")
def test_the_same_key_with_another_body_is_a_422_problem_and_runs_nothing(api, probed):
    _post(api, "/api/v1/probe/", {"a": 1}, "k-4")
    response = _post(api, "/api/v1/probe/", {"a": 2}, "k-4")
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 422
    assert "another request" in response.json()["detail"]
    assert probed.runs == [{"a": 1}]


def test_the_same_key_on_another_path_is_a_422(api):
    _post(api, "/api/v1/contacts/", {"external_id": "u-5"}, "k-5")
    response = _post(api, "/api/v1/contacts/batch/", {"contacts": [{"external_id": "u-5"}]}, "k-5")
    assert response.status_code == 422


@pytest.mark.urls("tests.api.probe")
def test_a_key_whose_first_request_is_still_running_is_a_409_problem(api, probed):
    body = b'{"a": 1}'
    IdempotentRequest.objects.create(
        api_key=api.api_key,
        key="k-6",
        method="POST",
        path="/api/v1/probe/",
        fingerprint=fingerprint_of(method="POST", path="/api/v1/probe/", body=body),
    )
    response = api.post("/api/v1/probe/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-6")
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert "still running" in response.json()["detail"]
    assert probed.runs == []
    assert IdempotentRequest.objects.get(key="k-6").state == IdempotencyState.RUNNING  # the first one's still


@pytest.mark.parametrize("key", ["x" * 256, "", "   ", "caf\u00e9", "tab\there", '""'])
def test_a_key_too_long_empty_or_not_printable_is_a_400_problem(api, key):
    response = _post(api, "/api/v1/contacts/", {"external_id": "u-7"}, key)
    assert response.status_code == 400
    body = response.json()
    assert body["errors"] == {
        "Idempotency-Key": ["The Idempotency-Key header must be 1 to 255 printable ASCII characters."]
    }
    assert not Contact.objects.filter(external_id="u-7").exists()
    assert not IdempotentRequest.objects.exists()


def test_a_key_of_255_printable_characters_is_accepted(api):
    response = _post(api, "/api/v1/contacts/", {"external_id": "u-8"}, "~" * 253 + " x")
    assert response.status_code == 201
    assert IdempotentRequest.objects.get().key == "~" * 253 + " x"


@pytest.mark.urls("tests.api.probe")
def test_an_expired_answer_is_absent_and_the_request_runs_again(api, probed, settings):
    _post(api, "/api/v1/probe/", {"a": 1}, "k-9")
    IdempotentRequest.objects.update(created_at=IdempotentRequest.objects.get().created_at - timedelta(hours=25))
    again = _post(api, "/api/v1/probe/", {"a": 1}, "k-9")
    assert again.status_code == 201 and "Idempotency-Replay" not in again
    assert again.json() == {"run": 2}
    assert IdempotentRequest.objects.get().response_body == '{"run":2}'  # the new answer is the one kept


@pytest.mark.urls("tests.api.probe")
def test_keys_are_per_api_key(make_client, probed):
    one, other = make_client("contacts", name="one"), make_client("contacts", name="other")
    _post(one, "/api/v1/probe/", {"a": 1}, "shared")
    response = _post(other, "/api/v1/probe/", {"a": 1}, "shared")
    assert response.status_code == 201 and "Idempotency-Replay" not in response
    assert len(probed.runs) == 2


def test_a_4xx_answer_is_kept_and_replayed(api):
    first = _post(api, "/api/v1/contacts/", {"external_id": "u-10", "phone": "12"}, "k-10")
    replay = _post(api, "/api/v1/contacts/", {"external_id": "u-10", "phone": "12"}, "k-10")
    assert (first.status_code, replay.status_code) == (400, 400)
    assert replay["Content-Type"] == "application/problem+json"
    assert replay["Idempotency-Replay"] == "true"
    assert replay.json() == first.json()


@pytest.mark.urls("tests.api.probe")
def test_a_5xx_lets_the_key_go_so_the_client_may_retry(api, probed):
    probed.failures.append("raise")
    failed = _post(api, "/api/v1/probe/", {"a": 1}, "k-11")
    assert failed.status_code == 500
    assert not IdempotentRequest.objects.exists()
    retried = _post(api, "/api/v1/probe/", {"a": 1}, "k-11")
    assert retried.status_code == 201 and "Idempotency-Replay" not in retried
    assert len(probed.runs) == 2


def test_a_post_without_a_key_runs_every_time_and_keeps_nothing(api):
    for n in (1, 2):
        api.post("/api/v1/contacts/", {"external_id": "u-12", "attributes": {"n": n}}, format="json")
    assert Contact.objects.get(external_id="u-12").attributes == {"n": 2}
    assert not IdempotentRequest.objects.exists()


def test_the_periodic_task_forgets_answers_past_the_kept_time(api):
    _post(api, "/api/v1/contacts/", {"external_id": "u-13"}, "old")
    _post(api, "/api/v1/contacts/", {"external_id": "u-14"}, "fresh")
    IdempotentRequest.objects.filter(key="old").update(
        created_at=IdempotentRequest.objects.get(key="old").created_at - timedelta(hours=24, seconds=1)
    )
    assert forget_idempotent_requests.delay().get() == 1
    assert list(IdempotentRequest.objects.values_list("key", flat=True)) == ["fresh"]
    task = PeriodicTask.objects.get(task="api.tasks.forget_idempotent_requests")
    assert task.enabled and task.interval.every == 3600


def test_a_body_too_large_to_fingerprint_is_a_413_problem(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = _post(api, "/api/v1/contacts/", {"external_id": "u-15", "attributes": {"x": "y" * 200}}, "k-15")
    assert response.status_code == 413
    assert response.json()["detail"] == "The body is larger than the 100 bytes the API accepts."
    assert not IdempotentRequest.objects.exists()
    assert not Contact.objects.exists()
