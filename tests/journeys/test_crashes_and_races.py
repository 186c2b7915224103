"""A journey step runs exactly once whatever crashes (CONVENTIONS 13): a real worker killed in the
middle of a batch (its send step's messages being written) leaves nothing half done, and the batch
runs again once its claim goes stale; two workers racing over the same due enrolments never run a
step twice. PostgreSQL (CI): SKIP LOCKED, row locks and real processes."""

import signal
import threading
import time
from datetime import timedelta

import psycopg
import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from contacts.models import Contact
from journeys.engine import enrolments_free_stale, enrolments_run_due
from journeys.entry import journey_enrol
from journeys.models import Enrolment, EnrolmentStep
from messaging.models import Message
from tests.journeys.conftest import active_journey
from tests.services import require_postgres

ONE_SMS_THEN_WAIT = {
    "start": "sms",
    "steps": {
        "sms": {"type": "send_sms", "text": "Merhaba", "next": "pause"},
        "pause": {"type": "wait", "seconds": 3600, "next": ""},
    },
}


def wait_for(predicate, timeout=60, what="the condition"):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"{what} was not reached in {timeout} s"
        time.sleep(0.05)


def dsn() -> str:
    db = connection.settings_dict
    return f"postgresql://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def test_a_worker_killed_mid_step_neither_skips_nor_repeats_it(real_celery, sms_account, infobip, settings):
    n = 120
    Contact.objects.bulk_create(
        Contact(phone=f"+90532{i:07d}", external_id=f"k{i}", sms_subscription="subscribed") for i in range(n)
    )
    journey = active_journey(ONE_SMS_THEN_WAIT)
    worker = real_celery("sending", env={"JOURNEY_CLAIM_TIMEOUT_SECONDS": "1"})
    with psycopg.connect(dsn()) as blocker:
        # the messages table is locked against writes: the worker's batch stops inside its transaction,
        # after claiming the enrolments and while writing the send step's messages
        blocker.execute(f"LOCK TABLE {Message._meta.db_table} IN SHARE MODE")
        journey_enrol(journey=journey, contact_ids=Contact.objects.values_list("pk", flat=True), entered_by="test")

        def worker_waits_on_the_lock():
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND query ILIKE %s",
                    [f"%{Message._meta.db_table}%"],  # the INSERT or COPY of the step's messages
                )
                return cursor.fetchone()[0] > 0

        wait_for(worker_waits_on_the_lock, what="the worker's batch blocked on the messages table")
        assert Enrolment.objects.filter(claim__isnull=False).exists()
        worker.kill(signal.SIGKILL)
        blocker.rollback()  # the lock goes; the killed worker's transaction is gone with its connection
    assert Message.objects.count() == 0 and EnrolmentStep.objects.count() == 0  # nothing half done
    assert Enrolment.objects.filter(step="sms", claim__isnull=False).exists()  # its claim stays, for now

    real_celery("sending", env={"JOURNEY_CLAIM_TIMEOUT_SECONDS": "1"})
    time.sleep(1.1)
    from journeys.tasks import journeys_tick

    journeys_tick.delay()  # what beat does every 5 s: free the stale claim, run the batch again
    wait_for(lambda: Enrolment.objects.filter(step="pause").count() == n, what="every contact past the SMS")
    wait_for(lambda: len(infobip.accepted) == n, what="every SMS at the fake")
    books = infobip.recipients()
    assert len(books) == n and set(books.values()) == {1}, "a number got two messages or none"
    assert EnrolmentStep.objects.filter(step="sms").count() == n
    assert Message.objects.count() == n


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_run_each_step_once(sms_account, infobip, monkeypatch):
    require_postgres()
    n = 400
    Contact.objects.bulk_create(
        Contact(phone=f"+90533{i:07d}", external_id=f"r{i}", sms_subscription="subscribed") for i in range(n)
    )
    journey = active_journey(ONE_SMS_THEN_WAIT)
    monkeypatch.setattr("journeys.entry.kick", lambda: None)  # no eager run: the threads below are the workers
    journey_enrol(journey=journey, contact_ids=Contact.objects.values_list("pk", flat=True), entered_by="test")
    assert Enrolment.objects.filter(step="sms").count() == n
    errors = []

    def work():
        try:
            for _ in range(5):
                enrolments_run_due(limit=50)
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(3)]  # 3 × 5 batches of 50: 750 ≥ 400
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Enrolment.objects.filter(step="pause").count() == n
    assert EnrolmentStep.objects.filter(step="sms").count() == n
    assert Message.objects.count() == n
    assert Message.objects.values("contact").distinct().count() == n


@pytest.mark.django_db(transaction=True)
def test_a_stale_claim_of_a_worker_still_running_cannot_send_twice(sms_account, infobip, monkeypatch):
    """A worker so slow its claim went stale: another worker runs the batch, and the slow one's late
    commit is refused (its claim is gone), so the step's message exists once."""
    require_postgres()
    journey = active_journey(ONE_SMS_THEN_WAIT, name="slow")
    ayse = Contact.objects.create(phone="+905320000005", sms_subscription="subscribed")
    monkeypatch.setattr("journeys.entry.kick", lambda: None)  # no eager run: the "workers" below do it
    journey_enrol(journey=journey, contact_ids=[ayse.pk], entered_by="test")
    from journeys import engine

    slow = engine.enrolments_claim(limit=10)
    rows = engine._rows(slow)  # the slow worker has read its batch
    Enrolment.objects.update(claimed_at=timezone.now() - timedelta(minutes=5))
    assert enrolments_free_stale() == 1
    enrolments_run_due()  # another worker runs it
    with pytest.raises(engine.ClaimLost), transaction.atomic():
        engine._advance(rows, slow)  # the slow one comes back: refused before it writes anything
    assert Message.objects.count() == 1
    assert EnrolmentStep.objects.count() == 1
