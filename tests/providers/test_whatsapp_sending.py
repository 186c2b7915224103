"""WhatsApp sends against the fake Cloud API over real HTTP on 127.0.0.1 (providers.md §6.5-§6.7):
what is accepted, each error in words, and what may have left."""

from __future__ import annotations

import json

import pytest

from providers.base import DeliveryStatus, OutboundMessage, SendError
from providers.whatsapp import client
from providers.whatsapp.errors import WhatsAppSendError
from providers.whatsapp.templates import STOP_PROMO_PAYLOAD, send_components, template_problems
from tests.providers.whatsapp_support import ORDER_COMPONENTS, make_connector, received_events, template_message

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
