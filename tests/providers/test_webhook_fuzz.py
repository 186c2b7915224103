"""Webhook fuzz (issue 12, "Done when"): random JSON and random bytes posted to the webhook of
every connector that takes webhooks, with a valid account secret and, where the connector checks
one, a valid signature, so the payload reaches the parser. Never a 500, always 2xx; no error
logged by the view or the `webhooks` task (processing runs eagerly here); no consent ledger row
and no message status change from garbage. Runs on SQLite and, in CI, PostgreSQL."""

import json
import logging

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from consent.models import Consent, ConsentChange
from contacts.models import Contact
from messaging.models import Message, MessageStatus
from providers.registry import CONNECTORS, connector_class
from providers.services import account_install

APP_SECRET = "fuzz-app-secret"
INSTALL = {
    "infobip": {"base_url": "http://127.0.0.1:9", "api_key": "k", "sender": "MARKA"},
    "instasent": {"base_url": "http://127.0.0.1:9", "token": "t", "sender": "MARKA"},
    "whatsapp": {"waba_id": "1", "phone_number_id": "2", "access_token": "t", "app_secret": APP_SECRET},
}


def signed_headers(connector: str, body: bytes) -> dict:
    if connector == "whatsapp":
        from providers.whatsapp.webhooks import sign

        return {"HTTP_X_HUB_SIGNATURE_256": sign(body, APP_SECRET)}
    return {}


def webhook_connectors() -> list[str]:
    return sorted(name for name in CONNECTORS if getattr(connector_class(name), "has_webhook", False))


def test_every_connector_that_takes_webhooks_is_fuzzed():
    assert webhook_connectors() == sorted(INSTALL)  # a new one needs its install values (and signature) here


# the words the connectors look for, so random payloads reach past the first checks
WORDS = [
    "results",
    "messageId",
    "status",
    "id",
    "groupName",
    "name",
    "error",
    "price",
    "pricePerMessage",
    "doneAt",
    "messageCount",
    "smsCount",
    "clientId",
    "message",
    "from",
    "sender",
    "code",
    "object",
    "entry",
    "changes",
    "value",
    "field",
    "statuses",
    "messages",
    "errors",
    "recipient_id",
    "timestamp",
    "text",
    "body",
    "type",
    "pricing",
    "conversation",
    "message_template_status_update",
    "whatsapp_business_account",
    "event",
    "DELIVERED",
    "delivered",
    "read",
    "failed",
    "stop",
    "STOP",
    "REJECTED",
    "5",
]
scalars = (
    st.none()
    | st.booleans()
    # not the size of a phone number: a STOP from a real number is no garbage
    | st.integers(min_value=-(2**70), max_value=2**70).filter(lambda n: not 10**5 <= abs(n) < 10**16)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.sampled_from(WORDS)
    | st.sampled_from(["\x00", "a\x00b", "²", "+90abc", "9" * 40])
)
keys = st.sampled_from(WORDS) | st.text(max_size=10)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(keys, children, max_size=6),
    max_leaves=30,
)


def json_bytes(value) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


objects = st.dictionaries(keys, json_values, max_size=6)
# random content inside each connector's envelope, so it reaches the item-level parsing
shaped = (
    st.fixed_dictionaries({"results": json_values})
    | st.fixed_dictionaries({"results": st.lists(objects | json_values, max_size=4)})
    | st.lists(objects | json_values, max_size=4)
    | st.fixed_dictionaries(
        {
            "object": st.just("whatsapp_business_account"),
            "entry": st.lists(
                st.fixed_dictionaries(
                    {
                        "id": scalars,
                        "changes": st.lists(
                            st.fixed_dictionaries({"field": st.sampled_from(WORDS), "value": objects | json_values}),
                            max_size=3,
                        ),
                    }
                ),
                max_size=2,
            ),
        }
    )
)
payloads = (
    json_values.map(json_bytes)
    | objects.map(json_bytes)
    | shaped.map(json_bytes)
    | st.binary(max_size=300)
    | st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass"))
)
content_types = st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain"])


@pytest.fixture
def accounts(db):
    made = {
        name: account_install(name=f"fuzz {name}", connector=name, values=values) for name, values in INSTALL.items()
    }
    for index, account in enumerate(made.values()):
        contact = Contact.objects.create(phone=f"+90532000{index:04d}")
        Message.objects.create(
            kind="transactional",
            account=account,
            to=contact.phone,
            contact=contact,
            status=MessageStatus.QUEUED,
            provider_id=f"prov-{index}",
        )
    return made


@hypothesis_settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=payloads, content_type=content_types)
def test_garbage_to_any_webhook_is_acknowledged_and_changes_nothing(client, accounts, caplog, body, content_type):
    statuses = dict(Message.objects.values_list("pk", "status"))
    caplog.clear()
    with caplog.at_level(logging.INFO):
        for name, account in accounts.items():
            response = client.post(
                f"/hooks/{name}/{account.webhook_secret}/",
                data=body,
                content_type=content_type,
                **signed_headers(name, body),
            )
            assert 200 <= response.status_code < 300, (name, response.status_code)
    errors = [(r.name, r.getMessage(), r.exc_text) for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors
    assert not [r for r in caplog.records if "bad signature" in r.getMessage()]  # each reached its parser
    assert not Consent.objects.exists() and not ConsentChange.objects.exists()
    assert dict(Message.objects.values_list("pk", "status")) == statuses
