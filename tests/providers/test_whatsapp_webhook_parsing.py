"""WhatsApp webhooks as the connector reads them (providers.md §6.8): signature, handshake, statuses,
inbound messages and stops, hostile bodies."""

from __future__ import annotations

import json
import time

import pytest

from providers.base import DeliveryStatus
from providers.whatsapp import WhatsAppConnector
from providers.whatsapp.templates import STOP_PROMO_PAYLOAD
from providers.whatsapp.webhooks import sign
from tests.providers.whatsapp_support import ORDER_COMPONENTS, received_events, template_message

# --- webhooks -------------------------------------------------------------------------------------


def test_signature_right_wrong_and_missing(parser):
    body = b'{"object":"whatsapp_business_account","entry":[]}'
    good = sign(body, "test-app-secret")
    assert parser.verify_webhook(body=body, headers={"x-hub-signature-256": good})
    assert parser.verify_webhook(body=body, headers={"X-Hub-Signature-256": good.upper().replace("SHA256", "sha256")})
    assert not parser.verify_webhook(body=body + b" ", headers={"x-hub-signature-256": good})
    assert not parser.verify_webhook(body=body, headers={"x-hub-signature-256": sign(body, "other")})
    assert not parser.verify_webhook(body=body, headers={"x-hub-signature-256": good.removeprefix("sha256=")})
    assert not parser.verify_webhook(body=body, headers={"x-hub-signature-256": "sha256=zz\u00e9"})
    assert not parser.verify_webhook(body=body, headers={})
    no_secret = WhatsAppConnector(settings=parser.settings, credentials={"access_token": "x", "app_secret": ""})
    assert not no_secret.verify_webhook(body=body, headers={"x-hub-signature-256": sign(body, "")})


def test_get_handshake(parser):
    assert parser.verify_handshake(mode="subscribe", token="verify-me", challenge="1158201444") == "1158201444"
    assert parser.verify_handshake(mode="subscribe", token="wrong", challenge="1") is None
    assert parser.verify_handshake(mode="unsubscribe", token="verify-me", challenge="1") is None
    assert parser.verify_handshake(mode=None, token=None, challenge=None) is None
    blank = WhatsAppConnector(settings={}, credentials={})
    assert blank.verify_handshake(mode="subscribe", token="", challenge="1") is None


def test_batched_out_of_order_and_repeated_statuses_all_arrive(fake, sink, connector):
    fake.add_template("order_update", components=ORDER_COMPONENTS)
    fake.shuffle, fake.repeat, fake.status_batch, fake.hold_statuses = True, True, 8, True
    sink.fail_next = 1  # the first POST is refused: the fake (as Meta) delivers it again
    keys = [f"b-{n}" for n in range(6)]
    for n, key in enumerate(keys):
        connector.send(template_message(key, f"+9053212300{n:02d}"))
    time.sleep(0.1)  # every status queued in the fake before it posts them as one batch
    fake.release_statuses()
    fake.wait_for_webhooks()
    events = received_events(connector, sink, count=2)
    reports = [r for e in events for r in e.reports]
    assert len(reports) == 6 * 3 * 2  # every status, each twice
    assert {(r.key, r.raw_status) for r in reports} == {(k, s) for k in keys for s in ("sent", "delivered", "read")}
    raw = [json.loads(r["body"]) for r in sink.received]
    assert any(len(p["entry"]) > 1 for p in raw) and any(len(e["changes"]) > 1 for p in raw for e in p["entry"])
    order = [(r.key, r.raw_status) for r in reports]
    assert order != sorted(order, key=lambda x: (x[0], ["sent", "delivered", "read"].index(x[1])))
    delivered = [r for r in reports if r.raw_status == "delivered"]
    assert all(r.done_at is not None for r in delivered)
    assert fake.recipients() == {f"9053212300{n:02d}": 1 for n in range(6)}


def test_inbound_text_and_stop_words(fake, sink, connector):
    for text in ("Merhaba", "STOP", "dur", " İptal ", "IPTAL!", "iptal", "stop please"):
        fake.inbound_text("+905321234567", text)
    events = received_events(connector, sink, count=7)
    inbound = [m for e in events for m in e.inbound]
    assert [m.stop for m in inbound] == [False, True, True, True, True, True, False]
    assert inbound[0].sender == "+905321234567" and inbound[0].text == "Merhaba"
    assert inbound[0].provider_id.startswith("wamid.") and inbound[0].received_at is not None


