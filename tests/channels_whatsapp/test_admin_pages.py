"""Settings → Channels → WhatsApp in the admin, as a marketer, against the fake Cloud API over real
HTTP: the template list and its sync, the editor (submit, draft, problems, Meta's refusals), a
submitted template's variables, the campaign form, its preview and sending, the test send, and the
read-only customer service windows (product.md WhatsApp channel)."""

import re
import time

import pytest
from django.urls import reverse
from django.utils import timezone

from channels_whatsapp.models import ServiceWindow, TemplateStatus, WhatsAppTemplate
from channels_whatsapp.services import templates_sync
from contacts.models import Contact, ContactList
from messaging.models import Campaign, Message
from providers.services import account_install
from tests.channels_whatsapp.helpers import ORDER

pytestmark = pytest.mark.django_db

TEMPLATES = reverse("admin:channels_whatsapp_whatsapptemplate_changelist")
ADD_TEMPLATE = reverse("admin:channels_whatsapp_whatsapptemplate_add")
SYNC = reverse("admin:channels_whatsapp_whatsapptemplate_sync")
ADD_CAMPAIGN = reverse("admin:channels_whatsapp_whatsappcampaign_add")
# a body of two variables, as a marketer types it (the account is added per test)
ORDER_FORM = {k: v for k, v in ORDER.items() if not k.startswith(("header", "button", "stop"))}


def template_page(template) -> str:
    return reverse("admin:channels_whatsapp_whatsapptemplate_change", args=[template.pk])


def whatsapp_account(fake, name="WA", **values):
    return account_install(
        name=name,
        connector="whatsapp",
        values={
            "base_url": fake.url,
            "waba_id": fake.waba_id,
            "phone_number_id": fake.phone_number_id,
            "access_token": fake.access_token,
            "app_secret": fake.app_secret,
            **values,
        },
    )


@pytest.fixture
def account(fake):
    return whatsapp_account(fake, price_marketing="0.5", price_utility="0.2")


@pytest.fixture
def browser(client, marketer):
    """The test client logged in as a marketer, reading the panel in English."""
    client.force_login(marketer)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def template_posts(fake) -> list[dict]:
    return [r for r in fake.requests if r["method"] == "POST" and r["path"].endswith("/message_templates")]


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def approved(fake, account, name="order_update", category="UTILITY", **fields) -> WhatsAppTemplate:
    """A template approved at Meta and synced, with its variables bound on its page."""
    fake.add_template(name, category=category, body="Merhaba {{1}}, siparişiniz {{2}} yola çıktı.", **fields)
    templates_sync(account=account)
    template = WhatsAppTemplate.objects.get(name=name)
    template.variables = {"body": {"1": {"source": "name", "default": "Müşterimiz"}, "2": {"default": "bugün"}}}
    template.save()
    return template


# --- the template list and its sync --------------------------------------------------------------


def test_the_template_list_shows_status_and_category_and_sync_brings_metas_templates(browser, fake, account):
    fake.add_template("made_at_meta", category="UTILITY")
    fake.add_template("spring_sale", status="PENDING")
    response = browser.post(SYNC, follow=True)
    assert messages_of(response) == ["WA: 2 new, 0 changed, 0 deleted at Meta."]
    page = response.content.decode()
    assert 'id="wa-sync"' in page and "made_at_meta" in page and "spring_sale" in page
    rows = {name: row for row in page.split("<tr")[2:] for name in ("made_at_meta", "spring_sale") if name in row}
    assert "Utility" in rows["made_at_meta"] and "Approved" in rows["made_at_meta"]
    assert "Marketing" in rows["spring_sale"] and "Pending review" in rows["spring_sale"]
    assert ">APPROVED<" not in page and ">MARKETING<" not in page  # words, not Meta's codes
    filtered = browser.get(TEMPLATES, {"status": "PENDING"}).content.decode()
    assert "spring_sale" in filtered and "made_at_meta" not in filtered
    assert '<a href="?status=APPROVED">Approved</a>' in page and '<a href="?category=UTILITY">Utility</a>' in page
    again = browser.post(SYNC, follow=True)
    assert messages_of(again) == ["WA: 0 new, 0 changed, 0 deleted at Meta."]


