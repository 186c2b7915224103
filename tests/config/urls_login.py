"""The panel's URLs plus Django's plain login view (a login outside the admin, as an API or a
future site page would offer)."""

from django.contrib.auth.views import LoginView
from django.urls import path

from config.urls import urlpatterns as panel_urlpatterns

urlpatterns = [path("accounts/login/", LoginView.as_view(), name="login"), *panel_urlpatterns]
