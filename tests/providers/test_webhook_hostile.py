"""Webhooks of unexpected shapes (issue 12 item 8, product.md "What bad input gets"): never a 500,
never a failed `webhooks` task; what is wrong is logged with the account id, the well-formed
reports of the same payload are applied, and a STOP from something that is not a phone number
never reaches the consent ledger. Each case runs on SQLite and, in CI, PostgreSQL (which refuses
NUL in text: that is where a \\u0000 would have been a DataError)."""

import json
import logging

import pytest

from consent.contact_changes import consent_opt_out_by_reply
from consent.models import Consent, ConsentChange
from contacts.parsers import Rejection
from messaging.models import Message, MessageStatus
from providers.services import account_install
from tests.contacts.factories import ContactFactory

DEEP = b"[" * 10_000 + b"]" * 10_000


@pytest.fixture
def infobip_account(db):
    return account_install(
        name="Infobip", connector="infobip", values={"base_url": "http://127.0.0.1:9", "api_key": "k", "sender": "M"}
    )


@pytest.fixture
def instasent_account(db):
    return account_install(
        name="Instasent", connector="instasent", values={"base_url": "http://127.0.0.1:9", "token": "t", "sender": "M"}
    )


def queued_message(account, phone="+905320000005", provider_id="prov-1"):
    contact = ContactFactory(phone=phone)
    return Message.objects.create(
        kind="transactional",
        account=account,
        to=phone,
        contact=contact,
        status=MessageStatus.QUEUED,
        provider_id=provider_id,
    )


def post(client, account, body: bytes, content_type="application/json"):
    return client.post(f"/hooks/{account.connector}/{account.webhook_secret}/", data=body, content_type=content_type)


def warnings_for(caplog, account) -> str:
    messages = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    return "\n".join(m for m in messages if f"account {account.pk}" in m)


def assert_no_errors_logged(caplog):
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [(r.name, r.getMessage(), r.exc_text) for r in errors]


def infobip_good(message, **status):
    return {"messageId": message.key, "status": {"groupName": "DELIVERED", "id": 5, **status}}


# items that sit next to a good report in one Infobip payload: each is skipped, the good one applied
INFOBIP_BAD_ITEMS = {
    "a number": 5,
    "null": None,
    "a list": [1, 2],
    "a string": "DELIVERED",
    "status as a list": {"messageId": "x-1", "status": [5]},
    "status id as a list (unhashable)": {"messageId": "x-1", "status": {"id": [5]}},
    "groupName as a number": {"messageId": "x-1", "status": {"groupName": 5}},
    "messageId as an object": {"messageId": {"a": 1}, "status": {"id": 5}},
    "messageId with NUL": {"messageId": "x-\u00001", "status": {"id": 5}},
    "our prefix with a number past bigint": {"messageId": "KEY-" + "9" * 30, "status": {"id": 5}},
    "our prefix with superscript digits": {"messageId": "KEY-²", "status": {"id": 5}},
    "doneAt as a number": {"messageId": "x-1", "status": {"id": 5}, "doneAt": 5},
    "price NaN": {"messageId": "x-1", "status": {"id": 5}, "price": {"pricePerMessage": "NaN"}},
    "price too large for the column": {"messageId": "x-1", "status": {"id": 5}, "price": {"pricePerMessage": 1e300}},
    "price as a list": {"messageId": "x-1", "status": {"id": 5}, "price": [1]},
    "messageCount past smallint": {"messageId": "x-1", "status": {"id": 5}, "messageCount": 10**9},
    "error as a string": {"messageId": "x-1", "status": {"id": 5}, "error": "boom"},
    "error id as a list": {"messageId": "x-1", "status": {"id": 5}, "error": {"id": [1]}},
    "NUL in every text": {
        "messageId": "x-1",
        "status": {"id": 5, "groupName": "DELIVERED\u0000", "name": "\u0000"},
        "error": {"id": 1, "name": "\u0000", "description": "\u0000"},
    },
}


@pytest.mark.parametrize("bad", INFOBIP_BAD_ITEMS.values(), ids=INFOBIP_BAD_ITEMS.keys())
def test_infobip_a_bad_item_is_logged_and_the_good_reports_of_the_payload_still_apply(
    client, infobip_account, caplog, bad, settings
):
    message = queued_message(infobip_account)
    prefix_bad = json.loads(json.dumps(bad).replace("KEY", settings.MESSAGE_ID_PREFIX))
    body = json.dumps({"results": [prefix_bad, infobip_good(message, name="DELIVERED_TO_HANDSET\u0000")]}).encode()
    with caplog.at_level(logging.INFO):
        assert post(client, infobip_account, body).status_code == 200
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED
    assert message.raw_status == "DELIVERED/DELIVERED_TO_HANDSET"  # the NUL is stripped, not a DataError
    assert_no_errors_logged(caplog)


def test_infobip_a_skipped_item_is_logged_with_the_account_and_what_was_wrong(client, infobip_account, caplog):
    message = queued_message(infobip_account)
    body = json.dumps({"results": [5, {"messageId": "x-1"}, infobip_good(message)]}).encode()
    with caplog.at_level(logging.INFO):
        assert post(client, infobip_account, body).status_code == 200
    logged = warnings_for(caplog, infobip_account)
    assert "2 item(s) skipped" in logged
    assert "results[0] is not an object" in logged and "results[1]: no known status" in logged
    assert Message.objects.get(pk=message.pk).status == MessageStatus.DELIVERED