def test_stop_promotions_button_is_a_stop(fake, sink, connector):
    fake.inbound_button("+905321234567", STOP_PROMO_PAYLOAD, "Durdur")
    fake.inbound_button("+905321234567", "MORE_INFO", "Bilgi")
    first, second = received_events(connector, sink, count=2)
    assert first.inbound[0].stop and not second.inbound[0].stop


def test_user_preference_stop_and_system_message_are_stops(parser):
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "1",
                "changes": [
                    {
                        "field": "user_preferences",
                        "value": {
                            "user_preferences": [
                                {"wa_id": "905321234567", "category": "marketing_messages", "value": "stop"},
                                {"wa_id": "905321234568", "category": "marketing_messages", "value": "resume"},
                            ]
                        },
                    },
                    {
                        "field": "messages",
                        "value": {
                            "messages": [
                                {
                                    "from": "905321234569",
                                    "type": "system",
                                    "system": {"type": "user_preference_changed", "marketing": "stop"},
                                },
                                {"from": "905321234570", "type": "image", "image": {"caption": "bak"}},
                            ]
                        },
                    },
                ],
            }
        ],
    }
    events = parser.parse_webhook(body=json.dumps(body).encode(), headers={})
    assert [(m.sender, m.stop) for m in events.inbound] == [
        ("+905321234567", True),
        ("+905321234569", True),
        ("+905321234570", False),
    ]


HOSTILE_BODIES = [
    b"",
    b"not json",
    b"\xff\xfe\x00",
    b"[]",
    b"null",
    b'"entry"',
    b'{"entry": "x"}',
    b'{"entry": [null, 1, "x", {"changes": null}, {"changes": [null, 5, {"field": "messages"}]}]}',
    b'{"entry": [{"changes": [{"field": "messages", "value": {"statuses": [null, {"id": 5}, {"status": "read"}]}}]}]}',
    b'{"entry": [{"changes": [{"field": "messages", "value": {"statuses": [{"id": "w", "status": "failed", '
    b'"errors": [null]}, {"id": "w", "status": "failed", "errors": "x"}, {"id": "w", "status": "exploded"}]}}]}]}',
    b'{"entry": [{"changes": [{"field": "messages", "value": {"messages": [{"from": 5}, {"from": "9", "type": null},'
    b' {"from": "9", "type": "text", "text": "x"}, {"from": "9", "type": "button", "button": 7}]}}]}]}',
    b'{"entry": [{"changes": [{"field": "message_template_status_update", "value": {"event": 1}}, '
    b'{"field": "message_template_status_update", "value": {"event": "APPROVED", "message_template_id": 1, '
    b'"rejection_info": "x", "other_info": [1]}}]}]}',
    b'{"entry": [{"changes": [{"field": "messages", "value": {"statuses": [{"id": "w", "status": "read", '
    b'"timestamp": "99999999999999999999"}]}}]}]}',
    b"[" * 5000 + b"]" * 5000,
]


@pytest.mark.parametrize("body", HOSTILE_BODIES)
def test_hostile_webhook_bodies_never_raise(parser, body):
    events = parser.parse_webhook(body=body, headers={})
    if not (events.reports or events.inbound or events.template_updates):
        assert events.problems  # nothing taken: the task's log line says why
    for report in events.reports:
        assert report.provider_id == "w"
    assert all(u.status == "APPROVED" for u in events.template_updates)


def test_hostile_bodies_keep_what_is_understood(parser):
    body = HOSTILE_BODIES[9]
    events = parser.parse_webhook(body=body, headers={})
    assert [r.raw_status for r in events.reports] == ["failed", "failed"]
    assert events.problems == ["status 'exploded' for w is not one we know"]
    assert all(r.status == DeliveryStatus.FAILED and r.error for r in events.reports)
    inbound = parser.parse_webhook(body=HOSTILE_BODIES[10], headers={}).inbound
    assert [(m.sender, m.text) for m in inbound] == [("+9", "[None]"), ("+9", ""), ("+9", "")]
