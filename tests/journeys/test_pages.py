"""A marketer builds a journey in the panel without writing JSON: creates it, adds steps on the
diagram's branches with forms, sees problems in words, activates it, sees the counts on the
diagram, pauses and archives it; a journey's path shows on the contact's timeline."""

import json

import pytest
from django.urls import reverse

from contacts.models import ContactList
from contacts.services import contact_list_add
from journeys.models import Journey
from tests.journeys.conftest import contact

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_en(client, marketer):
    client.force_login(marketer)
    client.cookies.load({"django_language": "en"})
    return client


def step_url(journey, **query):
    url = reverse("admin:journeys_journey_step_add", args=[journey.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_a_marketer_builds_and_runs_the_fallback_journey(
    client_en, accounts, infobip, meta, django_capture_on_commit_callbacks
):
    members = ContactList.objects.create(name="Yeni üyeler")
    response = client_en.post(
        reverse("admin:journeys_journey_add"),
        {"name": "Hoş geldin", "description": "", "entry": "list", "entry_list": members.pk, "re_entry": "once"},
    )
    journey = Journey.objects.get(name="Hoş geldin")
    assert response.status_code == 302 and response.url == reverse("admin:journeys_journey_change", args=[journey.pk])
    page = client_en.get(response.url).content.decode()
    assert "No steps yet." in page and "Add the first step" in page
    assert "the journey has no steps" in page  # why it cannot be activated yet, in words

    # the first step: an SMS
    response = client_en.post(
        step_url(journey),
        {"type": "send_sms", "step_id": "sms", "kind": "newsletter", "text": "Merhaba {{name|Müşterimiz}}"},
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    # on its "then" branch: wait for its delivery a minute
    response = client_en.post(
        step_url(journey, after="sms", branch="next"),
        {"type": "wait_delivery", "step_id": "wait", "of": "sms", "amount": 1, "unit": "60"},
    )
    assert response.status_code == 302
    # on "not delivered": the WhatsApp template
    from messaging.models import Template

    promo = Template.objects.get(channel="whatsapp", name="promo")
    response = client_en.post(
        step_url(journey, after="wait", branch="not_delivered"),
        {"type": "send_whatsapp", "step_id": "whatsapp", "whatsapp_template": promo.pk},
    )
    assert response.status_code == 302
    journey.refresh_from_db()
    assert journey.version.definition == {
        "start": "sms",
        "steps": {
            "sms": {"type": "send_sms", "kind": "newsletter", "text": "Merhaba {{name|Müşterimiz}}", "next": "wait"},
            "wait": {"type": "wait_delivery", "of": "sms", "seconds": 60, "not_delivered": "whatsapp"},
            "whatsapp": {"type": "send_whatsapp", "template": "promo", "language": "tr", "account": "WA"},
        },
    }
    page = client_en.get(reverse("admin:journeys_journey_change", args=[journey.pk])).content.decode()
    assert "Wait for delivery" in page and "of sms, at most 1 minute" in page and "Activate" in page

    response = client_en.post(reverse("admin:journeys_journey_act", args=[journey.pk, "activate"]))
    assert response.status_code == 302
    journey.refresh_from_db()
    assert journey.status == "active"
    with django_capture_on_commit_callbacks(execute=True):
        contact_list_add(contact_list=members, contact_ids=[contact("+905320000005").pk, contact("+905320000001").pk])
    page = client_en.get(reverse("admin:journeys_journey_change", args=[journey.pk])).content.decode()
    assert "2 here now" in page  # both wait for their delivery
    assert "2 passed" in page  # both passed the SMS step

    # editing the active journey: a new version, said so on the step page
    step_page = client_en.get(reverse("admin:journeys_journey_step", args=[journey.pk, "wait"])).content.decode()
    assert "saving makes a new version" in step_page
    response = client_en.post(
        reverse("admin:journeys_journey_step", args=[journey.pk, "wait"]),
        {"of": "sms", "amount": 2, "unit": "60", "branch_delivered": "", "branch_not_delivered": "whatsapp"},
    )
    assert response.status_code == 302, response.context["form"].errors
    journey.refresh_from_db()
    assert journey.version.number == 2 and journey.version.definition["steps"]["wait"]["seconds"] == 120

    client_en.post(reverse("admin:journeys_journey_act", args=[journey.pk, "pause"]))
    assert Journey.objects.get(pk=journey.pk).status == "paused"
    client_en.post(reverse("admin:journeys_journey_act", args=[journey.pk, "archive"]))
    assert Journey.objects.get(pk=journey.pk).status == "archived"


def test_the_step_form_says_what_is_wrong_in_words(client_en, accounts):
    journey = Journey.objects.create(name="J", entry="list", entry_list=ContactList.objects.create(name="L"))
    response = client_en.post(step_url(journey), {"type": "send_sms", "step_id": "s 1", "text": ""})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Use 1-40 letters, digits" in page and "Write the text or choose an SMS template." in page
    response = client_en.post(step_url(journey), {"type": "wait", "step_id": "w", "wait_mode": "until", "until": "9"})
    assert "Give the time of day as HH:MM" in response.content.decode()
    response = client_en.post(
        step_url(journey),
        {"type": "condition", "step_id": "c", "conditions": json.dumps({"match": "all", "conditions": []})},
    )
    assert "Add at least one condition." in response.content.decode()


def test_deleting_a_step_takes_what_only_it_leads_to(client_en, accounts):
    from journeys.services import journey_save_steps
    from tests.journeys.conftest import FALLBACK

    journey = Journey.objects.create(name="J", entry="list", entry_list=ContactList.objects.create(name="L"))
    journey_save_steps(journey=journey, definition=FALLBACK)
    url = reverse("admin:journeys_journey_step_delete", args=[journey.pk, "wait"])
    assert "wait" in client_en.get(url).content.decode()
    assert client_en.post(url).status_code == 302
    journey.refresh_from_db()
    # what led to "wait" goes where its main branch went ("done"); "whatsapp" stays: "not sent" leads to it
    assert journey.version.definition["steps"]["sms"]["next"] == "done"
    assert set(journey.version.definition["steps"]) == {"sms", "whatsapp", "done"}


def test_the_contacts_timeline_shows_the_journey(client_en, accounts, infobip, django_capture_on_commit_callbacks):
    from tests.journeys.conftest import active_journey

    active_journey()
    ayse = contact("+905320000005")
    with django_capture_on_commit_callbacks(execute=True):
        contact_list_add(contact_list=ContactList.objects.get(name="Yeni üyeler"), contact_ids=[ayse.pk])
    page = client_en.get(reverse("admin:contacts_contact_change", args=[ayse.pk])).content.decode()
    assert "Journey “Hoş geldin”: entered" in page
    assert "step sms: then" in page and "Journey “Hoş geldin”, step wait" not in page  # still waiting


def test_every_journey_page_renders_in_turkish(client, marketer, accounts):
    from journeys.services import journey_save_steps
    from tests.journeys.conftest import FALLBACK

    client.force_login(marketer)
    journey = Journey.objects.create(name="J", entry="list", entry_list=ContactList.objects.create(name="L"))
    journey_save_steps(journey=journey, definition=FALLBACK)
    for url in (
        reverse("admin:journeys_journey_changelist"),
        reverse("admin:journeys_journey_add"),
        reverse("admin:journeys_journey_change", args=[journey.pk]),
        step_url(journey, after="sms", branch="next"),
        reverse("admin:journeys_journey_step", args=[journey.pk, "wait"]),
        reverse("admin:journeys_journey_step_delete", args=[journey.pk, "wait"]),
        reverse("admin:journeys_enrolment_changelist"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        assert "Yolculuk" in page or "yolculuk" in page, url