def test_sync_without_a_whatsapp_account_says_so(browser):
    response = browser.post(SYNC, follow=True)
    assert response.status_code == 200
    assert messages_of(response) == ["No WhatsApp account is installed: an admin adds one under Connectors."]
    assert browser.get(SYNC).status_code == 403  # a sync changes data: POST only


def test_sync_with_a_revoked_token_says_why(browser, fake, account):
    fake.access_token = "another-token"
    response = browser.post(SYNC, follow=True)
    assert response.status_code == 200
    [said] = messages_of(response)
    assert said.startswith("WA: ") and "access token" in said


# --- the editor ------------------------------------------------------------------------------------


def test_the_add_page_draws_the_editor_and_its_phone(browser, account):
    response = browser.get(ADD_TEMPLATE)
    page = response.content.decode()
    assert response.status_code == 200 and "data-wa-preview" in page and 'id="wa-template-form"' in page
    assert '<script src="/static/channels_whatsapp/template_editor.js"' in page
    assert f'<option value="{account.pk}" selected>WA</option>' in page  # the only account, chosen already
    assert 'name="_submit"' in page and 'name="_draft"' in page and 'id="wa-no-account"' not in page


def test_the_add_page_says_when_there_is_no_whatsapp_account(browser):
    page = browser.get(ADD_TEMPLATE).content.decode()
    assert 'id="wa-no-account"' in page and "Connectors" in page


def test_submitting_creates_the_template_at_meta_and_shows_its_review(browser, fake, account):
    response = browser.post(ADD_TEMPLATE, {**ORDER_FORM, "account": account.pk, "_submit": "1"})
    template = WhatsAppTemplate.objects.get()
    assert response.status_code == 302 and response["Location"] == template_page(template)
    [at_meta] = fake.templates.values()
    assert at_meta["name"] == "order_update" and at_meta["status"] == "PENDING" and at_meta["category"] == "UTILITY"
    assert template.provider_id == at_meta["id"] and template.status == TemplateStatus.PENDING
    assert template.text == ORDER["body"]
    assert template.variables == {
        "body": {"1": {"source": "name", "default": "Müşterimiz"}, "2": {"source": "", "default": "bugün"}}
    }
    shown = browser.get(response["Location"])
    page = shown.content.decode()
    assert messages_of(shown) == ["Submitted to Meta: Pending review. The verdict arrives by itself."]
    assert 'data-status="PENDING"><strong>Pending review</strong>' in page and at_meta["id"] in page
    history_url = reverse("admin:channels_whatsapp_whatsapptemplate_history", args=[template.pk])
    assert f'href="{history_url}" class="historylink"' in page
    history = browser.get(history_url)
    assert "Submitted to Meta: PENDING." in history.content.decode()  # who made and submitted it


def test_a_draft_is_saved_without_calling_meta(browser, fake, account):
    response = browser.post(ADD_TEMPLATE, {**ORDER_FORM, "account": account.pk, "_draft": "1"})
    template = WhatsAppTemplate.objects.get()
    assert response.status_code == 302 and template.status == "" and not template.provider_id
    assert fake.requests == []
    page = browser.get(template_page(template)).content.decode()
    assert "<strong>Not submitted</strong>" in page and 'name="_submit"' in page  # a draft stays editable
    changed = browser.post(template_page(template), {**ORDER_FORM, "account": account.pk, "body": "Yeni {{1}} hazır.",
                                                      "_submit": "1"})  # fmt: skip
    template.refresh_from_db()
    assert (
        changed.status_code == 302
        and template.status == TemplateStatus.PENDING
        and template.text == "Yeni {{1}} hazır."
    )
    assert [t["components"][0]["text"] for t in fake.templates.values()] == ["Yeni {{1}} hazır."]


def test_problems_are_shown_on_their_fields_and_nothing_is_called(browser, fake, account):
    data = {**ORDER_FORM, "account": account.pk, "name": "Yaz İndirimi", "body_2_default": "", "_submit": "1"}
    response = browser.post(ADD_TEMPLATE, data)
    assert response.status_code == 200 and not WhatsAppTemplate.objects.exists() and fake.requests == []
    errors = response.context["form"].errors
    assert "“yaz_indirimi”" in errors["name"][0]
    assert errors["body_2_default"] == ["Give a default: it is sent to contacts who have no value."]
    page = response.content.decode()
    assert 'class="errornote"' in page and page.index("form-row errors field-name") < page.index('name="name"')


