"""A real Celery worker (not eager) takes a task from Redis and its effect lands in PostgreSQL."""

import pytest
from django.test import Client

from providers.models import ProviderAccount
from providers.services import account_install
from providers.tasks import check_account

pytestmark = pytest.mark.services


def test_real_worker_runs_a_task_against_postgres(real_celery):
    real_celery("default")
    account = account_install(name="Console", connector="console", values={})
    result = check_account.delay(account.pk)
    assert result.get(timeout=60) is True
    account = ProviderAccount.objects.get(pk=account.pk)
    assert account.last_check_ok is True and account.last_check_at is not None


def test_healthz_sees_the_worker(real_celery):
    real_celery("default")
    response = Client().get("/healthz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["checks"]["broker"]["mode"] == "redis"
    assert body["checks"]["workers"]["count"] >= 1


def test_tasks_are_routed_by_purpose():
    from config.celery import app

    router = app.amqp.router
    assert router.route({}, "providers.tasks.check_account")["queue"].name == "default"
    assert router.route({}, "contacts.tasks.process_file_transfer")["queue"].name == "imports"
    assert router.route({}, "consent.tasks.push_pending")["queue"].name == "iys"
    assert router.route({}, "messaging.tasks.dispatch_batch")["queue"].name == "sending"
    assert router.route({}, "providers.tasks.process_webhook")["queue"].name == "webhooks"
