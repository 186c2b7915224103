"""The fake WhatsApp Cloud API itself, spoken to with plain HTTP (not through the connector), so a
mistake shared by the connector and the fake does not hide (providers.md §6.9)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import requests

AUTH = {"Authorization": "Bearer test-token"}


def graph(fake, method, path, **kwargs):
    kwargs.setdefault("headers", AUTH)
    return requests.request(method, f"{fake.url}/v23.0/{path}", timeout=5, **kwargs)


def send(fake, body: dict):
    return graph(fake, "POST", f"{fake.phone_number_id}/messages", json={"messaging_product": "whatsapp", **body})


def signed_bodies(sink, secret="test-app-secret"):  # noqa: S107
    """Each received webhook's JSON, after checking its signature with our own HMAC."""
    bodies = []
    for request in sink.received:
        expected = "sha256=" + hmac.new(secret.encode(), request["body"], hashlib.sha256).hexdigest()
        assert request["headers"]["X-Hub-Signature-256"] == expected
        bodies.append(json.loads(request["body"]))
    return bodies


def test_wrong_token_is_401_code_190_and_limited_token_is_code_10(fake):
    answer = graph(fake, "GET", fake.phone_number_id, headers={"Authorization": "Bearer nope"})
    assert answer.status_code == 401 and answer.json()["error"]["code"] == 190
    fake.limited_tokens.add("limited")
    answer = graph(fake, "GET", fake.phone_number_id, headers={"Authorization": "Bearer limited"})
    assert answer.status_code == 403 and answer.json()["error"]["code"] == 10
    assert graph(fake, "GET", fake.phone_number_id).json()["display_phone_number"] == fake.display_number


def test_unknown_id_is_code_100_subcode_33(fake):
    error = graph(fake, "GET", "12345").json()["error"]
    assert (error["code"], error["error_subcode"]) == (100, 33) and "12345" in error["message"]
    assert requests.get(f"{fake.url}/nover/{fake.phone_number_id}", headers=AUTH, timeout=5).status_code == 400


def test_template_pages_link_to_each_other_until_the_last(fake):
    for n in range(5):
        fake.add_template(f"t_{n}")
    names, url, pages = [], f"{fake.url}/v23.0/{fake.waba_id}/message_templates?limit=100", 0
    while url:
        page = requests.get(url, headers=AUTH, timeout=5).json()
        names += [t["name"] for t in page["data"]]
        assert page["paging"]["cursors"]["after"]
        url, pages = page["paging"].get("next"), pages + 1
    assert names == [f"t_{n}" for n in range(5)] and pages == 3


def test_create_is_pending_duplicates_refused_and_delete_removes(fake):
    body = {"name": "hello", "language": "tr", "category": "UTILITY", "components": [{"type": "BODY", "text": "Hi"}]}
    created = graph(fake, "POST", f"{fake.waba_id}/message_templates", json=body).json()
    assert created["status"] == "PENDING" and created["category"] == "UTILITY"
    again = graph(fake, "POST", f"{fake.waba_id}/message_templates", json=body).json()["error"]
    assert (again["code"], again["error_subcode"]) == (100, 2388024)
    assert graph(fake, "GET", created["id"]).json()["status"] == "PENDING"
    bad = graph(fake, "POST", f"{fake.waba_id}/message_templates", json={**body, "name": "Bad-Name"})
    assert bad.status_code == 400
    assert graph(fake, "DELETE", f"{fake.waba_id}/message_templates", params={"name": "hello"}).json() == {
        "success": True
    }
    assert fake.templates == {}


def test_approve_posts_a_signed_template_webhook(fake, sink):
    template_id = fake.add_template("promo", status="PENDING")
    assert fake.approve(template_id) == 200
    (payload,) = signed_bodies(sink)
    change = payload["entry"][0]["changes"][0]
    assert change["field"] == "message_template_status_update"
    assert change["value"]["event"] == "APPROVED" and str(change["value"]["message_template_id"]) == template_id
    assert fake.templates[template_id]["status"] == "APPROVED"


