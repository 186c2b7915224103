"""What the message pages offer to read elsewhere: Message History and a campaign's report as
CSV or XLSX (for those who may view messages), and the JSON the charts are drawn from (the
dashboard's messages per day, a campaign's delivery by hour). Mixed into MessageAdmin and
CampaignAdminBase (messaging.admin)."""

from __future__ import annotations

from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.urls import path, reverse
from django.utils import timezone

from config.dashboard import local_zone
from messaging.charts import campaign_delivery, messages_per_day
from messaging.exports import FORMATS, campaign_columns, export_response, history_columns


def _stamp() -> str:
    return f"{timezone.localtime(timezone.now(), local_zone()):%Y%m%d-%H%M}"


class MessageHistoryReports:
    """Message History's download (the list as filtered and searched now) and the dashboard's
    messages-per-day chart; both need the permission to view messages."""

    def get_urls(self):
        view = self.admin_site.admin_view
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("export/<str:fmt>/", view(self.export_view), name=f"{info}_export"),
            path("per-day.json", view(self.per_day_view), name=f"{info}_per_day"),
            *super().get_urls(),
        ]

    def export_view(self, request, fmt):
        if fmt not in FORMATS:
            raise Http404
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)  # the list's own filters, search and order
        except IncorrectLookupParameters:
            info = f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist"
            return HttpResponseRedirect(reverse(info) + "?e=1")
        queryset = changelist.get_queryset(request).select_related(None)
        return export_response(queryset, history_columns(), fmt=fmt, filename=f"messages-{_stamp()}")

    def per_day_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return JsonResponse(messages_per_day().as_dict())


class CampaignReports:
    """A campaign's report (its messages: recipient, status, times, error) and its delivery by
    hour. Both need the permission to view the campaign; the report that to view messages too."""

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/delivery.json", view(self.delivery_view), name=self.url_name("delivery")),
            path("<int:pk>/report/<str:fmt>/", view(self.report_view), name=self.url_name("report")),
            *super().get_urls(),
        ]

    def delivery_view(self, request, pk):
        campaign = self.campaign_for(request, pk)
        return JsonResponse(campaign_delivery(campaign).as_dict())

    def report_view(self, request, pk, fmt):
        if fmt not in FORMATS:
            raise Http404
        campaign = self.campaign_for(request, pk)
        if not request.user.has_perm("messaging.view_message"):
            raise PermissionDenied
        from messaging.models import Message

        queryset = Message.objects.filter(campaign=campaign).order_by("pk")
        name = f"campaign-{campaign.pk}-{_stamp()}"  # ASCII: the name may hold any letter
        return export_response(queryset, campaign_columns(), fmt=fmt, filename=name)
