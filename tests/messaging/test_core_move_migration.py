"""Moving the core out of channels_sms (messaging 0001, channels_sms 0006) keeps every row where it
was, and the permissions users were granted, the admin history of campaigns and beat's entries."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

SMS_BEFORE = ("channels_sms", "0005_campaign_transactional_message_addressed")


def _migrate_before_the_move():
    executor = MigrationExecutor(connection)
    executor.migrate([("messaging", None), SMS_BEFORE])
    others = [node for node in executor.loader.graph.leaf_nodes() if node[0] not in ("messaging", "channels_sms")]
    return executor.loader.project_state([*others, SMS_BEFORE]).apps


def _migrate_to_the_latest():
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.fixture
def before_the_move():
    try:
        yield _migrate_before_the_move()
    finally:
        _migrate_to_the_latest()  # whatever the test did, the next one finds the latest schema
        from django.contrib.contenttypes.models import ContentType

        ContentType.objects.clear_cache()


@pytest.mark.django_db(transaction=True)
def test_the_core_moves_with_its_data_permissions_history_and_beat_entries(before_the_move):
    apps = before_the_move
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    User = apps.get_model("auth", "User")
    Group = apps.get_model("auth", "Group")
    LogEntry = apps.get_model("admin", "LogEntry")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    # the database as a release before the move left it: content types and permissions of channels_sms
    ContentType.objects.filter(app_label="messaging").delete()
    ContentType.objects.filter(app_label="channels_sms").delete()
    campaign_type = ContentType.objects.create(app_label="channels_sms", model="campaign")
    message_type = ContentType.objects.create(app_label="channels_sms", model="message")
    for action in ("add", "change", "delete", "view"):
        Permission.objects.create(content_type=campaign_type, codename=f"{action}_campaign", name=f"Can {action}")
        Permission.objects.create(content_type=message_type, codename=f"{action}_message", name=f"Can {action}")
    transactional = Permission.objects.create(content_type=campaign_type, codename="send_transactional", name="x")
    marketer = User.objects.create(username="ayse")
    marketer.user_permissions.add(transactional)
    group = Group.objects.create(name="Readers")
    group.permissions.add(Permission.objects.get(codename="view_message"))

    Account = apps.get_model("providers", "ProviderAccount")
    account = Account.objects.create(name="Console", connector="console", channel="sms", settings={})
    Template = apps.get_model("channels_sms", "SmsTemplate")
    template = Template.objects.create(name="Hoş geldin", text="Merhaba {{name}}", sender="MARKA")
    Campaign = apps.get_model("channels_sms", "Campaign")
    campaign = Campaign.objects.create(name="Kasım", account=account, sender="MARKA", template=template)
    Message = apps.get_model("channels_sms", "Message")
    Message.objects.create(kind="newsletter", campaign=campaign, account=account, to="+905321112233", status="sent")
    LogEntry.objects.create(
        user=marketer, content_type=campaign_type, object_id=str(campaign.pk), object_repr="Kasım", action_flag=1
    )
    every = IntervalSchedule.objects.create(every=30, period="seconds")
    PeriodicTask.objects.create(name="tick", task="channels_sms.tasks.sending_tick", interval=every)

    _migrate_to_the_latest()

    from django.contrib.admin.models import LogEntry as LiveLogEntry
    from django.contrib.auth.models import User as LiveUser
    from django.contrib.contenttypes.models import ContentType as LiveContentType
    from django_celery_beat.models import PeriodicTask as LivePeriodicTask

    from channels_sms.models import SmsCampaign, SmsTemplate
    from messaging.models import Campaign as CoreCampaign
    from messaging.models import Message as CoreMessage

    LiveContentType.objects.clear_cache()  # its ids were cached before this test rewrote the table
    moved = SmsCampaign.objects.get(pk=campaign.pk)
    assert moved.template.text == "Merhaba {{name}}" and moved.channel == "sms"
    assert SmsTemplate.objects.get(pk=template.pk).channel == "sms"
    assert CoreMessage.objects.get(campaign_id=campaign.pk).to == "+905321112233"
    assert CoreCampaign.objects.count() == 1
    # the user's grant is the core's transactional permission now; the group still reads messages
    user = LiveUser.objects.get(pk=marketer.pk)
    assert user.has_perm("messaging.send_transactional")
    assert user.has_perm("channels_sms.view_smscampaign") is False  # only what was granted
    assert LiveContentType.objects.get_for_model(SmsCampaign, for_concrete_model=False).pk == campaign_type.pk
    assert LiveContentType.objects.get_for_model(CoreMessage).pk == message_type.pk
    reader = LiveUser.objects.create(username="okur")
    reader.groups.add(group.pk)
    assert reader.has_perm("messaging.view_message")
    # the campaign's admin history is found from its page (the proxy's content type)
    history = LiveLogEntry.objects.filter(
        content_type=LiveContentType.objects.get_for_model(SmsCampaign, for_concrete_model=False),
        object_id=str(campaign.pk),
    )
    assert history.count() == 1
    assert LivePeriodicTask.objects.get(name="tick").task == "messaging.tasks.sending_tick"
