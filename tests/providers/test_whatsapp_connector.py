"""The WhatsApp connector against the fake Cloud API over real HTTP on 127.0.0.1 (providers.md §6)."""

from __future__ import annotations

import json
import time

import pytest

from providers.base import DeliveryStatus, OutboundMessage, SendError
from providers.registry import connector_class
from providers.services import account_validate
from providers.whatsapp import WhatsAppConnector, client, new_verify_token
from providers.whatsapp.errors import WhatsAppSendError
from providers.whatsapp.templates import STOP_PROMO_PAYLOAD, send_components, template_problems
from providers.whatsapp.webhooks import sign
from tests.fakes.whatsapp import FakeWhatsApp

ORDER_COMPONENTS = [
    {"type": "HEADER", "format": "TEXT", "text": "Siparişiniz {{1}}", "example": {"header_text": ["#123"]}},
    {
        "type": "BODY",
        "text": "Merhaba {{1}}, siparişiniz {{2}} tarihinde yola çıktı.",
        "example": {"body_text": [["Ayşe", "1 Mayıs"]]},
    },
    {"type": "FOOTER", "text": "Bildirimleri durdurmak için butona dokunun"},
    {
        "type": "BUTTONS",
        "buttons": [
            {"type": "QUICK_REPLY", "text": "Durdur"},
            {"type": "URL", "text": "Takip et", "url": "https://ex.com/t/{{1}}", "example": ["ORDER123"]},
        ],
    },
]


def make_connector(fake: FakeWhatsApp, **overrides) -> WhatsAppConnector:
    settings = {
        "base_url": fake.url,
        "api_version": "v23.0",
        "waba_id": fake.waba_id,
        "phone_number_id": fake.phone_number_id,
        "rate_limit": 80,
        "verify_token": "verify-me",
    }
    credentials = {"access_token": fake.access_token, "app_secret": fake.app_secret}
    for key, value in overrides.items():
        (credentials if key in credentials else settings)[key] = value
    return WhatsAppConnector(settings=settings, credentials=credentials)


@pytest.fixture
def connector(fake):
    return make_connector(fake)


@pytest.fixture
def parser():
    """A connector for what needs no server: signatures, the handshake, parsing bodies."""
    settings = {"waba_id": "1", "phone_number_id": "2", "verify_token": "verify-me"}
    return WhatsAppConnector(settings=settings, credentials={"access_token": "x", "app_secret": "test-app-secret"})


def template_message(key: str, to: str, *, name="order_update", body=("Ayşe", "1 Mayıs"), **extra) -> OutboundMessage:
    components = send_components(header=["#123"], body=body, buttons=[("url", 1, "ORDER123")])
    return OutboundMessage(
        key=key,
        to=to,
        text="",
        sender="",
        commercial=True,
        template_name=name,
        template_language="tr",
        template_components=extra.pop("components", components),
    )


def received_events(connector, sink, count: int = 1, timeout: float = 5.0):
    """The events of the webhooks the sink took, each verified as our webhook view would."""
    deadline = time.monotonic() + timeout
    while len(sink.received) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(sink.received) >= count, f"only {len(sink.received)} webhook(s) arrived"
    events = []
    for request in sink.received:
        assert connector.verify_webhook(body=request["body"], headers=request["headers"])
        events.append(connector.parse_webhook(body=request["body"], headers=request["headers"]))
    return events


# --- registration and settings --------------------------------------------------------------


def test_whatsapp_connector_is_registered_on_the_whatsapp_channel():
    cls = connector_class("whatsapp")
    assert cls is WhatsAppConnector
    assert cls.channel == "whatsapp"
    assert not cls.idempotent and cls.one_per_request  # Meta takes one message a request, no idempotency key
    assert set(cls.secret_fields) == {"access_token", "app_secret"}


def test_settings_form_fills_defaults_and_a_verify_token():
    settings, secrets = account_validate(
        connector="whatsapp",
        values={
            "waba_id": "102290129340398",
            "phone_number_id": "106540352242922",
            "access_token": "tok-SECRET",
            "app_secret": "s",
        },
    )
    assert settings["base_url"] == "https://graph.facebook.com"
    assert settings["api_version"] == "v23.0"
    assert settings["rate_limit"] == 80
    assert len(settings["verify_token"]) >= 24
    assert secrets == {"access_token": "tok-SECRET", "app_secret": "s"}
    assert "tok-SECRET" not in repr(WhatsAppConnector(settings=settings, credentials=secrets).graph)
    again, _ = account_validate(connector="whatsapp", values={**settings, **secrets})
    assert again["verify_token"] == settings["verify_token"]  # a kept token is not replaced
    assert new_verify_token() != new_verify_token()


