"""The charts' figures: messages per day by status (dashboard) and a campaign's delivery by hour
(its preview), counted in Europe/Istanbul from real rows; their JSON only for those allowed."""

from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override

from messaging.charts import campaign_delivery, messages_per_day
from tests.messaging.factories import ISTANBUL, campaign, console_account, message

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 11, 20, 12, 0, tzinfo=ISTANBUL)


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=ISTANBUL)


def series(data) -> dict[str, list[int]]:
    return {s.key: s.values for s in data.series}


def test_messages_per_day_counts_each_status_on_its_istanbul_day():
    account = console_account()
    message(account, status="delivered", created_at=at(20, 0, 30))  # 19 Nov 21:30 UTC: the 20th in İstanbul
    message(account, status="undelivered", created_at=at(19, 23, 30))
    message(account, status="failed", created_at=at(19, 8))
    message(account, status="sent", created_at=at(10, 9))
    message(account, status="queued", created_at=at(10, 18))
    message(account, status="pending", created_at=at(20, 11))
    message(account, status="skipped", created_at=at(20, 11))
    message(account, status="cancelled", created_at=at(22, 0, 1, month=10))  # the first day of the 30
    message(account, status="delivered", created_at=at(21, 23, 59, month=10))  # the day before: left out
    with override("en"):
        data = messages_per_day(now=NOW)
    assert len(data.keys) == 30 and data.keys[0] == "2025-10-22" and data.keys[-1] == "2025-11-20"
    assert data.labels[-1] == "20 Nov" and data.labels[0] == "22 Oct"
    day = {key: i for i, key in enumerate(data.keys)}
    values = series(data)
    assert list(values) == ["delivered", "sent", "failed", "waiting", "not_sent"]
    assert values["delivered"][day["2025-11-20"]] == 1 and sum(values["delivered"]) == 1
    assert values["failed"][day["2025-11-19"]] == 2 and sum(values["failed"]) == 2
    assert values["sent"][day["2025-11-10"]] == 2 and sum(values["sent"]) == 2
    assert values["waiting"][day["2025-11-20"]] == 1
    assert values["not_sent"][day["2025-11-20"]] == 1 and values["not_sent"][day["2025-10-22"]] == 1
    assert data.total == 8 and data.kind == "bars"
    assert data.x_label and data.y_label == "Messages"


def test_messages_per_day_says_so_when_there_are_none():
    with override("en"):
        data = messages_per_day(now=NOW)
    assert data.total == 0 and data.empty == "No messages in the last 30 days"
    with override("tr"):
        assert messages_per_day(now=NOW).empty == "Son 30 günde mesaj yok"


def test_a_campaigns_delivery_is_counted_by_the_hour_each_step_happened():
    account = console_account()
    sent = campaign(account)
    other = campaign(account, name="Başka")
    day = dict(created_at=at(20, 9))
    message(account, campaign=sent, status="delivered", sent_at=at(20, 10, 5), done_at=at(20, 10, 20),
            read_at=at(20, 12, 40), to="+905320000001", **day)  # fmt: skip
    message(account, campaign=sent, status="undelivered", sent_at=at(20, 10, 10), done_at=at(20, 11),
            to="+905320000002", **day)  # fmt: skip
    message(account, campaign=sent, status="sent", sent_at=at(20, 11, 15), to="+905320000003", **day)
    message(account, campaign=sent, status="pending", to="+905320000004", **day)
    message(account, campaign=other, status="delivered", sent_at=at(20, 15), done_at=at(20, 15), **day)
    with override("en"):
        data = campaign_delivery(sent)
    assert data.labels == ["20 Nov 10:00", "20 Nov 11:00", "20 Nov 12:00"]
    assert series(data) == {"sent": [2, 1, 0], "delivered": [1, 0, 0], "read": [0, 0, 1], "failed": [0, 1, 0]}
    assert data.kind == "lines" and data.total == 6


def test_a_campaign_spread_over_more_than_a_week_is_counted_by_day():
    account = console_account()
    long = campaign(account)
    message(account, campaign=long, status="delivered", created_at=at(1, 9), sent_at=at(1, 10),
            done_at=at(1, 11), read_at=at(12, 8))  # fmt: skip
    with override("en"):
        data = campaign_delivery(long)
    assert data.keys[0] == "2025-11-01" and data.keys[-1] == "2025-11-12" and len(data.keys) == 12
    assert series(data)["sent"][0] == 1 and series(data)["read"][-1] == 1


def test_a_campaign_not_sent_yet_has_an_empty_chart():
    account = console_account()
    draft = campaign(account, status="draft")
    with override("en"):
        data = campaign_delivery(draft)
    assert data.total == 0 and data.labels == [] and data.empty == "No message of this campaign has been sent yet"


def test_the_dashboard_chart_endpoint_counts_todays_messages(admin_client):
    account = console_account()
    now = timezone.now()
    message(account, status="delivered", created_at=now)  # now, not a minute ago: today even at midnight
    message(account, status="failed", created_at=now)
    message(account, status="failed", created_at=now - timedelta(days=40))
    admin_client.cookies.load({"django_language": "en"})
    data = admin_client.get(reverse("admin:messaging_message_per_day")).json()
    today = {s["key"]: s["values"][-1] for s in data["series"]}
    assert today["delivered"] == 1 and today["failed"] == 1 and data["total"] == 2
    assert data["kind"] == "bars" and len(data["labels"]) == 30 and data["series"][0]["label"] == "Delivered"


def test_the_chart_endpoints_refuse_staff_without_the_view_permission(client, django_user_model):
    account = console_account()
    done = campaign(account)
    urls = [
        reverse("admin:messaging_message_per_day"),
        reverse("admin:channels_sms_smscampaign_delivery", args=[done.pk]),
        reverse("admin:consent_consentchange_per_day"),
    ]
    for url in urls:
        assert client.get(url).status_code == 302  # not signed in: the login page
    clerk = django_user_model.objects.create_user("clerk", password="clerk-pass-123", is_staff=True)
    client.force_login(clerk)
    for url in urls:
        assert client.get(url).status_code == 403, url


def test_the_campaign_chart_endpoint_answers_a_marketer(client, marketer):
    account = console_account()
    done = campaign(account)
    message(account, campaign=done, status="delivered", created_at=at(20, 9), sent_at=at(20, 10), done_at=at(20, 10))
    client.force_login(marketer)
    client.cookies.load({"django_language": "tr"})
    response = client.get(reverse("admin:channels_sms_smscampaign_delivery", args=[done.pk]))
    data = response.json()
    assert response.status_code == 200 and data["labels"] == ["20 Kas 10:00"]
    assert {s["key"]: s["values"] for s in data["series"]}["delivered"] == [1]
    assert data["series"][1]["label"] == "İletildi"
    assert [s["key"] for s in data["series"]] == ["sent", "delivered", "failed"]  # no reads on SMS: no line
