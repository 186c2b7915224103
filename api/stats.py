"""A campaign's statistics (the same figures as its admin page)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from api.base import ApiView
from api.docs import problems
from messaging.models import Campaign
from messaging.selectors import campaign_statistics


class CampaignStatsOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    channel = serializers.CharField()
    kind = serializers.CharField()
    status = serializers.CharField()
    status_reason = serializers.CharField()
    total = serializers.IntegerField(help_text="Messages made for the campaign.")
    by_status = serializers.DictField(child=serializers.IntegerField(), help_text="Messages per status.")
    handed_over = serializers.IntegerField(help_text="Accepted by the provider.")
    delivered = serializers.IntegerField()
    no_report = serializers.IntegerField(help_text="Accepted by the provider, no final report (yet).")
    delivery_rate = serializers.FloatField(allow_null=True, help_text="Delivered among those with a final verdict.")
    read = serializers.IntegerField(help_text="WhatsApp: delivered and read.")
    read_rate = serializers.FloatField(allow_null=True, help_text="Read among delivered (WhatsApp).")
    segments = serializers.IntegerField(help_text="SMS segments handed over.")
    cost = serializers.DecimalField(max_digits=14, decimal_places=5, allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


class CampaignStatsView(ApiView):
    scope = "stats"

    @extend_schema(
        operation_id="campaign_stats",
        summary="A campaign's statistics",
        description="Scope: `stats`. Counts by status, messages with no report, delivery and read rates, "
        "segments and cost.",
        responses={200: CampaignStatsOut, **problems(401, 403, 404, 429)},
        tags=["campaigns"],
    )
    def get(self, request, campaign_id: int):
        campaign = get_object_or_404(Campaign, pk=campaign_id)
        stats = campaign_statistics(campaign)
        body = {
            "id": campaign.pk,
            "name": campaign.name,
            "channel": campaign.channel,
            "kind": campaign.kind,
            "status": campaign.status,
            "status_reason": campaign.status_reason,
            "total": stats.total,
            "by_status": stats.by_status,
            "handed_over": stats.handed_over,
            "delivered": stats.delivered,
            "no_report": stats.no_report,
            "delivery_rate": stats.delivery_rate,
            "read": stats.read,
            "read_rate": stats.read_rate,
            "segments": stats.segments,
            "cost": stats.cost,
            "started_at": campaign.started_at,
            "finished_at": campaign.finished_at,
        }
        return Response(CampaignStatsOut(body).data)
