import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [migrations.swappable_dependency(settings.AUTH_USER_MODEL)]

    operations = [
        migrations.CreateModel(
            name="ProviderAccount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(help_text="How marketers pick this account, e.g. 'Infobip main'.", max_length=100, unique=True, verbose_name="name")),
                ("connector", models.CharField(max_length=40, verbose_name="connector")),
                ("channel", models.CharField(choices=[("sms", "SMS"), ("whatsapp", "WhatsApp"), ("iys", "İYS (consent registry)")], max_length=20, verbose_name="channel")),
                ("is_active", models.BooleanField(default=True, verbose_name="active")),
                ("settings", models.JSONField(blank=True, default=dict, verbose_name="settings")),
                ("credentials_encrypted", models.TextField(blank=True, default="", editable=False)),
                ("last_check_at", models.DateTimeField(blank=True, null=True, verbose_name="last connection test")),
                ("last_check_ok", models.BooleanField(blank=True, null=True, verbose_name="last test passed")),
                ("last_check_message", models.TextField(blank=True, default="", verbose_name="last test result")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("created_by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL)),
            ],
            options={"verbose_name": "connector account", "verbose_name_plural": "connector accounts", "ordering": ["channel", "name"]},
        ),
    ]
