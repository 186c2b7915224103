"""Targeting → Segments: the builder's page, its live count and values seen, and a campaign
aimed at a saved segment; a campaign saved with a JSON filter before segments became one."""

import importlib
import json

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from contacts.models import Contact
from messaging.models import Campaign, Segment
from providers.services import account_install
from tests.consent.factories import record_onay

pytestmark = pytest.mark.django_db

IZMIR = {"match": "all", "conditions": [{"type": "attribute", "name": "city", "op": "equals", "value": "İzmir"}]}


@pytest.fixture(autouse=True)
def in_english(client):
    client.cookies.load({"django_language": "en"})


@pytest.fixture
def people():
    return [
        Contact.objects.create(external_id=f"c{n}", phone=f"+9053200000{n:02d}", attributes={"city": city})
        for n, city in enumerate(["İzmir", "İzmir", "Ankara", "Bursa"])
    ]


def test_a_marketer_builds_a_segment_and_sees_the_count_follow(client, marketer, people):
    client.force_login(marketer)
    page = client.get(reverse("admin:messaging_segment_add")).content.decode()
    assert 'id="segment-choices"' in page and "Profile attribute" in page and "SMS received" in page
    assert '"attributes": ["city"]' in page  # the attribute names seen are offered
    count = reverse("admin:messaging_segment_count")
    answer = client.post(count, json.dumps(IZMIR), content_type="application/json").json()
    assert answer == {"count": 2}
    bad = {"conditions": [{"type": "attribute", "name": "city__regex", "op": "equals", "value": ".*"}]}
    answer = client.post(count, json.dumps(bad), content_type="application/json").json()
    assert answer["problems"] == ["condition 1: 'city__regex' is not an attribute name"]
    assert client.post(count, b"{not json", content_type="application/json").json()["problems"]
    seen = client.get(reverse("admin:messaging_segment_values"), {"name": "city"}).json()
    assert seen == {"values": ["İzmir", "Ankara", "Bursa"]}

    saved = client.post(
        reverse("admin:messaging_segment_add"), {"name": "İzmir", "description": "", "definition": json.dumps(IZMIR)}
    )
    assert saved.status_code == 302
    segment = Segment.objects.get()
    assert segment.definition == IZMIR and segment.created_by == marketer
    refused = client.post(
        reverse("admin:messaging_segment_add"), {"name": "Bad", "description": "", "definition": json.dumps(bad)}
    )
    assert refused.status_code == 200 and "is not an attribute name" in refused.content.decode()


def test_the_count_is_for_those_who_may_see_segments(client, django_user_model, people):
    nobody = django_user_model.objects.create_user("nobody", password="x-pass-12345", is_staff=True)
    client.force_login(nobody)
    answer = client.post(reverse("admin:messaging_segment_count"), json.dumps(IZMIR), content_type="application/json")
    assert answer.status_code == 403
    nobody.user_permissions.add(Permission.objects.get(codename="view_segment"))
    answer = client.post(reverse("admin:messaging_segment_count"), json.dumps(IZMIR), content_type="application/json")
    assert answer.json() == {"count": 2}


def test_a_campaign_is_aimed_at_a_saved_segment(client, marketer, people, django_capture_on_commit_callbacks):
    for contact in people:
        record_onay(contact)
    account = account_install(name="Console", connector="console", values={"sender": "MARKA"})
    segment = Segment.objects.create(name="İzmir", definition=IZMIR)
    client.force_login(marketer)
    form = {
        "name": "Kasım", "kind": "newsletter", "account": account.pk, "sender": "", "text": "Merhaba",
        "audience": "segment", "segment": "", "contact_list": "", "alert_phone": "", "send_at": "",
    }  # fmt: skip
    refused = client.post(reverse("admin:channels_sms_smscampaign_add"), form)
    assert refused.status_code == 200 and "choose the segment to send to" in refused.content.decode()
    client.post(reverse("admin:channels_sms_smscampaign_add"), {**form, "segment": segment.pk})
    campaign = Campaign.objects.get()
    assert campaign.segment == segment
    preview = client.get(reverse("admin:channels_sms_smscampaign_preview", args=[campaign.pk])).content.decode()
    assert 'id="preview-sendable"><strong>2</strong>' in preview
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:channels_sms_smscampaign_act", args=[campaign.pk, "start"]), {"confirmed": "2"})
    assert set(campaign.messages.values_list("to", flat=True)) == {people[0].phone, people[1].phone}


def test_a_filter_saved_before_segments_becomes_one(people):
    migration = importlib.import_module("messaging.migrations.0006_segments")
    account = account_install(name="Console", connector="console", values={"sender": "MARKA"})
    kept = Campaign.objects.create(
        name="Eski", account=account, sender="MARKA", text="x", audience="filter",
        audience_filter={"city": ["İzmir", "Bursa"], "sms_subscription": "none"},
    )  # fmt: skip
    unreadable = Campaign.objects.create(
        name="Bozuk", account=account, sender="MARKA", text="x", audience="filter", audience_filter={"city": {"a": 1}}
    )
    from django.apps import apps

    migration.filters_to_segments(apps, None)
    kept.refresh_from_db()
    unreadable.refresh_from_db()
    assert kept.audience == "segment" and kept.segment.definition == {
        "match": "all",
        "conditions": [
            {"type": "attribute", "name": "city", "op": "any_of", "value": ["İzmir", "Bursa"]},
            {"type": "choice", "field": "sms_subscription", "op": "is", "value": "none"},
        ],
    }
    from messaging.selectors import campaign_audience

    assert set(campaign_audience(kept).values_list("external_id", flat=True)) == {"c0", "c1", "c3"}
    assert unreadable.audience == "filter" and unreadable.segment is None  # still selects nobody
