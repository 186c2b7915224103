from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = _("Outgoing webhooks")

    def ready(self):
        from consent.signals import changes_appended
        from messaging.signals import inbound_received, status_moved
        from webhooks import receivers

        status_moved.connect(receivers.on_status_moved, dispatch_uid="webhooks_message_status")
        changes_appended.connect(receivers.on_consent_changes, dispatch_uid="webhooks_consent_changed")
        inbound_received.connect(receivers.on_inbound, dispatch_uid="webhooks_message_inbound")
