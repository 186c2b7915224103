"""The WhatsApp connector against the fake Cloud API over real HTTP on 127.0.0.1 (providers.md §6):
its settings, "Test connection" and templates."""

from __future__ import annotations

import pytest

from providers.registry import connector_class
from providers.services import account_validate
from providers.whatsapp import WhatsAppConnector, new_verify_token
from providers.whatsapp.errors import WhatsAppSendError
from providers.whatsapp.templates import template_problems
from tests.providers.whatsapp_support import ORDER_COMPONENTS, make_connector, received_events

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