def test_a_name_taken_at_meta_is_said_in_words_and_leaves_no_half_made_draft(browser, fake, account):
    fake.add_template("order_update", status="APPROVED")  # made at Meta, not synced yet
    response = browser.post(ADD_TEMPLATE, {**ORDER_FORM, "account": account.pk, "_submit": "1"})
    assert response.status_code == 200 and not WhatsAppTemplate.objects.exists()
    [said] = response.context["form"].non_field_errors()
    assert said.startswith("Meta did not take the template:") and "already exists for order_update" in said
    assert said in response.content.decode() and response.context["form"]["body"].value() == ORDER["body"]


def test_a_revoked_token_is_said_in_words(browser, fake, account):
    fake.access_token = "another-token"
    response = browser.post(ADD_TEMPLATE, {**ORDER_FORM, "account": account.pk, "_submit": "1"})
    assert response.status_code == 200 and not WhatsAppTemplate.objects.exists()
    assert "access token" in response.context["form"].non_field_errors()[0]


def test_an_answer_lost_on_the_way_says_to_sync_first(browser, fake, account, monkeypatch):
    monkeypatch.setattr("providers.whatsapp.client.READ_TIMEOUT", 0.2)
    fake.response_delay = 0.6  # Meta makes the template, its answer comes too late
    response = browser.post(ADD_TEMPLATE, {**ORDER_FORM, "account": account.pk, "_submit": "1"})
    assert response.status_code == 200 and not WhatsAppTemplate.objects.exists()
    [said] = response.context["form"].non_field_errors()
    assert "did not answer in time" in said and "press “Sync templates” on the list first" in said
    fake.response_delay = 0
    deadline = time.monotonic() + 5
    while not fake.templates and time.monotonic() < deadline:
        time.sleep(0.05)
    synced = browser.post(SYNC, follow=True)
    assert messages_of(synced) == ["WA: 1 new, 0 changed, 0 deleted at Meta."]
    assert WhatsAppTemplate.objects.get().status == TemplateStatus.PENDING


def test_a_name_used_already_here_is_refused_before_meta(browser, fake, account):
    browser.post(ADD_TEMPLATE, {**ORDER_FORM, "account": account.pk, "_draft": "1"})
    response = browser.post(ADD_TEMPLATE, {**ORDER_FORM, "account": account.pk, "_draft": "1"})
    assert response.status_code == 200 and WhatsAppTemplate.objects.count() == 1
    assert response.context["form"].errors["name"] == ["This account has a template with this name in this language."]


def test_a_submitted_template_locks_its_wording_but_its_variables_change(browser, fake, account):
    browser.post(ADD_TEMPLATE, {**ORDER_FORM, "account": account.pk, "_submit": "1"})
    template = WhatsAppTemplate.objects.get()
    page = browser.get(template_page(template)).content.decode()
    for locked in ("name", "body", "body_1_example", "category", "account"):
        tag = page[page.index(f'name="{locked}"') :].split(">", 1)[0]
        assert " disabled" in tag, locked
    for free in ("body_1_source", "body_1_default"):
        assert " disabled" not in page[page.index(f'name="{free}"') :].split(">", 1)[0], free
    assert 'name="_submit"' not in page and "Save the variables" in page
    response = browser.post(
        template_page(template),
        {"body_1_source": "first_name", "body_1_default": "Değerli müşterimiz", "body_2_default": "yarın",
         "body": "Changed {{1}}", "name": "renamed"},
    )  # fmt: skip
    assert response.status_code == 302
    template.refresh_from_db()
    assert template.variables == {
        "body": {
            "1": {"source": "first_name", "default": "Değerli müşterimiz"},
            "2": {"source": "", "default": "yarın"},
        }
    }
    assert template.name == "order_update" and template.text == ORDER["body"]  # Meta's wording stays
    assert len(template_posts(fake)) == 1  # saving the variables calls nobody


def test_a_template_made_at_meta_gets_its_variables_on_its_page(browser, fake, account):
    fake.add_template("otp_code", language="pt_BR", category="AUTHENTICATION", body="Kodunuz {{1}}")
    templates_sync(account=account)
    template = WhatsAppTemplate.objects.get()
    assert template.variables == {}
    missing = browser.post(template_page(template), {"body_1_source": "bad name!"})
    assert missing.status_code == 200
    assert missing.context["form"].errors.keys() == {"body_1_source", "body_1_default"}
    response = browser.post(template_page(template), {"body_1_source": "code", "body_1_default": "000000"})
    assert response.status_code == 302
    template.refresh_from_db()
    assert template.variables == {"body": {"1": {"source": "code", "default": "000000"}}}
    assert template.category == "AUTHENTICATION" and template.language == "pt_BR"


