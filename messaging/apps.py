from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = _("Messaging")

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from messaging.models import SendingPolicy
        from messaging.policy import policy_changed

        # the sending policy saved or deleted: every process reads it again (messaging.policy)
        post_save.connect(policy_changed, sender=SendingPolicy, dispatch_uid="sending-policy-saved")
        post_delete.connect(policy_changed, sender=SendingPolicy, dispatch_uid="sending-policy-deleted")