WHOLE_PAYLOADS = {
    "results is a number": b'{"results": 5}',
    "results is an object": b'{"results": {"messageId": "x"}}',
    "a list at the top": b"[1, 2]",
    "null": b"null",
    "a bare string": b'"results"',
    "10,000 nested lists": DEEP,
    "10,000 nested objects": b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
    "invalid UTF-8": b'{"results": [{"messageId": "\xff\xfe"}]}',
    "a NUL byte": b"\x00",
    "form-encoded garbage": b"results=5&messageId=%00&status[]=x",
    "empty": b"",
    "a number past Python's int digits limit": b'{"results": [{"messageId": ' + b"9" * 5000 + b"}]}",
}


@pytest.mark.parametrize("body", WHOLE_PAYLOADS.values(), ids=WHOLE_PAYLOADS.keys())
@pytest.mark.parametrize("connector", ["infobip", "instasent"])
def test_a_payload_of_no_known_shape_is_acknowledged_and_logged(
    client, infobip_account, instasent_account, caplog, body, connector
):
    account = infobip_account if connector == "infobip" else instasent_account
    message = queued_message(account)
    with caplog.at_level(logging.INFO):
        assert post(client, account, body).status_code == 200
        content_type = "application/x-www-form-urlencoded"
        assert post(client, account, body, content_type=content_type).status_code == 200
    assert warnings_for(caplog, account)  # logged with the account id
    assert Message.objects.get(pk=message.pk).status == MessageStatus.QUEUED
    assert not ConsentChange.objects.exists()
    assert_no_errors_logged(caplog)


INSTASENT_BAD_ITEMS = {
    "a number": 5,
    "null": None,
    "a list": [[]],
    "neither status nor message": {"id": "prov-9"},
    "status as an object": {"id": "prov-9", "status": {"a": 1}},
    "unknown status": {"id": "prov-9", "status": "teleported"},
    "id as a list": {"id": ["prov-1"], "clientId": {"x": 1}, "status": "delivered"},
    "id with NUL": {"id": "prov-\u00001", "status": "delivered"},
    "message as a list": {"from": "+905320000099", "message": ["STOP"], "status": "received"},
    "from as an object": {"from": {"n": "+905320000099"}, "message": "STOP"},
    "STOP from letters": {"from": "abc", "message": "STOP"},
    "STOP from a NUL-padded number": {"from": "90532000\u00000098", "message": "STOP", "status": "stop"},
    "STOP from a number too short": {"from": "+90532", "status": "stop"},
    "STOP from a number too long": {"from": "9" * 40, "status": "stop"},
}


@pytest.mark.parametrize("bad", INSTASENT_BAD_ITEMS.values(), ids=INSTASENT_BAD_ITEMS.keys())
def test_instasent_a_bad_item_is_skipped_and_the_good_report_and_stop_still_apply(
    client, instasent_account, caplog, bad
):
    message = queued_message(instasent_account)
    ContactFactory(phone="+905320000007")
    good_report = {"id": "prov-1", "clientId": message.key, "status": "delivered", "code": "0\u0000"}
    good_stop = {"id": "in-1", "from": "905320000007", "message": "STOP", "status": "stop"}
    body = json.dumps([bad, good_report, good_stop]).encode()
    with caplog.at_level(logging.INFO):
        assert post(client, instasent_account, body).status_code == 200
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED and message.raw_status == "delivered/0"
    # only the valid STOP reached the ledger
    assert list(ConsentChange.objects.values_list("recipient", flat=True)) == ["+905320000007"]
    assert Consent.objects.get().status == "RET"
    assert_no_errors_logged(caplog)


def test_a_stop_from_something_that_is_not_a_phone_number_is_dropped_with_a_log_line(client, instasent_account, caplog):
    body = json.dumps({"id": "in-1", "from": "+90abc", "message": "STOP", "status": "stop"}).encode()
    with caplog.at_level(logging.INFO):
        assert post(client, instasent_account, body).status_code == 200
    assert not Consent.objects.exists() and not ConsentChange.objects.exists()
    assert "STOP reply from '+90abc' ignored: not a valid phone number" in warnings_for(caplog, instasent_account)


@pytest.mark.django_db
def test_consent_opt_out_by_reply_writes_only_valid_phone_numbers():
    results = consent_opt_out_by_reply(
        recipients=["+905320000007", "+abc", "+90532\u00000000008", "905320000009"], origin_ref="test"
    )
    assert results[0] == "created"
    assert all(isinstance(r, Rejection) for r in results[1:])
    assert list(ConsentChange.objects.values_list("recipient", flat=True)) == ["+905320000007"]


def test_the_view_answers_200_even_when_processing_fails(client, infobip_account, caplog, settings):
    """Processing happens after the answer (on the `webhooks` queue); run eagerly, a failure in it
    is logged with its trace and the provider still gets its 200."""
    settings.WEBHOOK_EVENT_HANDLERS = ["tests.providers.test_webhook_hostile.failing_handler"]
    message = queued_message(infobip_account)
    body = json.dumps({"results": [infobip_good(message)]}).encode()
    with caplog.at_level(logging.INFO):
        assert post(client, infobip_account, body).status_code == 200
    [error] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert f"account {infobip_account.pk}" in error.getMessage() and error.exc_info[0] is RuntimeError


def failing_handler(*, account_id, events):
    raise RuntimeError("the handler broke")
