"""The backfill after install and the Integrator-mode checks, against the fake İYS's status
queries (C5 which-are-ONAY, C4 one record) over real HTTP."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from consent.iys.backfill import backfill_for, backfill_run, backfill_start_time, iys_confirm_awaiting
from consent.models import (
    BackfillState,
    Consent,
    ConsentChange,
    IysBackfill,
    IysSubmission,
    SubmissionState,
)
from consent.selectors import Exclusion, is_sendable
from consent.services import ConsentInput, consent_apply
from tests.consent.factories import record_onay
from tests.consent.test_iys import install
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db
IST = ZoneInfo("Europe/Istanbul")
LONG_AGO = datetime(2020, 3, 1, 9, tzinfo=IST)


def c5_calls(fake):
    return [body for method, path, body in fake.received if "/status/MESAJ" in path]


def test_backfill_starts_the_night_of_installation_at_the_configured_hour(fake_iys):
    account = install(fake_iys, backfill_hour="3")
    account.created_at = datetime(2026, 11, 23, 14, 30, tzinfo=IST)
    assert backfill_start_time(account) == datetime(2026, 11, 24, 3, 0, tzinfo=IST)
    account.created_at = datetime(2026, 11, 24, 1, 15, tzinfo=IST)  # installed after midnight: that same night
    assert backfill_start_time(account) == datetime(2026, 11, 24, 3, 0, tzinfo=IST)

    ContactFactory(phone="+905331110000")
    backfill = backfill_run(account=account, now=backfill_for(account).starts_at - timedelta(minutes=1))
    assert backfill.state == BackfillState.SCHEDULED and not c5_calls(fake_iys)
    backfill = backfill_run(account=account, now=backfill.starts_at + timedelta(minutes=1))
    assert backfill.state == BackfillState.DONE and backfill.processed == 1 and backfill.percent == 100


def test_backfill_in_sync_mode_confirms_imports_and_queues(fake_iys):
    recent = timezone.now() - timedelta(hours=3)
    confirmed = ContactFactory(phone="+905331110001")
    record_onay(confirmed)
    fake_iys.holds(confirmed.phone, "ONAY", consent_date=datetime(2025, 5, 1, 10, tzinfo=IST))
    unsent = ContactFactory(phone="+905331110002")  # collected before the connector was installed
    record_onay(unsent, when=recent)
    stale = ContactFactory(phone="+905331110003")  # too old for İYS to accept now (iys.md §8.7)
    record_onay(stale, when=LONG_AGO)
    at_iys_only = ContactFactory(phone="+905331110004")
    fake_iys.holds(at_iys_only.phone, "ONAY", consent_date=LONG_AGO, source="HS_ISLAK_IMZA")
    opted_out = ContactFactory(phone="+905331110005")  # our RET is later than İYS's ONAY
    fake_iys.holds(opted_out.phone, "ONAY", consent_date=LONG_AGO)
    consent_apply(
        changes=[
            ConsentInput(
                recipient=opted_out.phone,
                type="MESAJ",
                status="RET",
                source="HS_WEB",
                consent_date=recent,
                contact_id=opted_out.pk,
            )
        ],
        origin="admin",
    )
    abroad = ContactFactory(phone="+447911123456")
    no_phone = ContactFactory(phone=None)
    account = install(fake_iys, mode="sync")
    assert IysSubmission.objects.count() == 0  # nothing was queued before install

    call_command("iys_sync", "--backfill")
    backfill = IysBackfill.objects.get(account=account)
    assert backfill.state == BackfillState.DONE and (backfill.processed, backfill.total) == (5, 5)
    assert (backfill.confirmed, backfill.imported, backfill.queued, backfill.not_at_iys) == (1, 1, 1, 1)

    consents = {c.recipient: c for c in Consent.objects.all()}
    assert consents[confirmed.phone].iys_confirmed_at is not None
    taken = consents[at_iys_only.phone]
    assert (taken.status, taken.source, taken.contact_id) == ("ONAY", "HS_ISLAK_IMZA", at_iys_only.pk)
    assert taken.consent_date == LONG_AGO and taken.iys_confirmed_at is not None
    assert ConsentChange.objects.get(recipient=at_iys_only.phone).origin == "iys_pull"
    assert consents[opted_out.phone].status == "RET"  # a later date wins, whichever side holds it
    [queued] = IysSubmission.objects.exclude(change__recipient=opted_out.phone)
    assert queued.change.recipient == unsent.phone and queued.state == SubmissionState.PENDING
    assert consents[stale.phone].iys_confirmed_at is None
    checked = {r for body in c5_calls(fake_iys) for r in body["recipients"]}
    assert abroad.phone not in checked and no_phone.phone is None and len(c5_calls(fake_iys)) == 1

    call_command("iys_sync", "--backfill")  # done: running it again asks İYS nothing
    assert len(c5_calls(fake_iys)) == 1


def test_backfill_is_resumable_in_batches_of_100(fake_iys, capsys):
    account = install(fake_iys)
    for i in range(250):
        ContactFactory(phone=f"+9053322{i:05d}")
    call_command("iys_sync", "--backfill", "--batches", "1")
    backfill = IysBackfill.objects.get(account=account)
    assert backfill.state == BackfillState.RUNNING and backfill.processed == 100 and backfill.percent == 40
    assert "backfill 40% (100 of 250 contacts)" in capsys.readouterr().out
    backfill_run(account=account, force=True)  # a later run resumes after the last contact checked
    backfill.refresh_from_db()
    assert backfill.state == BackfillState.DONE and backfill.processed == 250
    sizes = [len(body["recipients"]) for body in c5_calls(fake_iys)]
    assert sizes == [100, 100, 50]
    checked = [r for body in c5_calls(fake_iys) for r in body["recipients"]]
    assert len(checked) == len(set(checked)) == 250  # nobody twice
    call_command("iys_status")
    assert "backfill (İYS): done 100%, 250 of 250 contacts" in capsys.readouterr().out


def test_integrator_mode_uploaded_onay_counts_once_iys_confirms_it(fake_iys, settings):
    account = install(fake_iys, mode="integrator")
    held = ContactFactory(phone="+905331110011")
    not_held = ContactFactory(phone="+905331110012")
    record_onay(held)
    record_onay(not_held)
    assert IysSubmission.objects.count() == 0  # Integrator mode never writes to İYS
    for contact in (held, not_held):
        assert is_sendable(contact_id=contact.pk, kind="newsletter", channel="sms") == (False, Exclusion.AWAITING_IYS)
    fake_iys.holds(held.phone, "ONAY", consent_date=datetime(2025, 5, 1, 10, tzinfo=IST))

    counts = iys_confirm_awaiting(account=account)
    assert counts["confirmed"] == 1 and counts["not_at_iys"] == 1
    assert is_sendable(contact_id=held.pk, kind="newsletter", channel="sms") == (True, "")
    assert is_sendable(contact_id=not_held.pk, kind="newsletter", channel="sms") == (False, Exclusion.AWAITING_IYS)
    calls = len(c5_calls(fake_iys))
    assert iys_confirm_awaiting(account=account) == {}  # checked again only after IYS_RECHECK_MINUTES
    assert len(c5_calls(fake_iys)) == calls
    fake_iys.holds(not_held.phone, "ONAY", consent_date=datetime(2025, 5, 1, 10, tzinfo=IST))
    settings.IYS_RECHECK_MINUTES = 0
    assert iys_confirm_awaiting(account=account)["confirmed"] == 1
    assert is_sendable(contact_id=not_held.pk, kind="newsletter", channel="sms") == (True, "")
    # İYS later stops holding it (a citizen's RET, say): the confirmation goes, so does sending
    del fake_iys.consents[(700100, held.phone, "BIREYSEL", "MESAJ")]
    iys_confirm_awaiting(account=account)
    backfill_run(account=account, force=True)
    assert is_sendable(contact_id=held.pk, kind="newsletter", channel="sms") == (False, Exclusion.AWAITING_IYS)


def test_status_page_shows_backlog_errors_and_backfill_progress(fake_iys, client, django_user_model):
    account = install(fake_iys)
    for i in range(3):
        ContactFactory(phone=f"+9053344{i:05d}")
    marketer = django_user_model.objects.create_user("ayse", password="pw", is_staff=True)
    marketer.groups.add(Group.objects.get(name="Marketer"))
    client.force_login(marketer)
    url = reverse("admin:consent_iysbackfill_changelist")
    page = client.get(url).content.decode()
    assert "İYS durumu" in page and "Bekleyen iş" in page and "Zamanlandı" in page  # Turkish UI
    assert "Şimdi başlat" not in page  # marketers read; admins start
    admin = django_user_model.objects.create_superuser("root", password="pw")
    client.force_login(admin)
    backfill = backfill_for(account)
    response = client.post(url, {"start_now": backfill.pk})
    assert response.status_code == 302
    backfill.refresh_from_db()
    assert backfill.starts_at <= timezone.now()
    backfill_run(account=account, max_batches=1)
    page = client.get(url).content.decode()
    assert 'value="100"' in page and "3 kişiden 3 tanesi kontrol edildi" in page
