"""The 24-hour window only moves forward: a late message never shortens it, and two webhook
workers taking one number's messages at once keep the later time (no read-then-write)."""

import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from channels_whatsapp.models import ServiceWindow
from channels_whatsapp.windows import windows_opened
from providers.base import InboundMessage
from providers.models import ProviderAccount
from tests.services import require_postgres

NUMBER = "+905331234562"


def account():
    # inactive: an active WhatsApp account would sync its templates from Meta once saved
    return ProviderAccount.objects.create(
        name="WA", connector="whatsapp", channel="whatsapp", settings={}, is_active=False
    )


def said(at):
    return InboundMessage(sender=NUMBER, text="Merhaba", stop=False, received_at=at)


@pytest.mark.django_db
def test_a_late_message_never_moves_the_window_back():
    wa = account()
    now = timezone.now()
    windows_opened(account=wa, inbound=[said(now - timedelta(hours=1))])
    assert windows_opened(account=wa, inbound=[said(now - timedelta(hours=3))]) == 0
    assert windows_opened(account=wa, inbound=[said(now)]) == 1
    assert ServiceWindow.objects.get().last_inbound_at == now


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_keep_the_later_message():
    require_postgres()
    wa = account()
    now = timezone.now()
    for round_ in range(10):
        times = [now - timedelta(hours=10) + timedelta(minutes=round_ * 10 + i) for i in range(4)]
        barrier = threading.Barrier(len(times))
        errors = []

        def take(at, barrier=barrier, errors=errors):
            try:
                barrier.wait()
                windows_opened(account=wa, inbound=[said(at)])
            except Exception as exc:
                errors.append(exc)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=take, args=(at,)) for at in reversed(times)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert ServiceWindow.objects.count() == 1
        assert ServiceWindow.objects.get().last_inbound_at == max(times)
