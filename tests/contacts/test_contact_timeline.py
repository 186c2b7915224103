"""A contact's page shows its timeline: consent changes, messages with their status, list joins and
uploads, newest first, in Europe/Istanbul, a bounded number of queries, "show more" for older ones."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from consent.services import ConsentInput, consent_apply
from contacts.models import Contact, ContactListMembership, FileTransfer
from contacts.services import contact_list_add
from contacts.timeline import contact_timeline
from messaging.models import Message
from tests.contacts.factories import ContactFactory, ContactListFactory
from tests.providers.factories import ConsoleAccountFactory

pytestmark = pytest.mark.django_db
IST = ZoneInfo("Europe/Istanbul")


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def consent(contact, status, day):
    consent_apply(
        changes=[
            ConsentInput(
                recipient=contact.phone,
                type="MESAJ",
                status=status,
                consent_date=datetime(2025, 5, day, 12, 0, tzinfo=IST),
                source="HS_WEB",
                contact_id=contact.pk,
            )
        ],
        origin="admin",
    )


def message(contact, account, status, when, **extra):
    row = Message.objects.create(
        contact=contact, channel="sms", kind="newsletter", account=account, to=contact.phone, status=status, **extra
    )
    Message.objects.filter(pk=row.pk).update(created_at=when)
    return row


def test_the_timeline_merges_every_source_newest_first():
    contact = ContactFactory(phone="+905321234567")
    account = ConsoleAccountFactory()
    base = timezone.now() - timedelta(days=10)
    consent(contact, "ONAY", 1)  # recorded now: the newest
    message(contact, account, "delivered", base + timedelta(days=1))
    message(contact, account, "undelivered", base + timedelta(days=3), reason="invalid phone number")
    vip = ContactListFactory(name="VIP")
    contact_list_add(contact_list=vip, contact_ids=[contact.pk])
    ContactListMembership.objects.filter(contact=contact).update(added_at=base + timedelta(days=2))

    timeline = contact_timeline(contact=contact)
    kinds = [(e.kind, e.title) for e in timeline.entries]
    assert kinds == [
        ("consent", "Message (SMS) consent: Consent (ONAY)"),
        ("message", "SMS message: Undelivered"),
        ("list", "Joined the list “VIP”"),
        ("message", "SMS message: Delivered"),
    ]
    assert "invalid phone number" in timeline.entries[1].detail
    assert timeline.entries[0].url.startswith("/admin/consent/consentchange/")
    assert not timeline.more


def test_a_user_upload_that_put_the_contact_on_a_list_shows_as_an_upload(marketer):
    from tests.contacts.helpers import import_data_file

    transfer = import_data_file("users", "users.csv", label="Spring customers", user=marketer)
    contact = Contact.objects.filter(memberships__contact_list=transfer.contact_list).first()
    entry = next(e for e in contact_timeline(contact=contact).entries if e.kind == "upload")
    assert entry.title == "Added to the list “Spring customers” by the upload “Spring customers”"
    assert entry.detail == "users.csv"


def test_an_import_from_the_contacts_page_and_a_panel_edit_show(client, marketer):
    client.force_login(marketer)
    upload = SimpleUploadedFile("c.csv", b"external_id,phone,name\nq1,05321234567,Elif\n", content_type="text/csv")
    data = {"resource": "0", "format": "0", "import_file": upload}
    preview = client.post(reverse("admin:contacts_contact_import"), data)
    client.post(reverse("admin:contacts_contact_process_import"), preview.context["confirm_form"].initial)
    contact = Contact.objects.get(external_id="q1")
    LogEntry.objects.log_actions(
        marketer.pk, [contact], CHANGE, change_message=[{"changed": {"fields": ["Email"]}}], single_object=True
    )
    with translation.override("en"):  # a request left its language (Turkish) active
        entries = contact_timeline(contact=contact).entries
    assert [(e.kind, e.title) for e in entries] == [
        ("panel", "Changed in the panel by marketer"),
        ("upload", "Created by an import from a file (by marketer)"),
    ]
    assert entries[0].detail == "Changed Email."
    assert LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(Contact)).count() == 2


def test_the_page_shows_the_timeline_capped_with_show_more_in_istanbul_time(admin_client):
    contact = ContactFactory(phone="+905321234567")
    account = ConsoleAccountFactory()
    first = datetime(2025, 6, 1, 9, 30, tzinfo=ZoneInfo("UTC"))  # 12:30 in Istanbul
    for n in range(25):
        message(contact, account, "delivered", first + timedelta(minutes=n))
    url = reverse("admin:contacts_contact_change", args=[contact.pk])
    page = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert page.count('class="timeline-entry"') == 20
    assert "01.06.2025 12:54:00" in page and "01.06.2025 12:30:00" not in page  # newest first
    assert "?timeline=40#timeline" in page
    page = admin_client.get(url, {"timeline": "40"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert page.count('class="timeline-entry"') == 25 and "01.06.2025 12:30:00" in page
    assert "timeline-more" not in page  # nothing older: no "Show more" link
    assert admin_client.get(url, {"timeline": "²"}).status_code == 200  # not a number: the first entries


def test_the_timeline_costs_the_same_queries_however_long_the_history(admin_client):
    contact = ContactFactory(phone="+905321234567")
    account = ConsoleAccountFactory()
    url = reverse("admin:contacts_contact_change", args=[contact.pk])
    message(contact, account, "sent", timezone.now())
    contact_list_add(contact_list=ContactListFactory(), contact_ids=[contact.pk])
    admin_client.get(url)  # warm per-process caches (content types)
    with CaptureQueriesContext(connection) as few:
        admin_client.get(url)
    for n in range(30):
        message(contact, account, "delivered", timezone.now() - timedelta(hours=n))
        contact_list_add(contact_list=ContactListFactory(), contact_ids=[contact.pk])
    for day in range(2, 12):
        consent(contact, "RET" if day % 2 else "ONAY", day)
    with CaptureQueriesContext(connection) as many:
        admin_client.get(url)
    assert len(many) == len(few)


def test_file_transfers_of_other_kinds_are_not_upload_joins():
    contact = ContactFactory()
    target = ContactListFactory(name="Manual")
    FileTransfer.objects.create(name="x", kind="sms-iys", original_name="x.txt", contact_list=target)
    contact_list_add(contact_list=target, contact_ids=[contact.pk])
    assert [e.kind for e in contact_timeline(contact=contact).entries] == ["list"]
