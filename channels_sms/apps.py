from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsSmsConfig(AppConfig):
    name = "channels_sms"
    verbose_name = _("Channels: SMS")
