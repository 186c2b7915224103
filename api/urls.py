from csp.constants import SELF
from csp.decorators import csp_update
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from api import consents, contacts, events, messages, stats, webhooks

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(authentication_classes=[], permission_classes=[]), name="api-schema"),
    path(
        "docs/",
        # Swagger UI draws its icons from data: URIs; nothing else on the page is loosened
        csp_update({"img-src": [SELF, "data:"]})(
            SpectacularSwaggerSplitView.as_view(url_name="api-schema", authentication_classes=[], permission_classes=[])
        ),
        name="api-docs",
    ),
    path("v1/contacts/", contacts.ContactsView.as_view(), name="api-contacts"),
    path("v1/contacts/batch/", contacts.ContactsBatchView.as_view(), name="api-contacts-batch"),
    # path: an external id may hold a slash ("shop/7"), read as /api/v1/contacts/shop/7/
    path("v1/contacts/<path:external_id>/", contacts.ContactView.as_view(), name="api-contact"),
    path("v1/consents/", consents.ConsentsView.as_view(), name="api-consents"),
    path("v1/messages/", messages.MessagesView.as_view(), name="api-messages"),
    path("v1/messages/<int:message_id>/", messages.MessageView.as_view(), name="api-message"),
    path("v1/campaigns/<int:campaign_id>/stats/", stats.CampaignStatsView.as_view(), name="api-campaign-stats"),
    path("v1/events/", events.EventsView.as_view(), name="api-events"),
    path("v1/webhooks/", webhooks.WebhooksView.as_view(), name="api-webhooks"),
    path("v1/webhooks/<int:webhook_id>/", webhooks.WebhookView.as_view(), name="api-webhook"),
]