# --- campaigns -------------------------------------------------------------------------------------


def test_the_campaign_form_offers_only_approved_templates_of_active_whatsapp_accounts(browser, fake, account):
    ready = approved(fake, account)
    fake.add_template("waiting", status="PENDING")
    fake.add_template("refused", status="REJECTED")
    templates_sync(account=account)
    off = whatsapp_account(fake, name="WA old")
    WhatsAppTemplate.objects.create(account=off, name="old_one", language="tr", status="APPROVED", text="x")
    off.is_active = False
    off.save()
    form = browser.get(ADD_CAMPAIGN).context["adminform"].form
    assert list(form.fields["template"].queryset) == [ready]
    assert [label for _value, label in form.fields["template"].choices][1:] == ["order_update (tr) · Utility · WA"]
    assert list(form.fields["account"].queryset) == [account]
    assert "alert" not in dict(form.fields["audience"].choices)


def campaign_post(account, template, contact_list, **changes) -> dict:
    return {
        "name": "Kargo",
        "account": account.pk,
        "template": template.pk,
        "audience": "list",
        "contact_list": contact_list.pk,
        "audience_filter": "{}",
        "send_at": "",
        **changes,
    }


def test_a_marketer_makes_previews_and_sends_a_whatsapp_campaign(
    browser, fake, account, django_capture_on_commit_callbacks
):
    template = approved(fake, account)  # utility: transactional, still only to opted-in numbers
    people = ContactList.objects.create(name="Kargo bekleyenler")
    ayse = Contact.objects.create(whatsapp_number="+905321110001", whatsapp_consent="opt_in",
                                  attributes={"name": "Ayşe"})  # fmt: skip
    out = Contact.objects.create(whatsapp_number="+905321110002", whatsapp_consent="opt_out")
    none = Contact.objects.create(phone="+905321110003")
    people.contacts.add(ayse, out, none)
    response = browser.post(ADD_CAMPAIGN, campaign_post(account, template, people))
    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{campaign.pk}/preview/")
    assert campaign.channel == "whatsapp" and campaign.kind == "transactional"  # from the category
    preview = browser.get(response["Location"])
    page = preview.content.decode()
    assert preview.status_code == 200
    assert 'id="preview-sendable"><strong>1</strong>' in page
    assert re.search(r'data-reason="no_whatsapp"><a [^>]*>1<', page)
    assert re.search(r'data-reason="no_whatsapp_opt_in"><a [^>]*>1<', page)
    assert "No WhatsApp number" in page and "No WhatsApp opt-in" in page
    assert "Merhaba Ayşe, siparişiniz bugün yola çıktı." in page
    assert "Utility" in page and ("0.20" in page or "0,20" in page)  # 1 message × the utility price
    with django_capture_on_commit_callbacks(execute=True):
        started = browser.post(
            reverse("admin:channels_whatsapp_whatsappcampaign_act", args=[campaign.pk, "start"]), {"confirmed": "1"}
        )
    assert started.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == "done" and fake.recipients() == {"905321110001": 1}
    [sent] = fake.accepted.values()
    assert sent["template"]["name"] == "order_update"
    assert [p["text"] for p in sent["template"]["components"][0]["parameters"]] == ["Ayşe", "bugün"]
    assert (
        browser.get(reverse("admin:channels_whatsapp_whatsappcampaign_change", args=[campaign.pk])).status_code == 200
    )


def test_the_campaign_form_refuses_a_template_with_an_unbound_variable(browser, fake, account):
    fake.add_template("unbound", body="Merhaba {{1}}")
    templates_sync(account=account)
    template = WhatsAppTemplate.objects.get()
    people = ContactList.objects.create(name="L")
    response = browser.post(ADD_CAMPAIGN, campaign_post(account, template, people))
    assert response.status_code == 200 and not Campaign.objects.exists()
    assert "bound to nothing" in response.context["adminform"].form.errors["template"][0]


