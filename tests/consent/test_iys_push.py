"""Sync mode: the panel's consent changes go to İYS (C2), and their results come back (C3)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache

from consent.iys.sync import iys_push
from consent.models import Consent, IysSubmission, SubmissionState
from consent.services import ConsentInput, consent_apply
from tests.consent.test_iys import client, install
from tests.contacts.helpers import import_data_file
from tests.fakes.iys import FakeIys

pytestmark = pytest.mark.django_db
IST = ZoneInfo("Europe/Istanbul")


def states():
    return dict(IysSubmission.objects.values_list("change__recipient", "state"))


def test_sync_round_trip_upload_pending_submitted_confirmed(fake_iys):
    account = install(fake_iys, mode="sync")
    import_data_file("sms-iys", "sms_iys_mixed.txt")
    by_recipient = states()
    assert by_recipient["+905331234563"] == SubmissionState.PENDING
    assert by_recipient["+905331234562"] == SubmissionState.SKIPPED  # a first RET (iys.md §8.4)
    assert by_recipient["+447911123456"] == SubmissionState.SKIPPED  # İYS covers Turkish numbers only
    assert "first RET" in IysSubmission.objects.get(change__recipient="+905331234562").skip_reason

    assert iys_push(account=account)["submitted"] == 3
    assert set(IysSubmission.objects.exclude(state=SubmissionState.SKIPPED).values_list("state", flat=True)) == {
        SubmissionState.SUBMITTED
    }
    posted = [body for method, path, body in fake_iys.received if path.endswith("/consents/request")]
    assert len(posted) == 1 and len(posted[0]) == 3
    sent = {item["recipient"]: item for item in posted[0]}
    assert sent["+905331234563"]["consentDate"] == "2025-05-15 14:23:00" and sent["+905331234563"]["source"] == "HS_WEB"
    assert sent["+905331234580"]["consentDate"] == "2015-05-01 00:00:00"  # HS_2015 first: earliest deadline

    assert iys_push(account=account)["confirmed"] == 0  # İYS still has them queued ("enqueue")
    assert iys_push(account=account)["confirmed"] == 3
    done = IysSubmission.objects.get(change__recipient="+905331234563")
    assert done.state == SubmissionState.CONFIRMED and len(done.transaction_id) == 64 and done.iys_created_at
    assert Consent.objects.get(recipient="+905331234563").iys_confirmed_at is not None
    assert iys_push(account=account) == {"submitted": 0, "confirmed": 0, "rejected": 0, "retrying": 0}


def test_iys_refusals_are_kept_with_their_code_and_duplicates_count_as_confirmed(fake_iys):
    account = install(fake_iys, mode="sync")
    iys = client(fake_iys)
    iys.add_consent(
        {
            "recipient": "+905331111111",
            "recipientType": "BIREYSEL",
            "type": "MESAJ",
            "status": "ONAY",
            "source": "HS_WEB",
            "consentDate": "2025-06-01 10:00:00",
        }
    )
    iys.add_consent(
        {
            "recipient": "+905332222222",
            "recipientType": "BIREYSEL",
            "type": "MESAJ",
            "status": "ONAY",
            "source": "HS_WEB",
            "consentDate": "2025-06-01 10:00:00",
        }
    )
    iys.add_consent(
        {
            "recipient": "+905332222222",
            "recipientType": "BIREYSEL",
            "type": "MESAJ",
            "status": "RET",
            "source": "HS_WEB",
            "consentDate": "2025-06-10 10:00:00",
        }
    )
    day = datetime(2025, 5, 20, 9, 0, tzinfo=IST)
    consent_apply(
        changes=[
            ConsentInput(recipient="+905331111111", type="MESAJ", status="ONAY", consent_date=day, source="HS_WEB"),
            ConsentInput(recipient="+905332222222", type="MESAJ", status="ONAY", consent_date=day, source="HS_WEB"),
        ],
        origin="upload",
    )
    fake_iys.polls_before_done = 0
    iys_push(account=account)
    result = iys_push(account=account)
    assert result["confirmed"] == 1 and result["rejected"] == 1
    duplicate = IysSubmission.objects.get(change__recipient="+905331111111")
    assert duplicate.state == SubmissionState.CONFIRMED and duplicate.error_code == "H174"
    older = IysSubmission.objects.get(change__recipient="+905332222222")
    assert older.state == SubmissionState.REJECTED and older.error_code == "H178" and older.error_message


def test_batches_hold_at_most_the_limit_and_a_recipient_waits_for_its_earlier_change(fake_iys):
    account = install(fake_iys, mode="sync")
    day = datetime(2025, 5, 20, 9, 0, tzinfo=IST)
    changes = [
        ConsentInput(recipient=f"+90533{i:07d}", type="MESAJ", status="ONAY", consent_date=day, source="HS_WEB")
        for i in range(25)
    ]
    consent_apply(changes=changes, origin="upload")
    consent_apply(
        changes=[
            ConsentInput(
                recipient="+905330000000",
                type="MESAJ",
                status="RET",
                consent_date=day.replace(hour=10),
                source="HS_WEB",
            )
        ],
        origin="admin",
    )
    fake_iys.polls_before_done = 0
    assert iys_push(account=account, batch_size=10)["submitted"] == 25  # the RET waits for its ONAY
    assert iys_push(account=account, batch_size=10) == {"submitted": 1, "confirmed": 25, "rejected": 0, "retrying": 0}
    assert iys_push(account=account, batch_size=10)["confirmed"] == 1
    bodies = [body for _, path, body in fake_iys.received if path.endswith("/consents/request")]
    assert [len(b) for b in bodies] == [10, 10, 5, 1]
    assert bodies[-1][0]["status"] == "RET"
    assert Consent.objects.get(recipient="+905330000000").iys_confirmed_at is not None
    for body in bodies:
        assert len({item["recipient"] for item in body}) == len(body)


def test_integrator_mode_never_creates_iys_records(fake_iys):
    install(fake_iys, mode="integrator")
    import_data_file("sms-iys", "sms_iys_mixed.txt")
    assert not IysSubmission.objects.exists()


def test_status_command_screens_and_retry_action(fake_iys, admin_client, capsys):
    from django.core.management import call_command
    from django.urls import reverse

    account = install(fake_iys, mode="sync")
    import_data_file("sms-iys", "sms_iys_mixed.txt")
    fake_iys.fail_next_with_429 = 100  # İYS keeps refusing: the batch waits as "retrying"
    iys_push(account=account)
    fake_iys.fail_next_with_429 = 0
    call_command("iys_status")
    out = capsys.readouterr().out
    assert "backlog: 3" in out and "retrying: 3" in out and "errors: H124: 3" in out
    page = admin_client.get(reverse("admin:consent_iyssubmission_changelist"), {"state__exact": "retrying"})
    assert page.status_code == 200 and page.context["cl"].result_count == 3
    ids = list(IysSubmission.objects.filter(state="retrying").values_list("pk", flat=True))
    admin_client.post(
        reverse("admin:consent_iyssubmission_changelist"), {"action": "retry_now", "_selected_action": ids}
    )
    assert iys_push(account=account)["submitted"] == 3
    dashboard = admin_client.get(reverse("admin:dashboard_json")).json()
    assert any(f["key"] == "iys_backlog" for f in dashboard["figures"])


@pytest.mark.services
def test_a_worker_killed_mid_batch_loses_nothing_and_iys_records_nothing_twice(real_celery, tmp_path):
    import signal
    import time

    from consent.tasks import iys_push as push_task

    fake = FakeIys(iys_code=700100, brands=(700100,)).start()
    try:
        cache.clear()
        account = install(fake, mode="sync")
        day = datetime(2025, 5, 20, 9, 0, tzinfo=IST)
        consent_apply(
            changes=[
                ConsentInput(recipient=f"+90533{i:07d}", type="MESAJ", status="ONAY", consent_date=day, source="HS_WEB")
                for i in range(40)
            ],
            origin="upload",
        )
        fake.c2_delay = 30
        fake.polls_before_done = 0
        worker = real_celery("iys", env={"IYS_CLAIM_TIMEOUT_SECONDS": "1"})
        push_task.delay()
        deadline = time.monotonic() + 60
        while not fake.requests:  # İYS has the batch; the worker waits for the answer
            assert time.monotonic() < deadline, "the worker never sent the batch"
            time.sleep(0.05)
        worker.kill(signal.SIGKILL)
        assert set(IysSubmission.objects.values_list("state", flat=True)) == {SubmissionState.PENDING}
        assert IysSubmission.objects.filter(claim__isnull=False).count() == 40
        fake.c2_delay = 0
        time.sleep(1.1)  # the dead worker's claim goes stale
        real_celery("iys", env={"IYS_CLAIM_TIMEOUT_SECONDS": "1"})
        push_task.delay().get(timeout=60)  # re-sends the batch: İYS answers H174 for each
        push_task.delay().get(timeout=60)  # polls the results
        assert set(IysSubmission.objects.values_list("state", flat=True)) == {SubmissionState.CONFIRMED}
        assert len([m for m in fake.movements if m["origin"] == "HS"]) == 40  # each consent once at İYS
        assert account.pk
    finally:
        fake.stop()
