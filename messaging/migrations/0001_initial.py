"""The channel-neutral core moves here from channels_sms: the models are declared on the tables
they already have (state only: no table is created, renamed or touched). channels_sms 0006 drops
them from its own state and keeps proxies; it also carries the content types and permissions."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contacts', '0005_file_transfer_runs_without_progress'),
        ('providers', '0003_provideraccount_webhook_secret'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ('channels_sms', '0005_campaign_transactional_message_addressed'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Template',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=200, unique=True, verbose_name='name')),
                        ('text', models.TextField(help_text='Variables: {{external_id}}, {{email}}, {{phone}} or any profile attribute such as {{name}}; a default after a bar is used when the contact has no value: {{name|Müşterimiz}}.', verbose_name='text')),
                        ('sender', models.CharField(blank=True, default='', max_length=15, verbose_name='default sender name')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created')),
                        ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated')),
                    ],
                    options={
                        'verbose_name': 'template',
                        'verbose_name_plural': 'templates',
                        'db_table': 'channels_sms_smstemplate',
                        'ordering': ['name'],
                    },
                ),
                migrations.CreateModel(
                    name='Campaign',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=200, verbose_name='name')),
                        ('channel', models.CharField(choices=[('sms', 'SMS'), ('whatsapp', 'WhatsApp'), ('iys', 'İYS (consent registry)')], default='sms', max_length=20, verbose_name='channel')),
                        ('kind', models.CharField(choices=[('transactional', 'Transactional'), ('newsletter', 'Newsletter (commercial)')], default='newsletter', max_length=20, verbose_name='kind')),
                        ('sender', models.CharField(max_length=15, verbose_name='sender name')),
                        ('text', models.TextField(blank=True, default='', help_text='Used when no template is chosen.', verbose_name='custom text')),
                        ('audience', models.CharField(choices=[('everyone', 'Every contact'), ('list', 'A static list'), ('filter', 'Contacts matching a filter'), ('alert', 'An alert to one fixed number')], default='everyone', max_length=20, verbose_name='audience')),
                        ('audience_filter', models.JSONField(blank=True, default=dict, help_text='Contact fields and profile attributes, e.g. {"city": "İzmir", "sms_subscription": "subscribed"}.', verbose_name='filter')),
                        ('alert_phone', models.CharField(blank=True, default='', max_length=16, verbose_name='alert phone number')),
                        ('send_at', models.DateTimeField(blank=True, help_text='Empty: send now.', null=True, verbose_name='send at')),
                        ('status', models.CharField(choices=[('draft', 'Draft'), ('scheduled', 'Scheduled'), ('sending', 'Sending'), ('paused', 'Paused'), ('cancelled', 'Cancelled'), ('done', 'Done')], db_index=True, default='draft', max_length=20, verbose_name='status')),
                        ('message_count', models.IntegerField(default=0, verbose_name='messages')),
                        ('excluded', models.JSONField(blank=True, default=dict, verbose_name='excluded at start')),
                        ('prepared_up_to', models.BigIntegerField(default=0, editable=False)),
                        ('prepared_at', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='all messages made')),
                        ('transactional_chosen_by_name', models.CharField(blank=True, default='', editable=False, max_length=150, verbose_name='transactional chosen by')),
                        ('transactional_chosen_at', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='transactional chosen at')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created')),
                        ('started_at', models.DateTimeField(blank=True, null=True, verbose_name='started')),
                        ('finished_at', models.DateTimeField(blank=True, null=True, verbose_name='finished')),
                        ('account', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='campaigns', to='providers.provideraccount', verbose_name='provider account')),
                        ('contact_list', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, to='contacts.contactlist', verbose_name='list')),
                        ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('transactional_chosen_by', models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='transactional chosen by')),
                        ('template', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to='messaging.template', verbose_name='template')),
                    ],
                    options={
                        'verbose_name': 'campaign',
                        'verbose_name_plural': 'campaigns',
                        'db_table': 'channels_sms_campaign',
                        'ordering': ['-created_at'],
                        'permissions': [('send_transactional', 'Can choose transactional (subscription and İYS are not checked)')],
                    },
                ),
                migrations.CreateModel(
                    name='Message',
                    fields=[
                        ('id', models.BigAutoField(primary_key=True, serialize=False)),
                        ('channel', models.CharField(choices=[('sms', 'SMS'), ('whatsapp', 'WhatsApp'), ('iys', 'İYS (consent registry)')], default='sms', max_length=20, verbose_name='channel')),
                        ('kind', models.CharField(choices=[('transactional', 'Transactional'), ('newsletter', 'Newsletter (commercial)')], max_length=20, verbose_name='kind')),
                        ('addressed_contact_id', models.BigIntegerField(blank=True, editable=False, null=True, verbose_name='made for contact (id)')),
                        ('to', models.CharField(max_length=32, verbose_name='to')),
                        ('sender', models.CharField(blank=True, default='', max_length=15, verbose_name='sender')),
                        ('text', models.TextField(blank=True, default='', verbose_name='text')),
                        ('status', models.CharField(choices=[('pending', 'Waiting to be sent'), ('queued', 'Queued at the provider'), ('sent', 'Sent to the operator'), ('delivered', 'Delivered'), ('undelivered', 'Undelivered'), ('expired', 'Expired'), ('rejected', 'Rejected'), ('failed', 'Failed'), ('skipped', 'Not sent: the sending rule refused it at send time'), ('cancelled', 'Not sent: campaign cancelled')], default='pending', max_length=20, verbose_name='status')),
                        ('reason', models.CharField(blank=True, default='', max_length=255, verbose_name='reason')),
                        ('raw_status', models.CharField(blank=True, default='', max_length=120, verbose_name='provider status')),
                        ('provider_id', models.CharField(blank=True, default='', max_length=80, verbose_name='provider message id')),
                        ('segments', models.SmallIntegerField(blank=True, null=True, verbose_name='segments')),
                        ('encoding', models.CharField(blank=True, default='', max_length=60, verbose_name='encoding')),
                        ('price', models.DecimalField(blank=True, decimal_places=5, max_digits=12, null=True, verbose_name='price')),
                        ('attempts', models.SmallIntegerField(default=0, verbose_name='attempts')),
                        ('next_attempt_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('claim', models.UUIDField(blank=True, editable=False, null=True)),
                        ('claimed_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('handed_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created')),
                        ('sent_at', models.DateTimeField(blank=True, null=True, verbose_name='accepted by the provider')),
                        ('done_at', models.DateTimeField(blank=True, null=True, verbose_name='final status at')),
                        ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated')),
                        ('account', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='messages', to='providers.provideraccount', verbose_name='provider account')),
                        ('campaign', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='messages', to='messaging.campaign', verbose_name='campaign')),
                        ('contact', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='messages', to='contacts.contact', verbose_name='contact')),
                    ],
                    options={
                        'verbose_name': 'message',
                        'verbose_name_plural': 'message history',
                        'db_table': 'channels_sms_message',
                        'ordering': ['-id'],
                        'indexes': [models.Index(fields=['campaign', 'status'], name='message_campaign_status'), models.Index(fields=['contact', 'created_at'], name='message_contact_created'), models.Index(fields=['account', 'provider_id'], name='message_provider_id'), models.Index(condition=models.Q(('claim__isnull', True), ('status', 'pending')), fields=['campaign', 'id'], name='message_claimable'), models.Index(fields=['created_at'], name='message_created'), models.Index(condition=models.Q(('claim__isnull', False)), fields=['claim', 'claimed_at'], name='message_claimed')],
                        'constraints': [models.UniqueConstraint(condition=models.Q(('campaign__isnull', False), ('contact__isnull', False)), fields=('campaign', 'contact'), name='message_once_per_campaign_contact')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