def test_the_preview_says_how_to_see_the_cost_when_the_account_has_no_price(browser, fake):
    account = whatsapp_account(fake)  # no prices
    template = approved(fake, account)
    people = ContactList.objects.create(name="L")
    response = browser.post(ADD_CAMPAIGN, campaign_post(account, template, people), follow=True)
    page = response.content.decode()
    assert "set the price of a utility message on the WhatsApp account to see it" in page
    assert "Sender" not in page  # WhatsApp sends from the account's number: no sender name to show


def test_the_test_send_sends_one_template_message_to_a_number(browser, fake, account):
    template = approved(fake, account, category="MARKETING")
    Contact.objects.create(whatsapp_number="+905321110009", whatsapp_consent="opt_in", attributes={"name": "Can"})
    people = ContactList.objects.create(name="L")
    browser.post(ADD_CAMPAIGN, campaign_post(account, template, people))
    campaign = Campaign.objects.get()
    preview = browser.get(reverse("admin:channels_whatsapp_whatsappcampaign_preview", args=[campaign.pk]))
    assert 'name="to"' in preview.content.decode()
    act = reverse("admin:channels_whatsapp_whatsappcampaign_act", args=[campaign.pk, "test"])
    response = browser.post(act, {"to": "0532 111 00 09"}, follow=True)
    [said] = messages_of(response)
    assert said.startswith("Test send to +905321110009:")
    [sent] = fake.accepted.values()
    assert sent["to"] == "905321110009" and sent["template"]["name"] == "order_update"
    assert Message.objects.get().campaign_id is None  # a single message, not one of the campaign's
    refused = browser.post(act, {"to": "0532 111 00 08"}, follow=True)  # no contact, no opt-in
    assert "not sent" in messages_of(refused)[0].lower() and len(fake.accepted) == 1


# --- roles -----------------------------------------------------------------------------------------


def test_the_customer_service_windows_are_read_only(browser, fake, account):
    window = ServiceWindow.objects.create(account=account, number="+905321110001", last_inbound_at=timezone.now())
    windows = reverse("admin:channels_whatsapp_servicewindow_changelist")
    page = browser.get(windows).content.decode()
    assert "+905321110001" in page and 'name="action"' not in page  # no delete action
    assert browser.get(reverse("admin:channels_whatsapp_servicewindow_add")).status_code == 403
    change = browser.get(reverse("admin:channels_whatsapp_servicewindow_change", args=[window.pk]))
    assert change.status_code == 200 and 'name="_save"' not in change.content.decode()
    assert browser.get(reverse("admin:channels_whatsapp_servicewindow_delete", args=[window.pk])).status_code == 403
    assert ServiceWindow.objects.filter(pk=window.pk).exists()


def test_a_marketer_reaches_every_whatsapp_page(browser, fake, account):
    template = approved(fake, account)
    for url in (TEMPLATES, ADD_TEMPLATE, template_page(template), ADD_CAMPAIGN,
                reverse("admin:channels_whatsapp_whatsappcampaign_changelist")):  # fmt: skip
        assert browser.get(url).status_code == 200, url


def test_a_campaign_overrides_the_templates_variables_and_keeps_only_what_differs(browser, fake, account):
    template = approved(fake, account)
    people = ContactList.objects.create(name="Kargo")
    ayse = Contact.objects.create(
        whatsapp_number="+905321110001", whatsapp_consent="opt_in", attributes={"name": "Ayşe", "gun": "yarın"}
    )
    people.contacts.add(ayse)
    browser.post(ADD_CAMPAIGN, campaign_post(account, template, people))
    campaign = Campaign.objects.get()
    change = reverse("admin:channels_whatsapp_whatsappcampaign_change", args=[campaign.pk])
    page = browser.get(change)
    form = page.context["adminform"].form
    assert form.initial["var_body_1_source"] == "name" and form.initial["var_body_2_default"] == "bugün"
    data = {**campaign_post(account, template, people), "var_body_1_source": "name", "var_body_1_default": "Müşterimiz",
            "var_body_2_source": "gun", "var_body_2_default": "bugün"}  # fmt: skip
    assert browser.post(change, data).status_code == 302
    campaign.refresh_from_db()
    assert campaign.variables == {"body": {"2": {"source": "gun", "default": "bugün"}}}  # only what differs
    preview = browser.get(reverse("admin:channels_whatsapp_whatsappcampaign_preview", args=[campaign.pk]))
    assert "Merhaba Ayşe, siparişiniz yarın yola çıktı." in preview.content.decode()
