from django.apps import AppConfig
from django.db import transaction
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _


def _sync_after_install(sender, instance, created, **kwargs):
    """A WhatsApp account just installed brings its templates from Meta (after the commit)."""
    if created and instance.channel == "whatsapp" and instance.is_active:
        from channels_whatsapp.tasks import sync_templates

        transaction.on_commit(lambda: sync_templates.delay(instance.pk))


class ChannelsWhatsappConfig(AppConfig):
    name = "channels_whatsapp"
    verbose_name = _("Channels: WhatsApp")

    def ready(self):
        post_save.connect(_sync_after_install, sender="providers.ProviderAccount", dispatch_uid="whatsapp_sync_install")
