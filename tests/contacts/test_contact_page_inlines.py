"""The contact's page shows its newest consent changes and messages only, with a link to all of
them in their list pages filtered on the contact: a contact with 100,000 messages opens as fast as
one with three (the timeline above tells the whole story, a page at a time)."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from consent.models import ConsentChange
from messaging.models import Message
from tests.contacts.factories import ContactFactory
from tests.messaging.factories import console_account

pytestmark = pytest.mark.django_db

MAY = datetime(2025, 5, 15, 14, 23, tzinfo=ZoneInfo("Europe/Istanbul"))


def _history(contact, n: int) -> None:
    ConsentChange.objects.bulk_create(
        ConsentChange(
            contact=contact,
            recipient=contact.phone,
            recipient_type="BIREYSEL",
            type="MESAJ",
            status="ONAY" if i % 2 else "RET",
            consent_date=MAY,
            source="HS_WEB",
            origin="upload",
            origin_ref=f"change {i}",
        )
        for i in range(n)
    )


def _messages(contact, n: int, account) -> None:
    Message.objects.bulk_create(
        (
            Message(channel="sms", kind="newsletter", account=account, contact=contact, to=contact.phone, text=f"m{i}")
            for i in range(n)
        ),
        batch_size=2000,
    )


def _page(client, contact, language="en") -> str:
    response = client.get(reverse("admin:contacts_contact_change", args=[contact.pk]), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


def _rows(page: str, prefix: str) -> int:
    return len(re.findall(rf'<tr class="form-row[^"]*"\s+id="{prefix}-\d+"', page))


def test_a_contact_with_many_rows_opens_with_its_newest_and_a_link_to_all(admin_client, django_assert_max_num_queries):
    account = console_account()
    few, many = ContactFactory(phone="+905331230001"), ContactFactory(phone="+905331230002")
    _history(few, 3)
    _messages(few, 3, account)
    _history(many, 60)
    _messages(many, 5000, account)
    _page(admin_client, few)  # warm per-process caches (content types, permissions)
    with django_assert_max_num_queries(40) as small:
        page = _page(admin_client, few)
    assert _rows(page, "consent_changes") == 3 and _rows(page, "messages") == 3
    assert "latest-rows-more" not in page  # all of them are shown: no link
    with django_assert_max_num_queries(len(small.captured_queries)) as big:  # the same queries
        page = _page(admin_client, many)
    assert _rows(page, "consent_changes") == 20 and _rows(page, "messages") == 20
    assert not any(
        "COUNT(" not in q["sql"] and "LIMIT" not in q["sql"] and "channels_sms_message" in q["sql"]
        for q in big.captured_queries
    )  # no query reads every message of the contact
    newest = Message.objects.filter(contact=many).order_by("-created_at", "-id")[:20]
    shown = re.findall(r"SMS to \+905331230002", page)
    assert len(shown) == 20 and newest.count() == 20
    assert "The newest 20 are shown." in page
    messages_url = f"{reverse('admin:messaging_message_changelist')}?contact__id__exact={many.pk}"
    history_url = f"{reverse('admin:consent_consentchange_changelist')}?contact__id__exact={many.pk}"
    assert f'<a href="{messages_url}">All 5,000 messages</a>' in page
    assert f'<a href="{history_url}">All 60 consent changes</a>' in page


def test_the_links_open_the_full_lists_filtered_on_the_contact(admin_client):
    account = console_account()
    contact, other = ContactFactory(phone="+905331230003"), ContactFactory(phone="+905331230004")
    _history(contact, 25)
    _history(other, 2)
    _messages(contact, 25, account)
    _messages(other, 2, account)
    messages = admin_client.get(reverse("admin:messaging_message_changelist"), {"contact__id__exact": contact.pk})
    assert messages.status_code == 200
    assert {m.contact_id for m in messages.context["cl"].result_list} == {contact.pk}
    assert len(messages.context["cl"].result_list) == 25
    history = admin_client.get(reverse("admin:consent_consentchange_changelist"), {"contact__id__exact": contact.pk})
    assert history.status_code == 200
    assert {c.contact_id for c in history.context["cl"].result_list} == {contact.pk}
    assert len(history.context["cl"].result_list) == 25


def test_the_link_is_in_the_users_language(admin_client):
    contact = ContactFactory(phone="+905331230005")
    _history(contact, 1500)
    page = _page(admin_client, contact, language="tr")
    assert "En yeni 20 kayıt gösteriliyor." in page and "İzin geçmişinin tümü (1.500 değişiklik)" in page


def test_a_marketer_sees_the_page_and_follows_the_links(client, marketer):
    account = console_account()
    contact = ContactFactory(phone="+905331230006")
    _history(contact, 21)
    _messages(contact, 21, account)
    client.force_login(marketer)
    page = _page(client, contact)
    for url in re.findall(r'<p class="latest-rows-more"[^>]*>[^<]*<a href="([^"]+)"', page):
        response = client.get(url.replace("&amp;", "&"))
        assert response.status_code == 200 and len(response.context["cl"].result_list) == 21


def test_counting_stops_at_the_cap(admin_client, monkeypatch):
    from contacts.admin_inlines import LatestRowsFormSet

    monkeypatch.setattr(LatestRowsFormSet, "count_cap", 100)
    contact = ContactFactory(phone="+905331230007")
    _history(contact, 150)
    assert "All 100+ consent changes" in _page(admin_client, contact)


def test_the_page_saves_with_the_newest_rows_it_showed(admin_client):
    """The form posts back the rows it showed (the newest 20): saving the contact works and
    touches none of them, even when newer rows arrived in between."""
    account = console_account()
    contact = ContactFactory(phone="+905331230008")
    _history(contact, 25)
    _messages(contact, 25, account)
    url = reverse("admin:contacts_contact_change", args=[contact.pk])
    page = admin_client.get(url)
    form = page.context["adminform"].form
    data = {name: form.initial.get(name) or "" for name in ("external_id", "email", "phone", "phone_status")}
    data["whatsapp_number"] = ""
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        data[f"{formset.prefix}-TOTAL_FORMS"] = str(len(formset.forms))
        data[f"{formset.prefix}-INITIAL_FORMS"] = str(formset.initial_form_count())
        for i, row in enumerate(formset.initial_forms):
            data[f"{formset.prefix}-{i}-id"] = str(row.instance.pk)
            data[f"{formset.prefix}-{i}-contact"] = str(contact.pk)
    assert data["consent_changes-INITIAL_FORMS"] == "20" and data["messages-INITIAL_FORMS"] == "20"
    _history(contact, 3)  # newer rows: the 20 newest are no longer the ones posted
    response = admin_client.post(url, {**data, "email": "new@example.com"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302, response.context["errors"] if response.context else response
    contact.refresh_from_db()
    assert contact.email == "new@example.com"
    assert ConsentChange.objects.filter(contact=contact).count() == 28
    assert Message.objects.filter(contact=contact).count() == 25
