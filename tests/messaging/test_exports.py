"""Downloads of messages: Message History as filtered in its list, and a campaign's report, as
CSV (streamed) and XLSX (readable by openpyxl); hostile cells neutralised; only for those who
may view messages."""

import csv
import io
from datetime import datetime

import pytest
from django.contrib.auth.models import Permission
from django.http import FileResponse, StreamingHttpResponse
from django.urls import reverse
from openpyxl import load_workbook

from tests.messaging.factories import ISTANBUL, campaign, console_account, message

pytestmark = pytest.mark.django_db
HOSTILE = '=HYPERLINK("http://evil.example","click")'


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def csv_rows(response) -> list[list[str]]:
    assert isinstance(response, StreamingHttpResponse) and response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(body(response).decode("utf-8-sig"))))


def xlsx_rows(response) -> list[tuple]:
    assert isinstance(response, FileResponse)
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = load_workbook(io.BytesIO(body(response)), read_only=True)
    return [tuple(row) for row in book.active.iter_rows(values_only=True)]


@pytest.fixture
def messages(db):
    account = console_account()
    kasim = campaign(account, name="Kasım")
    created = datetime(2025, 11, 20, 9, 0, tzinfo=ISTANBUL)
    rows = {
        "delivered": message(
            account,
            campaign=kasim,
            status="delivered",
            to="+905320000001",
            created_at=created,
            sent_at=datetime(2025, 11, 20, 10, 5, tzinfo=ISTANBUL),
            done_at=datetime(2025, 11, 20, 10, 6, tzinfo=ISTANBUL),
        ),
        "failed": message(
            account, campaign=kasim, status="failed", to="+905320000002", created_at=created, reason=HOSTILE
        ),
        "other": message(account, status="failed", to="+905320000003", created_at=created, reason="-1+1"),
    }
    return kasim, rows


def test_message_history_downloads_as_filtered(admin_client, messages):
    admin_client.cookies.load({"django_language": "en"})
    url = reverse("admin:messaging_message_export", args=["csv"])
    everything = csv_rows(admin_client.get(url))
    assert everything[0][:3] == ["Message id", "Created", "Recipient"] and len(everything) == 4
    failed = csv_rows(admin_client.get(url + "?status__exact=failed"))
    assert sorted(r[2] for r in failed[1:]) == ["+905320000002", "+905320000003"]
    searched = csv_rows(admin_client.get(url + "?status__exact=failed&q=0532 000 00 03"))
    assert [r[2] for r in searched[1:]] == ["+905320000003"]
    assert csv_rows(admin_client.get(url + "?q=nobody"))[1:] == []


def test_the_list_offers_the_download_with_its_filters(admin_client, messages):
    admin_client.cookies.load({"django_language": "en"})
    page = admin_client.get(reverse("admin:messaging_message_changelist") + "?status__exact=failed").content.decode()
    assert reverse("admin:messaging_message_export", args=["csv"]) + "?status__exact=failed" in page
    assert reverse("admin:messaging_message_export", args=["xlsx"]) + "?status__exact=failed" in page


def test_hostile_cells_are_neutralised_and_phone_numbers_kept(admin_client, messages):
    admin_client.cookies.load({"django_language": "en"})
    rows = csv_rows(admin_client.get(reverse("admin:messaging_message_export", args=["csv"])))
    reasons = {r[2]: r[-1] for r in rows[1:]}
    assert reasons["+905320000002"] == "'" + HOSTILE
    assert reasons["+905320000003"] == "'-1+1"
    assert "+905320000001" in reasons  # a phone number with its sign is no formula: kept as it is
    delivered = next(r for r in rows[1:] if r[2] == "+905320000001")
    assert delivered[1] == "2025-11-20 09:00:00" and delivered[6] == "Delivered"  # İstanbul time, the status in words


def test_message_history_as_xlsx_opens_in_openpyxl(admin_client, messages):
    admin_client.cookies.load({"django_language": "en"})
    rows = xlsx_rows(
        admin_client.get(reverse("admin:messaging_message_export", args=["xlsx"]) + "?status__exact=failed")
    )
    assert rows[0][:3] == ("Message id", "Created", "Recipient") and len(rows) == 3
    by_to = {r[2]: r for r in rows[1:]}
    assert by_to["+905320000002"][-1] == "'" + HOSTILE
    assert by_to["+905320000002"][1] == datetime(2025, 11, 20, 9, 0)  # a real date cell, İstanbul time


def test_a_campaign_report_holds_its_messages_only(admin_client, messages):
    kasim, _rows = messages
    admin_client.cookies.load({"django_language": "en"})
    report = csv_rows(admin_client.get(reverse("admin:channels_sms_smscampaign_report", args=[kasim.pk, "csv"])))
    assert report[0] == ["Message id", "Recipient", "Contact (external id)", "Status", "Provider status", "Created",
                         "Accepted by the provider", "Final status at", "Read at", "Error or reason"]  # fmt: skip
    assert [r[1] for r in report[1:]] == ["+905320000001", "+905320000002"]
    assert report[1][6] == "2025-11-20 10:05:00" and report[2][-1] == "'" + HOSTILE
    book = xlsx_rows(admin_client.get(reverse("admin:channels_sms_smscampaign_report", args=[kasim.pk, "xlsx"])))
    assert [r[1] for r in book[1:]] == ["+905320000001", "+905320000002"]
    assert book[1][6] == datetime(2025, 11, 20, 10, 5) and book[2][-1] == "'" + HOSTILE


def test_the_preview_links_the_report_for_those_who_may_view_messages(admin_client, messages):
    kasim, _rows = messages
    page = admin_client.get(reverse("admin:channels_sms_smscampaign_preview", args=[kasim.pk])).content.decode()
    assert reverse("admin:channels_sms_smscampaign_report", args=[kasim.pk, "xlsx"]) in page
    assert reverse("admin:channels_sms_smscampaign_delivery", args=[kasim.pk]) in page


def test_only_users_who_may_view_messages_can_download(client, django_user_model, messages):
    kasim, _rows = messages
    clerk = django_user_model.objects.create_user("clerk", password="clerk-pass-123", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_smscampaign"))
    client.force_login(clerk)
    assert client.get(reverse("admin:channels_sms_smscampaign_preview", args=[kasim.pk])).status_code == 200
    preview = client.get(reverse("admin:channels_sms_smscampaign_preview", args=[kasim.pk])).content.decode()
    assert "report-csv" not in preview
    for fmt in ("csv", "xlsx"):
        assert client.get(reverse("admin:messaging_message_export", args=[fmt])).status_code == 403
        assert client.get(reverse("admin:channels_sms_smscampaign_report", args=[kasim.pk, fmt])).status_code == 403
    clerk.user_permissions.add(Permission.objects.get(codename="view_message"))
    clerk = django_user_model.objects.get(pk=clerk.pk)  # permissions are cached on the instance
    client.force_login(clerk)
    assert client.get(reverse("admin:channels_sms_smscampaign_report", args=[kasim.pk, "csv"])).status_code == 200
    assert client.get(reverse("admin:messaging_message_export", args=["pdf"])).status_code == 404


def test_a_marketer_downloads_message_history(client, marketer, messages):
    client.force_login(marketer)
    response = client.get(reverse("admin:messaging_message_export", args=["xlsx"]))
    assert response.status_code == 200 and len(xlsx_rows(response)) == 4
