import pytest
from django.core.management import CommandError, call_command

from consent.selectors import Exclusion
from messaging.models import Campaign, Message
from tests.consent.factories import record_onay
from tests.contacts.factories import ContactFactory, ContactListFactory

pytestmark = pytest.mark.django_db


def test_send_campaign_for_a_list_previews_then_sends(infobip, infobip_account, iys_sync, capsys):
    contact_list = ContactListFactory(name="VIP")
    good = ContactFactory(phone="+905320000005")
    record_onay(good)
    contact_list.contacts.add(good, ContactFactory(phone="+905320000006"))  # the second has no consent
    call_command(
        "send_campaign",
        "--list",
        "VIP",
        "--text",
        "İndirim {{name}}",
        "--kind",
        "newsletter",
        "--sender",
        "MARKA",
        "--account",
        "Infobip",
        "--dry-run",
    )
    out = capsys.readouterr().out
    assert "recipients 1" in out and f"excluded: {Exclusion.NOT_SUBSCRIBED.label}" in out and "dry run" in out
    assert not infobip.accepted and Campaign.objects.count() == 1
    campaign = Campaign.objects.get()
    call_command("send_campaign", str(campaign.pk))
    out = capsys.readouterr().out
    assert "status done: 1 messages, 1 accepted" in out
    assert infobip.recipients() == {"905320000005": 1}
    with pytest.raises(CommandError, match="cannot be started"):
        call_command("send_campaign", str(campaign.pk))


def test_send_campaign_explains_bad_input(infobip_account):
    with pytest.raises(CommandError, match="no list named"):
        call_command("send_campaign", "--list", "Nope", "--text", "x")
    ContactListFactory(name="L")
    with pytest.raises(CommandError, match="sender"):
        call_command("send_campaign", "--list", "L", "--text", "x", "--sender", "WAY-TOO-LONG-NAME")


def test_sms_send(infobip, infobip_account, capsys):
    call_command("sms_send", "--to", "+905320000005", "--text", "Kodunuz 1234")
    assert "queued" in capsys.readouterr().out
    assert Message.objects.get().kind == "transactional" and infobip.recipients() == {"905320000005": 1}
    with pytest.raises(CommandError, match="not sent"):
        call_command("sms_send", "--to", "+905320000006", "--text", "Kampanya", "--kind", "newsletter")
    with pytest.raises(CommandError, match="not a valid phone"):
        call_command("sms_send", "--to", "12", "--text", "x")


def test_seed_sms_demo_is_idempotent():
    from channels_sms.models import SmsTemplate
    from providers.models import ProviderAccount

    call_command("seed_sms_demo")
    call_command("seed_sms_demo")
    assert ProviderAccount.objects.filter(channel="sms").count() == 1 and SmsTemplate.objects.count() == 1
