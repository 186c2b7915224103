"""The İYS connector against the fake İYS over real HTTP (tests/fakes/iys.py)."""

from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command

from consent.iys.client import IysClient, IysError
from consent.iys.sync import iys_pull
from consent.models import Consent, ConsentChange
from consent.selectors import Exclusion, is_sendable
from providers.services import account_check, account_install
from tests.consent.factories import record_onay
from tests.contacts.factories import ContactFactory
from tests.fakes.iys import FakeIys

pytestmark = pytest.mark.django_db
IST = ZoneInfo("Europe/Istanbul")


@pytest.fixture
def fake_iys():
    cache.clear()
    fake = FakeIys(iys_code=700100, brands=(700100, 700200)).start()
    yield fake
    fake.stop()
    cache.clear()


def install(fake, mode="sync", **overrides):
    values = {
        "brand_code": "700100",
        "iys_code": "700100",
        "username": "api-user",
        "password": "api-pass",
        "environment": "custom",
        "base_url": fake.url,
        "mode": mode,
        "backfill_hour": "2",
        **overrides,
    }
    return account_install(name="İYS", connector="iys", values=values)


def client(fake, **kw):
    return IysClient(
        base_url=fake.url,
        username="api-user",
        password="api-pass",
        iys_code=700100,
        brand_code=700100,
        sleep=lambda s: None,
        **kw,
    )


def test_install_from_the_command_line_with_the_form_validation(fake_iys):
    call_command(
        "install_connector",
        "iys",
        "--name",
        "İYS",
        "--set",
        "brand_code=700100",
        "--set",
        "iys_code=700100",
        "--set",
        f"base_url={fake_iys.url}",
        "--set",
        "environment=custom",
        "--set",
        "username=api-user",
        "--set",
        "password=api-pass",
        "--set",
        "mode=sync",
        "--set",
        "backfill_hour=2",
        "--test",
    )
    with pytest.raises(CommandError, match="brand_code"):
        call_command(
            "install_connector",
            "iys",
            "--name",
            "İYS2",
            "--set",
            "brand_code=abc",
            "--set",
            "iys_code=1",
            "--set",
            "username=u",
            "--set",
            "password=p",
            "--set",
            "environment=production",
            "--set",
            "mode=sync",
            "--set",
            "backfill_hour=2",
        )


def test_connection_test_says_what_is_wrong_in_plain_words(fake_iys):
    assert account_check(account_id=install(fake_iys).pk).ok
    wrong_password = account_check(account_id=install(fake_iys, password="nope").pk)
    assert not wrong_password.ok and "username or password is wrong" in wrong_password.message
    not_authorised = account_check(account_id=install(fake_iys, brand_code="799999").pk)
    assert not not_authorised.ok and "çözüm ortağını yetkilendirmeli" in not_authorised.message  # Turkish UI
    assert "Mutabakat" in not_authorised.message


def test_the_token_is_shared_and_refreshed(fake_iys):
    first, second = client(fake_iys), client(fake_iys)
    first.brands()
    second.brands()
    assert fake_iys.token_requests == 1  # one token for every process using the shared cache
    fake_iys.expire_tokens()  # İYS forgets the token: a 401, then one re-login, then success
    assert second.brands()
    assert fake_iys.token_requests == 2


def test_h084_blocks_token_requests_for_an_hour(fake_iys):
    fake_iys.token_limit = 0
    with pytest.raises(IysError) as excinfo:
        client(fake_iys).brands()
    assert excinfo.value.code == "H084" and excinfo.value.kind == "retryable"
    with pytest.raises(IysError, match="hourly limit"):
        client(fake_iys).brands()
    assert fake_iys.token_requests == 1  # the block is remembered: no second token request


def test_429_is_retried_with_back_off(fake_iys):
    waits = []
    c = IysClient(
        base_url=fake_iys.url,
        username="api-user",
        password="api-pass",
        iys_code=700100,
        brand_code=700100,
        sleep=waits.append,
    )
    c.brands()
    fake_iys.fail_next_with_429 = 2
    assert c.brands()
    assert waits == [1, 2]


def test_first_ret_for_an_unknown_recipient_is_refused_by_iys_and_classified(fake_iys):
    with pytest.raises(IysError) as excinfo:
        client(fake_iys).add_consent(
            {
                "recipient": "+905321234567",
                "recipientType": "BIREYSEL",
                "type": "MESAJ",
                "status": "RET",
                "source": "HS_WEB",
                "consentDate": "2025-05-15 10:00:00",
            }
        )
    assert excinfo.value.code == "H175" and excinfo.value.kind == "rejected"


def test_a_citizen_ret_at_iys_is_pulled_and_stops_commercial_sms(fake_iys):
    install(fake_iys, mode="sync")
    contact = ContactFactory(phone="+905331234562")
    record_onay(contact)
    assert is_sendable(contact_id=contact.pk, kind="newsletter", channel="sms") == (True, "")
    fake_iys.citizen(contact.phone, "RET", citizen_name="Ayşe Yılmaz")
    fake_iys.citizen("+905339990000", "ONAY", age_hours=0)  # inside the 1-hour lag: not visible yet
    assert iys_pull(account=install(fake_iys)) == {"HS": 0, "IYS": 1}
    consent = Consent.objects.get(recipient=contact.phone)
    assert consent.status == "RET" and consent.source == "IYS_WEB" and consent.iys_confirmed_at
    assert ConsentChange.objects.filter(origin="iys_pull", status="RET").count() == 1
    ok, reason = is_sendable(contact_id=contact.pk, kind="newsletter", channel="sms")
    assert not ok and reason == Exclusion.NOT_SUBSCRIBED
    # the cursor is kept: pulling again applies nothing twice
    assert iys_pull(account=install(fake_iys)) == {"HS": 0, "IYS": 0}
    fake_iys.lag_hours = 0
    assert iys_pull(account=install(fake_iys)) == {"HS": 0, "IYS": 1}
    assert Consent.objects.get(recipient="+905339990000").status == "ONAY"


def test_integrator_mode_counts_only_iys_confirmed_onay(fake_iys):
    install(fake_iys, mode="integrator")
    contact = ContactFactory(phone="+905331234562")
    record_onay(contact)
    assert is_sendable(contact_id=contact.pk, kind="newsletter", channel="sms") == (False, Exclusion.AWAITING_IYS)
    # İYS holds the same ONAY (written brand-side): the HS feed confirms it
    client(fake_iys).add_consent(
        {
            "recipient": contact.phone,
            "recipientType": "BIREYSEL",
            "type": "MESAJ",
            "status": "ONAY",
            "source": "HS_WEB",
            "consentDate": "2025-05-01 10:00:00",
        }
    )
    fake_iys.lag_hours = 0
    assert iys_pull(account=install(fake_iys, mode="integrator"))["HS"] == 1
    assert is_sendable(contact_id=contact.pk, kind="newsletter", channel="sms") == (True, "")


def test_iys_sync_command(fake_iys, capsys):
    with pytest.raises(CommandError, match="no active İYS connector"):
        call_command("iys_sync", "--pull")
    install(fake_iys)
    fake_iys.citizen("+905331234562", "ONAY")
    call_command("iys_sync", "--pull")
    assert "pulled 0 brand-side and 1 citizen changes" in capsys.readouterr().out
