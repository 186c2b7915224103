"""Sending safely from the panel (issue 15): the numbers are confirmed before anything is sent, a
new campaign's audience is chosen (never assumed) and only its fields count, a send time in the
past is refused, times are said in Europe/Istanbul, saving an edit returns to the preview, and
each exclusion reason lists its contacts."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from contacts.models import ContactList
from messaging.models import Campaign, Message
from providers.services import account_install
from tests.consent.factories import record_onay
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db

ADD = "admin:channels_sms_smscampaign_add"


@pytest.fixture(autouse=True)
def in_english(client):
    client.cookies.load({"django_language": "en"})


@pytest.fixture
def console():
    return account_install(name="Console", connector="console", values={"sender": "MARKA", "price_per_segment": "0.25"})


def form(console, **changes):
    data = {
        "name": "Kasım",
        "kind": "newsletter",
        "account": console.pk,
        "sender": "",
        "text": "Merhaba {{name|dostum}}, kasım indirimi başladı!",
        "audience": "everyone",
        "contact_list": "",
        "audience_filter": "{}",
        "alert_phone": "",
        "send_at": "",
    }
    return {**data, **changes}


def url(name, *args):
    return reverse(f"admin:channels_sms_smscampaign_{name}", args=args)


def test_starting_asks_first_with_the_numbers_and_sends_only_when_confirmed(
    client, marketer, console, django_capture_on_commit_callbacks, settings
):
    settings.CURRENCY = "TRY"
    for n in range(3):
        record_onay(ContactFactory(phone=f"+90532000000{n}"))
    ContactFactory(phone="+905320000009", phone_status="paused")
    client.force_login(marketer)
    client.post(reverse(ADD), form(console))
    campaign = Campaign.objects.get()

    preview = client.get(url("preview", campaign.pk)).content.decode()
    assert f'href="{url("confirm", campaign.pk)}"' in preview  # the button asks, it does not send
    assert "TRY" in preview

    # a bare POST (a script, a double click on an old page) only leads to the question
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(url("act", campaign.pk, "start"))
    assert answer.status_code == 302 and answer["Location"] == url("confirm", campaign.pk)
    assert Message.objects.count() == 0 and Campaign.objects.get().status == "draft"

    page = client.get(url("confirm", campaign.pk)).content.decode()
    assert "Send to 3 contacts, about 3 segments, cost ≈ 0.75 TRY?" in page
    assert 'name="confirmed" value="3"' in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("act", campaign.pk, "start"), {"confirmed": "3"})
    campaign.refresh_from_db()
    assert campaign.status == "done" and Message.objects.count() == 3
    # started: the confirmation page no longer offers to send
    assert client.get(url("confirm", campaign.pk))["Location"] == url("preview", campaign.pk)


def test_the_question_groups_thousands_in_the_users_language_and_says_when_the_price_is_unknown(client, marketer):
    from messaging.admin import confirmation_question
    from messaging.channels import MessageCost
    from messaging.selectors import Preview

    cost = MessageCost(units=2, unit_price=None, unit_label="segments", no_price="set a price per segment")
    preview = Preview(
        audience=210_000, sendable=200_142, exclusions=[], sample_contact=None, sample_text="", missing_variables=[],
        cost=cost,
    )  # fmt: skip
    with translation.override("en"):
        question = confirmation_question(Campaign(send_at=None), preview)
    assert question == "Send to 200,142 contacts, about 400,284 segments, cost unknown (set a price per segment)?"
    with translation.override("tr"):
        assert "200.142" in confirmation_question(Campaign(send_at=None), preview)


def test_an_audience_is_chosen_not_assumed_and_only_the_chosen_ones_fields_count(client, marketer, console):
    people = ContactList.objects.create(name="VIP")
    client.force_login(marketer)
    add_page = client.get(reverse(ADD)).content.decode()
    assert '<option value="" selected>---------</option>' in add_page
    refused = client.post(reverse(ADD), form(console, audience=""))
    assert refused.status_code == 200 and Campaign.objects.count() == 0
    assert "This field is required." in refused.content.decode()

    # a list chosen, a filter left behind from an earlier choice: the filter is dropped
    client.post(reverse(ADD), form(console, audience="list", contact_list=people.pk, audience_filter='{"city": "x"}'))
    campaign = Campaign.objects.get()
    assert campaign.audience == "list" and campaign.contact_list == people and campaign.audience_filter == {}


def test_a_send_time_in_the_past_is_refused_and_times_are_said_in_istanbul(client, marketer, console):
    client.force_login(marketer)
    past = timezone.localtime() - timedelta(hours=1)
    refused = client.post(reverse(ADD), form(console, send_at=past.strftime("%Y-%m-%d %H:%M")))
    assert refused.status_code == 200 and Campaign.objects.count() == 0
    assert "has passed (it is now" in refused.content.decode()

    later = timezone.localtime() + timedelta(days=1)
    client.post(reverse(ADD), form(console, send_at=later.strftime("%Y-%m-%d %H:%M")))
    campaign = Campaign.objects.get()
    said = f"{later:%Y-%m-%d %H:%M} (Europe/Istanbul)"
    assert said in client.get(url("preview", campaign.pk)).content.decode()
    assert f"Schedule for {said} to 0 contacts" not in client.get(url("confirm", campaign.pk)).content.decode()
    record_onay(ContactFactory(phone="+905320000001"))
    assert f"Schedule for {said} to 1 contacts" in client.get(url("confirm", campaign.pk)).content.decode()
    answer = client.post(url("act", campaign.pk, "start"), {"confirmed": "1"}, follow=True)
    assert f"Scheduled for {said}." in answer.content.decode()
    assert Campaign.objects.get().status == "scheduled"


def test_nothing_to_send_is_said_and_not_offered(client, marketer, console):
    ContactFactory(phone="+905320000009", phone_status="paused")
    client.force_login(marketer)
    client.post(reverse(ADD), form(console))
    page = client.get(url("confirm", Campaign.objects.get().pk)).content.decode()
    assert "No contact may receive this campaign now" in page and 'name="confirmed"' not in page


def test_saving_an_edit_returns_to_the_preview(client, marketer, console):
    client.force_login(marketer)
    client.post(reverse(ADD), form(console))
    campaign = Campaign.objects.get()
    saved = client.post(url("change", campaign.pk), form(console, name="Kasım 2"))
    assert saved.status_code == 302 and saved["Location"] == url("preview", campaign.pk)
    kept = client.post(url("change", campaign.pk), {**form(console, name="Kasım 3"), "_continue": "1"})
    assert kept["Location"] == url("change", campaign.pk)


def test_each_exclusion_reason_lists_its_contacts(client, marketer, console):
    paused = [ContactFactory(phone=f"+90532000010{n}", phone_status="paused") for n in range(2)]
    unsubscribed = ContactFactory(phone="+905320000200", sms_subscription="not_subscribed")
    client.force_login(marketer)
    client.post(reverse(ADD), form(console))
    campaign = Campaign.objects.get()
    page = client.get(url("excluded", campaign.pk, "paused")).content.decode()
    assert "2 contacts of this campaign's audience are excluded for this reason." in page
    for contact in paused:
        assert reverse("admin:contacts_contact_change", args=[contact.pk]) in page
    assert unsubscribed.phone not in page
    assert client.get(url("excluded", campaign.pk, "no_such_reason")).status_code == 404