def test_settings_form_refuses_bad_ids_and_versions():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        account_validate(
            connector="whatsapp",
            values={
                "waba_id": "abc",
                "phone_number_id": "1",
                "api_version": "23",
                "access_token": "t",
                "app_secret": "s",
            },
        )
    assert set(caught.value.message_dict) == {"waba_id", "api_version"}


# --- test_connection --------------------------------------------------------------------------


def test_connection_ok_names_the_number(connector):
    result = connector.test_connection()
    assert result.ok, result.message
    assert "908501234567" in result.message and "Test Brand" in result.message


def test_connection_with_a_bad_token_says_so(fake):
    result = make_connector(fake, access_token="wrong").test_connection()
    assert not result.ok
    assert "access token" in result.message and "expired" in result.message


def test_connection_with_a_wrong_phone_number_id_says_which_id(fake):
    result = make_connector(fake, phone_number_id="999").test_connection()
    assert not result.ok
    assert "phone number id 999" in result.message


def test_connection_with_a_wrong_waba_id_says_which_id(fake):
    result = make_connector(fake, waba_id="888").test_connection()
    assert not result.ok
    assert "WhatsApp Business account id 888" in result.message


def test_connection_without_permission_says_which_permissions(fake):
    fake.limited_tokens.add("limited")
    result = make_connector(fake, access_token="limited").test_connection()
    assert not result.ok
    assert "no permission" in result.message and "whatsapp_business_messaging" in result.message


def test_connection_to_nothing_says_unreachable(fake):
    result = make_connector(fake, base_url="http://127.0.0.1:9").test_connection()
    assert not result.ok and "could not be reached" in result.message


# --- templates ----------------------------------------------------------------------------------


def test_template_list_follows_every_page(fake, connector):
    ids = {fake.add_template(f"promo_{n}", body="Merhaba {{1}}") for n in range(5)}
    fake.add_template("pending_one", status="PENDING")
    templates = connector.templates_list()
    assert {t.id for t in templates} >= ids and len(templates) == 6
    assert len([r for r in fake.requests if "message_templates" in r["path"]]) == 3  # 2 a page
    assert all(r["headers"]["Authorization"] == "Bearer test-token" for r in fake.requests)
    first = next(t for t in templates if t.name == "promo_0")
    assert (first.language, first.category, first.status, first.sendable) == ("tr", "MARKETING", "APPROVED", True)
    assert first.parameter_counts() == {"body": 1}
    assert [t.name for t in connector.templates_list(status="PENDING")] == ["pending_one"]


def test_template_list_never_sends_the_token_to_another_host(fake, connector):
    for n in range(3):
        fake.add_template(f"t_{n}")
    original = fake._list_templates

    def foreign_next(version, query):
        page = original(version, query)
        if "next" in page["paging"]:
            page["paging"]["next"] = page["paging"]["next"].replace(fake.url, "http://evil.invalid")
        return page

    fake._list_templates = foreign_next
    assert len(connector.templates_list()) == 3  # followed by cursor on our own host


def test_template_create_is_pending_then_approved_by_signed_webhook(fake, sink, connector):
    created = connector.template_create(
        name="order_update", language="tr", category="UTILITY", components=ORDER_COMPONENTS
    )
    assert created.status == "PENDING" and created.id
    assert connector.template_get(template_id=created.id).status == "PENDING"
    assert fake.approve(created.id) == 200
    (events,) = received_events(connector, sink)
    (update,) = events.template_updates
    assert (update.template_id, update.name, update.language, update.status) == (
        created.id,
        "order_update",
        "tr",
        "APPROVED",
    )
    assert connector.template_get(template_id=created.id).sendable


