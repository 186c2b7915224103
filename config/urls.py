from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from channels_sms.admin import send_test_sms_view
from config.health import healthz
from providers.views import webhook

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("hooks/<slug:connector>/<str:secret>/", webhook, name="provider-webhook"),
    path("api/", include("api.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path(
        "admin/providers/provideraccount/<int:account_id>/test-sms/",
        admin.site.admin_view(send_test_sms_view),
        name="sms-test-send",
    ),
    path("admin/", admin.site.urls),
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
]

handler404 = "api.errors.not_found_or_html"
handler500 = "api.errors.server_error_or_html"
