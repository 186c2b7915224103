"""The benchmark's light stand-in for the send endpoint (tests/fakes/whatsapp/quick_sends.py) answers a
send as the fake Cloud API does and keeps the same books, so the benchmark's counts of duplicates and
losses mean what they meant with the full fake."""

from __future__ import annotations

import pytest

from providers.base import OutboundMessage, SendResult
from tests.fakes.whatsapp.quick_sends import QuickSends
from tests.providers.whatsapp_support import make_connector

BODY = [{"type": "BODY", "text": "Merhaba {{1}}", "example": {"body_text": [["Ayşe"]]}}]


def message(key: str, to: str, *, template: str = "promo", names=("Ayşe",)) -> OutboundMessage:
    components = [{"type": "body", "parameters": [{"type": "text", "text": n} for n in names]}]
    return OutboundMessage(
        key=key, to=to, text="", sender="", commercial=True, template_name=template, template_language="tr",
        template_components=components,
    )  # fmt: skip


def shape(outcome) -> tuple:
    if isinstance(outcome, SendResult):
        return ("result", outcome.status, outcome.raw_status)
    return ("error", outcome.code, outcome.maybe_sent, outcome.permanent, bool(outcome.retry_after))


@pytest.fixture
def quick(fake):
    fake.add_template("promo", components=BODY)
    fake.add_template("stopped", components=BODY, status="PAUSED")
    sends = QuickSends(access_token=fake.access_token, phone_number_id=fake.phone_number_id, templates=fake.templates)
    yield sends.start()
    sends.stop()


def test_the_stand_in_answers_sends_as_the_fake_does_and_keeps_its_books(fake, quick):
    batch = [
        message("ok-1", "+905321110001"),
        message("ok-2", "+905321110011"),
        message("throughput", "+905320000429"),
        message("pair", "+905320000056"),
        message("spam", "+905320000048"),
        message("unknown", "+905321110021", template="nope"),
        message("paused", "+905321110031", template="stopped"),
        message("params", "+905321110041", names=("a", "b")),
        message("bad-number", "+12"),
    ]
    by_fake = make_connector(fake).send_each(batch)
    by_stand_in = make_connector(fake, base_url=quick.url).send_each(batch)
    assert [shape(o) for o in by_stand_in] == [shape(o) for o in by_fake]
    assert quick.keys() == fake.keys() == {"ok-1": 1, "ok-2": 1}
    assert quick.recipients() == fake.recipients()
    stranger = [message("x", "+905321110051")]
    refused = make_connector(fake, base_url=quick.url, access_token="nope").send_each(stranger)
    assert shape(refused[0]) == shape(make_connector(fake, access_token="nope").send_each(stranger)[0])
    assert refused[0].account_problem
    quick.clear()
    assert quick.books() == []