def test_template_rejection_comes_back_with_the_reason(fake, sink, connector):
    created = connector.template_create(
        name="bad_one", language="tr", category="MARKETING", components=ORDER_COMPONENTS
    )
    fake.reject(created.id, reason="INVALID_FORMAT", recommendation="Remove the emoji")
    (events,) = received_events(connector, sink)
    (update,) = events.template_updates
    assert update.status == "REJECTED"
    assert "invalid format" in update.reason and "Remove the emoji" in update.reason
    (listed,) = connector.templates_list()
    assert listed.rejected_reason == "INVALID_FORMAT"


def test_template_pause_and_disable_arrive_as_updates(fake, sink, connector):
    template_id = fake.add_template("weekly")
    fake.pause(template_id)
    fake.disable(template_id)
    first, second = received_events(connector, sink, count=2)
    assert first.template_updates[0].status == "PAUSED" and "low quality" in first.template_updates[0].reason
    assert second.template_updates[0].status == "DISABLED"


def test_template_over_meta_limits_is_refused_before_submitting(fake, connector):
    components = [{"type": "BODY", "text": "x" * 1025}, {"type": "FOOTER", "text": "Hi {{1}}"}]
    with pytest.raises(WhatsAppSendError) as caught:
        connector.template_create(name="Bad Name", language="tr", category="PROMO", components=components)
    message = str(caught.value)
    assert "lowercase" in message and "category" in message and "1025" in message and "footer" in message
    assert not [r for r in fake.requests if r["method"] == "POST"]
    assert template_problems(name="order_update", category="UTILITY", components=ORDER_COMPONENTS) == []


def test_template_duplicate_and_delete(fake, connector):
    connector.template_create(name="dup", language="tr", category="UTILITY", components=ORDER_COMPONENTS)
    with pytest.raises(WhatsAppSendError) as caught:
        connector.template_create(name="dup", language="tr", category="UTILITY", components=ORDER_COMPONENTS)
    assert caught.value.permanent and "already exists" in str(caught.value)
    assert connector.template_delete(name="dup")
    assert connector.templates_list() == []


# --- sending ------------------------------------------------------------------------------------


def test_template_send_is_accepted_with_our_key_and_statuses_come_back(fake, sink, connector):
    fake.add_template("order_update", category="UTILITY", components=ORDER_COMPONENTS)
    (result,) = connector.send_batch([template_message("msg-1", "+905321234567")])
    assert result.status == DeliveryStatus.QUEUED and result.provider_id.startswith("wamid.")
    sent = json.loads(fake.requests[-1]["body"])
    assert sent["biz_opaque_callback_data"] == "msg-1" and sent["to"] == "905321234567"
    assert sent["type"] == "template" and sent["template"]["language"] == {"code": "tr"}
    fake.wait_for_webhooks()
    reports = [r for events in received_events(connector, sink) for r in events.reports]
    assert [r.raw_status for r in reports] == ["sent", "delivered", "read"]
    assert {r.key for r in reports} == {"msg-1"} and {r.provider_id for r in reports} == {result.provider_id}
    read = reports[-1]
    assert read.status == DeliveryStatus.DELIVERED and read.read_at is not None
    assert fake.keys() == {"msg-1": 1}


def test_matching_parameters_never_produce_132000(fake, connector):
    fake.add_template("order_update", components=ORDER_COMPONENTS)
    fake.add_template("plain", body="Hello {{1}} and {{2}}")
    fake.add_template("no_vars", body="Hello")
    messages = [
        template_message("m-1", "+905321230001"),
        template_message("m-2", "+905321230002", name="plain", components=send_components(body=["a", "b"])),
        template_message("m-3", "+905321230003", name="no_vars", components=send_components()),
        template_message(
            "m-4",
            "+905321230004",
            components=send_components(
                header=["#9"], body=["x", "y"], buttons=[("quick_reply", 0, STOP_PROMO_PAYLOAD), ("url", 1, "Z")]
            ),
        ),
    ]
    results = [connector.send(m) for m in messages]
    assert [r.status for r in results] == [DeliveryStatus.QUEUED] * 4, [r.error for r in results]


def test_parameter_count_mismatch_is_132000_rejected_in_words(fake, connector):
    fake.add_template("order_update", components=ORDER_COMPONENTS)
    result = connector.send(template_message("m-1", "+905321234567", body=("only one",)))
    assert result.status == DeliveryStatus.REJECTED and result.raw_status == "132000"
    assert "number of template parameters does not match" in result.error and "body" in result.error
    assert not fake.accepted


