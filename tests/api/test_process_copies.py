"""Each web process keeps copies of the API keys and connector accounts it reads on every request
(api.auth, providers.snapshots); a change made anywhere is seen at once: a revoked key is refused
on its next request, an edited account's settings are used on the next message. These tests
run outside a test transaction (the copies are kept only there) and act as two processes: the
one serving requests keeps its copies, the change is made as another process would make it, and
a third starts with none (its in-process state cleared)."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from api.auth import forget_keys
from api.models import ApiKey, Scope
from api.services import api_key_create, api_key_revoke, api_keys_revoke
from contacts.models import Contact
from messaging.models import Message
from providers import snapshots
from providers.models import ProviderAccount

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fresh_process():
    another_process_starts()
    cache.clear()
    yield
    another_process_starts()


def another_process_starts():
    from messaging.policy import POLICY

    forget_keys()
    snapshots.ACTIVE_ACCOUNTS.clear()
    POLICY.clear()


def client_for(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def key_queries(client: APIClient, path: str) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        status = client.get(path).status_code
    return status, sum('"api_apikey"' in q["sql"] and "SELECT" in q["sql"] for q in queries.captured_queries)


@pytest.fixture
def key():
    Contact.objects.create(external_id="c-1", phone="+905331234562")
    _api_key, key = api_key_create(name="crm", scopes=list(Scope.values))
    return key


def test_the_process_reads_a_key_once_then_uses_its_copy(key):
    client = client_for(key)
    assert key_queries(client, "/api/v1/contacts/c-1/") == (200, 1)
    assert key_queries(client, "/api/v1/contacts/c-1/") == (200, 0)
    assert client.get("/api/v1/contacts/c-1/")["RateLimit-Remaining"] == str(600 - 3)  # each request counted once


@pytest.mark.parametrize("how", ["service", "admin action", "delete"])
def test_a_revoked_or_deleted_key_is_refused_at_once_by_a_process_holding_its_copy(key, how):
    client = client_for(key)
    assert client.get("/api/v1/contacts/c-1/").status_code == 200  # this process now holds a copy
    if how == "service":
        api_key_revoke(api_key=ApiKey.objects.get())
    elif how == "admin action":
        api_keys_revoke(keys=ApiKey.objects.all())
    else:
        ApiKey.objects.get().delete()
    assert client.get("/api/v1/contacts/c-1/").status_code == 401
    another_process_starts()
    assert client.get("/api/v1/contacts/c-1/").status_code == 401


def test_a_refused_request_of_a_revoked_key_spends_nothing(key):
    client = client_for(key)
    assert client.get("/api/v1/contacts/c-1/")["RateLimit-Remaining"] == "599"
    api_key = ApiKey.objects.get()
    ApiKey.objects.filter(pk=api_key.pk).update(revoked=True)  # behind the panel's back: no token changes
    api_key.revoked = False
    api_key.save()  # ... until a save: every process reads its keys again
    api_key.revoked = True
    api_key.save()
    assert client.get("/api/v1/contacts/c-1/").status_code == 401
    api_key.revoked = False  # (a test's doing; the panel never un-revokes)
    api_key.save()
    assert client.get("/api/v1/contacts/c-1/")["RateLimit-Remaining"] == "598"


def test_a_key_whose_scopes_change_gets_the_new_scopes_at_once(key):
    client = client_for(key)
    assert client.get("/api/v1/contacts/c-1/").status_code == 200
    api_key = ApiKey.objects.get()
    api_key.scopes = ["messages"]
    api_key.save()
    assert client.get("/api/v1/contacts/c-1/").status_code == 403


def test_a_wrong_secret_with_a_known_prefix_is_refused_and_spends_nothing(key):
    client = client_for(key)
    assert client.get("/api/v1/contacts/c-1/")["RateLimit-Remaining"] == "599"
    prefix = key.split(".")[0]
    assert client_for(f"{prefix}.not-the-secret").get("/api/v1/contacts/c-1/").status_code == 401
    assert client.get("/api/v1/contacts/c-1/")["RateLimit-Remaining"] == "598"


def test_an_emptied_cache_makes_every_process_read_its_copies_again(key):
    client = client_for(key)
    assert client.get("/api/v1/contacts/c-1/").status_code == 200
    cache.clear()  # Redis restarted: the tokens are gone; an old one can never come back
    ApiKey.objects.filter(revoked=False).update(revoked=True)
    assert client.get("/api/v1/contacts/c-1/").status_code == 401


def send(client: APIClient, **extra):
    body = {"channel": "sms", "to": "+905331234562", "kind": "transactional", "text": "Kargonuz yolda", **extra}
    return client.post("/api/v1/messages/", body, format="json")


def test_an_edited_account_is_used_at_once_and_a_deactivated_one_no_more(key, infobip):
    from providers.services import account_install

    values = {"base_url": infobip.url, "api_key": infobip.api_key, "sender": "MARKA"}
    account_install(name="Infobip", connector="infobip", values=values)
    client = client_for(key)
    assert send(client).json()["sender"] == "MARKA"
    with CaptureQueriesContext(connection) as queries:
        assert send(client).status_code == 201
    accounts = [q["sql"] for q in queries.captured_queries if 'FROM "providers_provideraccount"' in q["sql"]]
    looked_up = [sql for sql in accounts if "is_active" in sql.split("WHERE")[-1]]
    assert not looked_up  # the copy (the send itself, eager here, reads its account by id)
    account_install(name="Infobip", connector="infobip", values={**values, "sender": "YENI"})
    assert send(client).json()["sender"] == "YENI"
    another_process_starts()
    assert send(client).json()["sender"] == "YENI"
    account = ProviderAccount.objects.get(name="Infobip")
    account.is_active = False
    account.save()
    response = send(client)
    assert response.status_code == 400 and "account" in response.json()["errors"]
    assert Message.objects.filter(sender="YENI").count() == 2


def test_the_iys_gate_follows_an_installed_connector_at_once(key, infobip):
    from consent.selectors import IysGate, iys_gate

    assert iys_gate() == IysGate.OFF
    account = ProviderAccount.objects.create(name="İYS", connector="iys", channel="iys", settings={"mode": "sync"})
    assert iys_gate() == IysGate.SYNC
    account.settings = {"mode": "integrator"}
    account.save()
    assert iys_gate() == IysGate.INTEGRATOR
    account.delete()
    assert iys_gate() == IysGate.OFF


def test_a_changed_sending_policy_is_used_at_once(key, infobip):
    from datetime import time

    from messaging.models import SendingPolicy
    from providers.services import account_install

    Contact.objects.filter(external_id="c-1").update(sms_subscription="subscribed")
    values = {"base_url": infobip.url, "api_key": infobip.api_key, "sender": "MARKA"}
    account_install(name="Infobip", connector="infobip", values=values)
    client = client_for(key)
    assert send(client, kind="newsletter").json()["status"] == "queued"
    quiet = SendingPolicy.objects.create(quiet_from=time(0, 0), quiet_until=time(23, 59, 59))
    assert send(client, kind="newsletter").json()["status"] == "scheduled"  # deferred to the quiet hours' end
    another_process_starts()
    assert send(client, kind="newsletter").json()["status"] == "scheduled"
    quiet.delete()
    assert send(client, kind="newsletter").json()["status"] == "queued"
