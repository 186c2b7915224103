from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = _("API")

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from api import docs  # noqa: F401  (registers the Bearer key scheme with drf-spectacular)
        from api.models import ApiKey
        from api.services import api_key_changed

        # a key saved or deleted anywhere: every process reads its keys again (api.auth)
        post_save.connect(api_key_changed, sender=ApiKey, dispatch_uid="api-key-saved")
        post_delete.connect(api_key_changed, sender=ApiKey, dispatch_uid="api-key-deleted")