@pytest.mark.parametrize(
    ("status", "code", "words"),
    [("PENDING", "132001", "not approved"), ("PAUSED", "132015", "paused"), ("DISABLED", "132016", "disabled")],
)
def test_template_not_sendable_is_rejected_with_the_reason(fake, connector, status, code, words):
    fake.add_template("order_update", components=ORDER_COMPONENTS, status=status)
    result = connector.send(template_message("m-1", "+905321234567"))
    assert (result.status, result.raw_status) == (DeliveryStatus.REJECTED, code)
    assert words in result.error


def test_unknown_template_language_is_132001(fake, connector):
    fake.add_template("order_update", components=ORDER_COMPONENTS, language="en")
    result = connector.send(template_message("m-1", "+905321234567"))
    assert result.raw_status == "132001" and "does not exist in this language" in result.error


@pytest.mark.parametrize(
    ("number", "status", "code", "consent_refused"),
    [
        ("+905320000026", DeliveryStatus.UNDELIVERED, 131026, False),
        ("+905320000047", DeliveryStatus.REJECTED, 131047, False),
        ("+905320000049", DeliveryStatus.REJECTED, 131049, False),
        ("+905320000472", DeliveryStatus.REJECTED, 130472, False),
        ("+905320000050", DeliveryStatus.REJECTED, 131050, True),
    ],
)
def test_async_failures_map_to_statuses_and_words(fake, sink, connector, number, status, code, consent_refused):
    fake.add_template("order_update", components=ORDER_COMPONENTS)
    assert connector.send(template_message("k-1", number)).status == DeliveryStatus.QUEUED
    fake.wait_for_webhooks()
    (events,) = received_events(connector, sink)
    (report,) = events.reports
    assert (report.status, report.raw_status, report.key) == (status, f"failed/{code}", "k-1")
    assert report.consent_refused is consent_refused
    assert report.error.startswith(f"WhatsApp error {code}: ") and not report.retryable


def test_free_text_outside_the_window_fails_131047_and_inside_is_delivered(fake, sink, connector):
    def text(key, to):
        return OutboundMessage(key=key, to=to, text="Merhaba", sender="", commercial=False)

    assert connector.send(text("t-out", "+905321110000")).status == DeliveryStatus.QUEUED
    fake.wait_for_webhooks()
    fake.inbound_text("+905322220000", "Merhaba")  # opens the window for this number
    assert connector.send(text("t-in", "+905322220000")).status == DeliveryStatus.QUEUED
    fake.wait_for_webhooks()
    reports = {(r.key, r.raw_status) for events in received_events(connector, sink, count=3) for r in events.reports}
    assert ("t-out", "failed/131047") in reports and ("t-in", "delivered") in reports
    assert ("t-in", "failed/131047") not in reports
    assert json.loads(fake.requests[0]["body"])["text"] == {"body": "Merhaba", "preview_url": False}


def test_throughput_130429_backs_off(fake, connector):
    with pytest.raises(SendError) as caught:
        connector.send_batch([template_message("k", "+905320000429")])
    error = caught.value
    assert not error.permanent and not error.maybe_sent and error.retry_after and error.code == "130429"
    assert not error.per_recipient and "throughput" in str(error)


def test_pair_rate_131056_delays_that_recipient(fake, connector):
    with pytest.raises(WhatsAppSendError) as caught:
        connector.send(template_message("k", "+905320000056"))
    assert caught.value.per_recipient and caught.value.retry_after >= 6 and not caught.value.permanent


@pytest.mark.parametrize("number", ["+905320000048", "+905320000064"])
def test_spam_and_classification_limits_stop_the_campaign(fake, connector, number):
    with pytest.raises(WhatsAppSendError) as caught:
        connector.send(template_message("k", number))
    assert caught.value.stop_campaign and caught.value.permanent
    assert caught.value.status == DeliveryStatus.FAILED
    assert caught.value.meta_code in (131048, 131064)


def test_bad_token_on_send_is_an_account_problem(fake):
    with pytest.raises(WhatsAppSendError) as caught:
        make_connector(fake, access_token="tok-SECRET-123").send(template_message("k", "+905321234567"))
    error = caught.value
    assert error.account_problem and error.permanent and error.status == DeliveryStatus.FAILED
    assert error.code == "190" and "access token" in str(error)
    assert "tok-SECRET-123" not in str(error) + repr(error.args)  # the token itself never appears


