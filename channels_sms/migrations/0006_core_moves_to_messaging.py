"""Templates, campaigns and messages now belong to the messaging app (messaging 0001 declares them
on the same tables): they leave this app's state (no table is touched), and SMS templates and SMS
campaigns stay here as proxies. Their content types are kept, so permissions granted to users and
groups and the admin history of every campaign stay where they were: channels_sms.campaign becomes
channels_sms.smscampaign (its permissions renamed with it), channels_sms.message becomes
messaging.message, and the transactional permission moves to messaging.campaign. Beat's entries
name the tasks' new module."""

from django.db import migrations

MODEL_PERMISSIONS = ("add", "change", "delete", "view")


def move_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    campaign = ContentType.objects.filter(app_label="channels_sms", model="campaign").first()
    if campaign is not None:
        campaign.model = "smscampaign"
        campaign.save(update_fields=["model"])
        for action in MODEL_PERMISSIONS:
            Permission.objects.filter(content_type=campaign, codename=f"{action}_campaign").update(
                codename=f"{action}_smscampaign", name=f"Can {action} SMS campaign"
            )
        core, _ = ContentType.objects.get_or_create(app_label="messaging", model="campaign")
        Permission.objects.filter(content_type=campaign, codename="send_transactional").update(content_type=core)
    ContentType.objects.filter(app_label="channels_sms", model="message").update(app_label="messaging")


def move_content_types_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    ContentType.objects.filter(app_label="messaging", model="message").update(app_label="channels_sms")
    campaign = ContentType.objects.filter(app_label="channels_sms", model="smscampaign").first()
    if campaign is not None:
        Permission.objects.filter(content_type__app_label="messaging", codename="send_transactional").update(
            content_type=campaign
        )
        for action in MODEL_PERMISSIONS:
            Permission.objects.filter(content_type=campaign, codename=f"{action}_smscampaign").update(
                codename=f"{action}_campaign", name=f"Can {action} SMS campaign"
            )
        campaign.model = "campaign"
        campaign.save(update_fields=["model"])


def rename_beat_tasks(apps, schema_editor, old="channels_sms.tasks.", new="messaging.tasks."):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for task in PeriodicTask.objects.filter(task__startswith=old):
        task.task = new + task.task[len(old) :]
        task.save(update_fields=["task"])


def rename_beat_tasks_back(apps, schema_editor):
    rename_beat_tasks(apps, schema_editor, old="messaging.tasks.", new="channels_sms.tasks.")


class Migration(migrations.Migration):
    dependencies = [
        ("channels_sms", "0005_campaign_transactional_message_addressed"),
        ("messaging", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="Message"),
                migrations.DeleteModel(name="Campaign"),
                migrations.DeleteModel(name="SmsTemplate"),
            ],
            database_operations=[],
        ),
        migrations.CreateModel(
            name="SmsTemplate",
            fields=[],
            options={
                "verbose_name": "SMS template",
                "verbose_name_plural": "SMS templates",
                "ordering": ["name"],
                "proxy": True,
                "indexes": [],
                "constraints": [],
            },
            bases=("messaging.template",),
        ),
        migrations.CreateModel(
            name="SmsCampaign",
            fields=[],
            options={
                "verbose_name": "SMS campaign",
                "verbose_name_plural": "SMS campaigns",
                "ordering": ["-created_at"],
                "proxy": True,
                "indexes": [],
                "constraints": [],
            },
            bases=("messaging.campaign",),
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
        migrations.RunPython(rename_beat_tasks, rename_beat_tasks_back),
    ]