def test_sends_are_checked_against_the_stored_template(fake):
    fake.add_template("promo", body="Merhaba {{1}}, {{2}}")
    fake.add_template("quiet", status="PAUSED")

    def template(name, params, language="tr"):
        components = [{"type": "body", "parameters": [{"type": "text", "text": p} for p in params]}]
        return {
            "to": "905321234567",
            "type": "template",
            "template": {"name": name, "language": {"code": language}, "components": components},
        }

    missing = send(fake, template("promo", ["a", "b"], language="en"))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == 132001
    wrong = send(fake, template("promo", ["a"])).json()["error"]
    assert (
        wrong["code"] == 132000
        and "(1) does not match the expected number of params (2)" in (wrong["error_data"]["details"])
    )
    assert send(fake, template("quiet", [])).json()["error"]["code"] == 132015
    ok = send(fake, template("promo", ["a", "b"]))
    assert ok.status_code == 200 and ok.json()["messages"][0]["id"].startswith("wamid.")
    assert len(fake.accepted) == 1


def test_books_count_every_accepted_send_including_repeats(fake):
    fake.inbound_text("+905321234567", "hi")
    for _ in range(2):  # Meta has no idempotency key: the same key twice is two messages
        send(fake, {"to": "905321234567", "type": "text", "text": {"body": "x"}, "biz_opaque_callback_data": "k1"})
    send(fake, {"to": "905321234560", "type": "text", "text": {"body": "x"}, "biz_opaque_callback_data": "k2"})
    assert fake.keys() == {"k1": 2, "k2": 1}
    assert fake.recipients() == {"905321234567": 2, "905321234560": 1}


def test_magic_numbers(fake, sink):
    fake.inbound_text("+905320000009", "hi")
    fake.inbound_text("+905320000026", "hi")
    sink.received.clear()

    def text(to):
        return send(fake, {"to": to, "type": "text", "text": {"body": "x"}})

    assert text("905320000429").json()["error"]["code"] == 130429
    assert text("905320000056").json()["error"]["code"] == 131056
    assert text("905320000048").json()["error"]["code"] == 131048
    assert text("905320000500").status_code == 500  # yet it was accepted:
    assert fake.recipients()["905320000500"] == 1
    assert text("905320000009").status_code == 200
    assert text("905320000026").status_code == 200
    fake.wait_for_webhooks()
    statuses = [
        s for p in signed_bodies(sink) for e in p["entry"] for c in e["changes"] for s in c["value"]["statuses"]
    ]
    by_number = {}
    for status in statuses:
        by_number.setdefault(status["recipient_id"], []).append(status)
    assert "905320000009" not in by_number  # silent
    (failed,) = by_number["905320000026"]
    assert failed["status"] == "failed" and failed["errors"][0]["code"] == 131026
    assert by_number["905320000500"][0]["errors"][0]["code"] == 131047  # free text, outside the window


def test_a_refused_callback_gets_the_statuses_again(fake, sink):
    fake.inbound_text("+905321234567", "hi")
    sink.received.clear()
    sink.fail_next = 2
    send(fake, {"to": "905321234567", "type": "text", "text": {"body": "x"}})
    fake.wait_for_webhooks()
    statuses = [
        s["status"]
        for p in signed_bodies(sink)
        for e in p["entry"]
        for c in e["changes"]
        for s in c["value"]["statuses"]
    ]
    assert sorted(statuses) == ["delivered", "read", "sent"]


def test_inbound_opens_the_window_for_free_text(fake, sink):
    assert "905321234567" not in fake.last_inbound
    fake.inbound_text("+905321234567", "Merhaba", at=time.time() - 25 * 3600)  # an old message: window closed
    send(fake, {"to": "905321234567", "type": "text", "text": {"body": "x"}})
    fake.wait_for_webhooks()
    last = signed_bodies(sink)[-1]["entry"][0]["changes"][0]["value"]["statuses"][0]
    assert last["status"] == "failed" and last["errors"][0]["code"] == 131047