def test_server_error_after_accepting_is_maybe_sent(fake, connector):
    fake.add_template("order_update", components=ORDER_COMPONENTS)
    with pytest.raises(WhatsAppSendError) as caught:
        connector.send(template_message("k", "+905320000500"))
    assert caught.value.maybe_sent and not caught.value.permanent
    assert fake.keys() == {"k": 1}  # it did arrive: the dispatcher must not send it again


def test_read_timeout_is_maybe_sent(fake, connector, monkeypatch):
    monkeypatch.setattr(client, "READ_TIMEOUT", 0.2)
    fake.response_delay = 0.6
    with pytest.raises(WhatsAppSendError) as caught:
        connector.send(OutboundMessage(key="k", to="+905321234567", text="x", sender="", commercial=False))
    assert caught.value.maybe_sent


def test_refused_connection_is_not_maybe_sent(fake):
    with pytest.raises(WhatsAppSendError) as caught:
        make_connector(fake, base_url="http://127.0.0.1:9").send(
            OutboundMessage(key="k", to="+905321234567", text="x", sender="", commercial=False)
        )
    assert not caught.value.maybe_sent


def test_batch_error_after_an_accepted_message_never_makes_it_look_unsent(fake, connector):
    fake.add_template("order_update", components=ORDER_COMPONENTS)
    results = connector.send_batch(
        [
            template_message("a", "+905321234567"),
            template_message("b", "+905320000429"),
            template_message("c", "+905321234568"),
        ]
    )
    assert [r.status for r in results] == [DeliveryStatus.QUEUED, DeliveryStatus.FAILED, DeliveryStatus.FAILED]
    assert results[1].error.startswith("not sent") and fake.keys() == {"a": 1}


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


def test_named_parameters_are_sent_by_name(fake, connector):
    fake.add_template("named", body="Hi {{first_name}}, code {{code}}", parameter_format="NAMED")
    good = send_components(body={"first_name": "Ayşe", "code": "X1"})
    wrong = send_components(body={"first_name": "Ayşe", "coupon": "X1"})
    assert connector.send(template_message("n-1", "+905321234567", name="named", components=good)).provider_id
    assert (
        connector.send(template_message("n-2", "+905321234567", name="named", components=wrong)).raw_status == "132000"
    )
    named = [
        {
            "type": "BODY",
            "text": "Hi {{first_name}}",
            "example": {"body_text_named_params": [{"param_name": "first_name", "example": "Ayşe"}]},
        }
    ]
    assert template_problems(name="named_two", category="UTILITY", components=named) == []


def test_template_calls_with_a_bad_token_are_an_account_problem(fake):
    with pytest.raises(WhatsAppSendError) as caught:
        make_connector(fake, access_token="nope").templates_list()
    assert caught.value.account_problem and caught.value.permanent and "listing templates" in str(caught.value)


def test_send_each_gives_every_message_its_own_outcome(fake, connector):
    """Several requests at once: a refusal (131056 for one recipient, a template error for another)
    concerns that message only; the others are accepted."""
    from providers.base import OutboundMessage, SendResult
    from providers.whatsapp.errors import WhatsAppSendError

    fake.add_template("hello", components=[{"type": "BODY", "text": "Merhaba"}])
    numbers = [f"9053200{i:05d}" for i in range(20)] + ["905320000056"]
    messages = [
        OutboundMessage(key=f"k-{i}", to=f"+{n}", text="", sender="", commercial=True, template_name="hello",
                        template_language="tr")
        for i, n in enumerate(numbers)
    ]  # fmt: skip
    messages.append(
        OutboundMessage(key="k-x", to="+905320000777", text="", sender="", commercial=True, template_name="nope",
                        template_language="tr")
    )  # fmt: skip
    outcomes = connector.send_each(messages)
    assert len(outcomes) == len(messages)
    refused = [o for o in outcomes[:20] if not (isinstance(o, SendResult) and o.status == "queued")]
    assert not refused
    assert isinstance(outcomes[20], WhatsAppSendError) and outcomes[20].per_recipient
    assert (
        isinstance(outcomes[21], SendResult)
        and outcomes[21].status == "rejected"
        and "132001" in outcomes[21].raw_status
    )
    assert sorted(fake.recipients()) == sorted(numbers[:20])
