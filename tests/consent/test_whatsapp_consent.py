"""product.md WhatsApp channel 'WhatsApp consent': a consent like the others (opt-in / opt-out with
its date and source, every change in the same append-only history, one write path), never sent to
İYS; its sources are the WhatsApp number import, the contact page, an inbound STOP or the
stop-promotions button, and Meta's error 131050. The contact's fields show what the ledger holds."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone, translation

from consent.contact_changes import consent_whatsapp_opt_out, whatsapp_consent_change
from consent.iys.sync import iys_pull
from consent.models import ChangeOrigin, Consent, ConsentChange, IysSubmission
from consent.selectors import is_sendable
from consent.services import ConsentInput, consent_apply
from contacts.models import Contact, FileTransferStatus
from contacts.parsers import Rejection
from providers.models import ProviderAccount
from providers.roles import ADMIN, MARKETER
from tests.consent.factories import record_onay
from tests.consent.test_iys import install
from tests.contacts.factories import ContactFactory
from tests.contacts.helpers import import_data_file, rejections

pytestmark = pytest.mark.django_db
IST = ZoneInfo("Europe/Istanbul")
NUMBER = "+905331234562"


def sync_mode():
    return ProviderAccount.objects.create(name="İYS", connector="iys", channel="iys", settings={"mode": "sync"})


def whatsapp_file(tmp_path, text, name="wa.csv"):
    from django.core.files import File

    from contacts.imports import file_transfer_create, file_transfer_run

    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with open(path, "rb") as fh:
        transfer = file_transfer_create(name=f"file {name}", kind="whatsapp", upload=File(fh, name=name), enqueue=False)
    return file_transfer_run(transfer_id=transfer.pk)


def history(number):
    return list(
        ConsentChange.objects.filter(recipient=number, type="WHATSAPP")
        .order_by("pk")
        .values_list("previous_status", "status", "origin", "source")
    )


def fields(contact):
    contact.refresh_from_db()
    return contact.whatsapp_consent, contact.whatsapp_consent_at, contact.whatsapp_consent_source


def change(status, when, number=NUMBER, **kw):
    return ConsentInput(
        recipient=number, type="WHATSAPP", status=status, consent_date=when, source=kw.pop("source", "HS_WEB"), **kw
    )


# --- the number import -----------------------------------------------------------------------
def test_the_import_writes_each_change_to_the_ledger_once_and_the_contact_follows_it(tmp_path):
    sync_mode()  # even in Sync mode nothing of it goes to İYS
    existing = ContactFactory(external_id="user456", email="keep@example.com", phone="+905330000000")
    with translation.override("en"):  # the reasons are written in the active language
        transfer = import_data_file("whatsapp", "whatsapp.csv")
    assert (transfer.created_count, transfer.updated_count, transfer.rejected_count) == (2, 1, 5)
    consents = {c.recipient: c for c in Consent.objects.filter(type="WHATSAPP")}
    assert {n: c.status for n, c in consents.items()} == {
        "+905331234562": "ONAY",
        "+905320000001": "ONAY",
        "+905320000002": "RET",
    }
    assert consents["+905331234562"].contact_id == existing.pk
    rows = ConsentChange.objects.filter(type="WHATSAPP")
    assert rows.count() == 3 and {r.file_transfer_id for r in rows} == {transfer.pk}
    assert {(r.origin, r.source, r.origin_ref) for r in rows} == {
        ("upload", "NOT_STATED", "whatsapp.csv (whatsapp.csv)")
    }
    consent = consents["+905331234562"]
    assert fields(existing) == ("opt_in", consent.consent_date, "whatsapp.csv (whatsapp.csv)")
    assert "'3' is not 1 (opt-in) or 2 (opt-out)" in rejections(transfer)[5]
    assert not Consent.objects.filter(recipient="+905320000003").exists()  # a rejected line writes nothing
    assert not IysSubmission.objects.exists()

    again = import_data_file("whatsapp", "whatsapp.csv")
    assert (again.unchanged_count, ConsentChange.objects.count()) == (3, 3)  # unchanged lines: no history

    flipped = whatsapp_file(tmp_path, "wpNumber,permission\n905331234562,2\n905320000001,1\n")
    assert (flipped.updated_count, flipped.unchanged_count) == (1, 1)
    assert history(NUMBER) == [("", "ONAY", "upload", "NOT_STATED"), ("ONAY", "RET", "upload", "NOT_STATED")]
    consent = Consent.objects.get(recipient=NUMBER, type="WHATSAPP")
    assert fields(existing) == ("opt_out", consent.consent_date, "wa.csv (file wa.csv)")
    assert is_sendable(contact_id=existing.pk, kind="newsletter", channel="whatsapp") == (False, "no_whatsapp_opt_in")
    assert not IysSubmission.objects.exists()


def test_a_number_moves_to_the_contact_of_the_newer_file_and_its_consent_with_it(tmp_path):
    first, second = ContactFactory(external_id="a"), ContactFactory(external_id="b")
    whatsapp_file(tmp_path, "exid,wpNumber,permission\na,905331234562,1\n", name="first.csv")
    given = fields(first)
    assert given[0] == "opt_in"
    moved = whatsapp_file(tmp_path, "exid,wpNumber,permission\nb,905331234562,1\n", name="second.csv")
    assert moved.updated_count == 1
    first.refresh_from_db()
    assert (first.whatsapp_number, fields(first)) == (None, ("unknown", None, ""))
    # the number's consent is unchanged (same status): the new holder shows it as the ledger has it
    assert Contact.objects.get(pk=second.pk).whatsapp_number == NUMBER and fields(second) == given
    assert Consent.objects.get(recipient=NUMBER).contact_id == second.pk
    assert len(history(NUMBER)) == 1
    whatsapp_file(tmp_path, "exid,wpNumber,permission\nb,905331234562,2\n", name="third.csv")
    assert fields(second)[0] == "opt_out" and fields(second)[2] == "third.csv (file third.csv)"
    assert list(ConsentChange.objects.filter(recipient=NUMBER).order_by("pk").values_list("contact_id", flat=True)) == [
        first.pk,
        second.pk,
    ]


def test_within_one_file_the_later_line_decides(tmp_path):
    contact = ContactFactory(external_id="x1")
    result = whatsapp_file(tmp_path, "exid,wpNumber,permission\nx1,905331234562,1\n,905331234562,2\n")
    assert result.status == FileTransferStatus.DONE and (result.created_count, result.updated_count) == (0, 2)
    assert fields(contact)[0] == "opt_out"
    assert history(NUMBER) == [("", "RET", "upload", "NOT_STATED")]  # one change per number and batch


def test_a_contact_leaving_a_number_in_the_file_frees_it(tmp_path):
    holder = ContactFactory(external_id="x1", whatsapp_number="+905330000001")
    text = "exid,wpNumber,permission\nx1,905330000002,1\n,905330000001,2\n"
    assert whatsapp_file(tmp_path, text).created_count == 1
    holder.refresh_from_db()
    assert holder.whatsapp_number == "+905330000002" and fields(holder)[0] == "opt_in"
    newcomer = Contact.objects.get(whatsapp_number="+905330000001")
    assert newcomer.pk != holder.pk and fields(newcomer)[0] == "opt_out"


# --- STOP, the stop-promotions button, Meta's 131050 ------------------------------------------
def test_whatsapp_opt_out_writes_a_ret_with_history_and_never_an_iys_submission(tmp_path):
    sync_mode()
    contact = ContactFactory(phone=NUMBER, whatsapp_number=NUMBER, sms_subscription="subscribed")
    record_onay(contact)  # SMS: another channel, untouched by a WhatsApp STOP
    whatsapp_file(tmp_path, f"wpNumber,permission\n{NUMBER[1:]},1\n")
    submissions = IysSubmission.objects.count()
    assert submissions == 1  # the MESAJ ONAY: Sync mode is on
    stop_at = timezone.now()  # the message's time: after the file (an older STOP would not replace its opt-in)
    results = consent_whatsapp_opt_out(
        numbers=[NUMBER, "0533 123", "+905339999999"],
        origin=ChangeOrigin.INBOUND,
        origin_ref="WhatsApp reply (provider account 7)",
        at=stop_at,
    )
    assert results[0] == "updated" and isinstance(results[1], Rejection) and results[2] == "created"
    assert history(NUMBER)[-1] == ("ONAY", "RET", "inbound", "WHATSAPP")
    assert fields(contact) == ("opt_out", stop_at, "WhatsApp reply (provider account 7)")
    assert Consent.objects.get(recipient="+905339999999").contact_id is None  # no contact holds it (yet)
    assert is_sendable(contact_id=contact.pk, kind="transactional", channel="whatsapp")[0] is False
    assert Contact.objects.get(pk=contact.pk).sms_subscription == "subscribed"
    assert Consent.objects.get(recipient=NUMBER, type="MESAJ").status == "ONAY"

    again = consent_whatsapp_opt_out(numbers=[NUMBER], origin=ChangeOrigin.PROVIDER, origin_ref="Meta 131050")
    assert again == ["unchanged"] and len(history(NUMBER)) == 2  # already out: nothing new
    assert IysSubmission.objects.count() == submissions
    with pytest.raises(ValueError):
        consent_whatsapp_opt_out(numbers=[NUMBER], origin=ChangeOrigin.UPLOAD, origin_ref="x")


def test_meta_131050_and_a_stop_dated_in_the_future_are_taken_at_now():
    contact = ContactFactory(whatsapp_number=NUMBER)
    before = timezone.now()
    [result] = consent_whatsapp_opt_out(
        numbers=[NUMBER],
        origin=ChangeOrigin.PROVIDER,
        origin_ref="message 12: Meta 131050",
        at=before + timedelta(hours=1),
    )
    assert result == "created"
    assert history(NUMBER) == [("", "RET", "provider", "WHATSAPP")]
    assert before <= fields(contact)[1] <= timezone.now()


# --- the ledger's rules for WHATSAPP ----------------------------------------------------------
def test_whatsapp_keeps_the_rules_that_make_sense_without_iys():
    now = timezone.now()
    old = datetime(2014, 1, 1, 10, tzinfo=IST)  # before İYS existed: fine for WhatsApp
    assert consent_apply(changes=[change("ONAY", old)], origin="admin") == ["created"]
    assert consent_apply(changes=[change("RET", old - timedelta(days=1))], origin="admin") == ["unchanged"]
    refused = consent_apply(
        changes=[
            change("RET", now + timedelta(days=1)),  # the future
            change("ONAY", now, source="IYS_WEB"),  # İYS's own sources
            change("ONAY", now, source="HS_2015"),  # İYS's start date rule
            change("ONAY", now, source="HS_KARAR"),  # the brand's decision is a RET
            change("ONAY", now, recipient_type="TACIR"),
            change("ONAY", now, number="a@example.com"),
            ConsentInput(recipient=NUMBER, type="MESAJ", status="ONAY", consent_date=now, source="NOT_STATED"),
        ],
        origin="admin",
    )
    assert all(isinstance(r, Rejection) for r in refused), refused
    assert consent_apply(changes=[change("RET", now, source="HS_KARAR")], origin="admin") == ["updated"]
    assert not IysSubmission.objects.exists()


def test_an_iys_pull_never_touches_whatsapp_consent(fake_iys):
    install(fake_iys, mode="sync")
    consent_apply(changes=[change("ONAY", timezone.now() - timedelta(days=3))], origin="admin")
    fake_iys.citizen(NUMBER, "RET", type_="WHATSAPP")
    fake_iys.citizen(NUMBER, "RET")  # a MESAJ RET in the same feed is taken
    assert iys_pull(account=install(fake_iys)) == {"HS": 0, "IYS": 2}
    assert Consent.objects.get(recipient=NUMBER, type="WHATSAPP").status == "ONAY"
    assert Consent.objects.get(recipient=NUMBER, type="MESAJ").status == "RET"
    assert not ConsentChange.objects.filter(type="WHATSAPP", origin="iys_pull").exists()
    refused = consent_apply(changes=[change("RET", timezone.now())], origin="iys_pull")
    assert "İYS holds no WHATSAPP consent" in refused[0].reason


# --- the contact page -------------------------------------------------------------------------
@pytest.fixture(params=[MARKETER, ADMIN])
def staff(request, client, django_user_model):
    user = django_user_model.objects.create_user("ayse", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=request.param))
    client.force_login(user)
    return user


def test_the_contact_page_changes_whatsapp_consent_only_with_evidence(client, staff):
    sync_mode()
    contact = ContactFactory(whatsapp_number=NUMBER)
    page = client.get(reverse("admin:contacts_contact_change", args=[contact.pk])).content.decode()
    url = reverse("admin:consent_whatsapp_change", args=[contact.pk])
    assert url in page
    assert 'name="whatsapp_consent"' not in page  # never a bare switch
    when = (timezone.localtime() - timedelta(hours=1)).replace(second=0, microsecond=0)
    data = {"opt_in": "1", "source": "HS_ISLAK_IMZA", "consent_date": when.strftime("%Y-%m-%d %H:%M")}
    for evidence in ("", "   "):
        response = client.post(url, {**data, "evidence": evidence})
        assert response.status_code == 200 and response.context["form"].errors
    assert not ConsentChange.objects.exists()
    response = client.post(url, {**data, "evidence": "signed form 1234, Kadıköy store"})
    assert response.status_code == 302
    row = ConsentChange.objects.get()
    assert (row.type, row.status, row.source, row.origin, row.acting_username) == (
        "WHATSAPP",
        "ONAY",
        "HS_ISLAK_IMZA",
        "admin",
        "ayse",
    )
    assert row.origin_ref == f"contact {contact.pk} page: signed form 1234, Kadıköy store"
    assert fields(contact) == ("opt_in", when, row.origin_ref)
    assert is_sendable(contact_id=contact.pk, kind="newsletter", channel="whatsapp") == (True, "")
    assert not IysSubmission.objects.exists()
    page = client.get(reverse("admin:contacts_contact_change", args=[contact.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert "Kadıköy store" in page.content.decode()  # in the history inline and the source field


def test_the_whatsapp_page_refuses_what_the_ledger_refuses(client, staff):
    client.cookies.load({"django_language": "en"})  # the refusals are in the user's language
    contact = ContactFactory(whatsapp_number=NUMBER)
    url = reverse("admin:consent_whatsapp_change", args=[contact.pk])
    future = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%d %H:%M")
    cases = [
        ({"opt_in": "0", "source": "HS_WEB", "consent_date": future}, "the consent date is in the future"),
        ({"opt_in": "1", "source": "HS_KARAR", "consent_date": "2025-01-02 10:00"}, "only allowed with RET"),
        ({"opt_in": "1", "source": "NOT_STATED", "consent_date": "2025-01-02 10:00"}, ""),  # not offered
    ]
    for data, message in cases:
        response = client.post(url, {**data, "evidence": "an e-mail"})
        assert response.status_code == 200
        errors = response.context["form"].errors
        assert message in " ".join(errors["__all__"]) if message else list(errors) == ["source"], data
    no_number = ContactFactory(whatsapp_number=None)
    response = client.post(
        reverse("admin:consent_whatsapp_change", args=[no_number.pk]),
        {"opt_in": "1", "source": "HS_WEB", "consent_date": "2025-01-02 10:00", "evidence": "an e-mail"},
    )
    assert "no WhatsApp number" in " ".join(response.context["form"].errors["__all__"])
    assert not ConsentChange.objects.exists()


def test_staff_without_the_consent_permission_cannot_change_whatsapp_consent(client, django_user_model):
    user = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    client.force_login(user)
    contact = ContactFactory(whatsapp_number=NUMBER)
    response = client.post(
        reverse("admin:consent_whatsapp_change", args=[contact.pk]),
        {"opt_in": "1", "source": "HS_WEB", "consent_date": "2025-01-02 10:00", "evidence": "an e-mail"},
    )
    assert response.status_code == 403 and not ConsentChange.objects.exists()


def test_the_service_dates_the_change_as_given_and_an_older_date_changes_nothing():
    contact = ContactFactory(whatsapp_number=NUMBER)
    at = datetime(2025, 3, 1, 9, 30, tzinfo=IST)
    result = whatsapp_consent_change(
        contact=contact, opt_in=True, source="HS_WEB", consent_date=at, evidence="web form"
    )
    assert result == "created" and fields(contact)[:2] == ("opt_in", at)
    older = at - timedelta(days=1)
    assert (
        whatsapp_consent_change(contact=contact, opt_in=False, source="HS_WEB", consent_date=older, evidence="call")
        == "unchanged"
    )
    assert fields(contact)[0] == "opt_in"
