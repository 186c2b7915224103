"""The contact's timeline reads the panel's log of one contact (django_admin_log by content type and
object id), which Django does not index: an import writes one log line per row, so without this
index each contact page would scan every contact's log lines."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("admin", "0003_logentry_add_action_flag_choices"),
        ("contacts", "0006_contact_event"),
    ]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS panel_admin_log_object_idx "
            "ON django_admin_log (content_type_id, object_id, action_time)",
            "DROP INDEX IF EXISTS panel_admin_log_object_idx",
        ),
    ]
