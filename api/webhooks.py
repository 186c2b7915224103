"""Webhooks: register an endpoint for events (its signing secret is in the answer), list them,
remove one."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from api.base import ApiView
from api.docs import problems
from api.fields import Choice, Text
from webhooks.models import Endpoint, EventType
from webhooks.services import endpoint_create, endpoint_delete

EVENTS_HELP = (
    "message.status: a message's status moved (queued, sent, delivered, read, failed, …); "
    "consent.changed: a consent's status changed in the ledger, whatever made it (panel, upload, API, İYS); "
    "message.inbound: a message came in (a reply, a STOP)."
)


class EndpointIn(serializers.Serializer):
    url = Text(max_length=2000, help_text="An https:// URL the panel POSTs the events to.")
    events = serializers.ListField(child=Choice(choices=EventType.values), min_length=1, help_text=EVENTS_HELP)
    description = Text(max_length=200, required=False, allow_blank=True)


class EndpointOut(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = Endpoint
        fields = ["id", "url", "events", "description", "active", "created_at"]


class EndpointCreatedOut(EndpointOut):
    secret = serializers.CharField(
        help_text="Verify each delivery with it (Standard Webhooks: webhook-id, webhook-timestamp, "
        "webhook-signature); it is shown here, and to admins in the panel."
    )

    class Meta(EndpointOut.Meta):
        fields = [*EndpointOut.Meta.fields, "secret"]


class WebhooksView(ApiView):
    scope = "webhooks"

    @extend_schema(
        operation_id="webhook_create",
        summary="Register a webhook endpoint",
        description="Scope: `webhooks`. Each event is POSTed as JSON `{type, timestamp, data}`, signed per "
        "Standard Webhooks, retried with back-off (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h) until the "
        "endpoint answers 2xx; the attempts are in the panel (Outgoing webhooks).",
        request=EndpointIn,
        responses={201: EndpointCreatedOut, **problems(400, 401, 403, 409, 422, 429)},
        tags=["webhooks"],
    )
    def post(self, request):
        serializer = EndpointIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            endpoint = endpoint_create(
                url=data["url"], events=data["events"], description=data.get("description", ""), api_key=self.api_key
            )
        except ValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return Response(EndpointCreatedOut(endpoint).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="webhook_list",
        summary="List the webhook endpoints",
        description="Scope: `webhooks`. Every endpoint, newest first (there are at most 20).",
        responses={200: EndpointOut(many=True), **problems(400, 401, 403, 429)},
        tags=["webhooks"],
    )
    def get(self, request):
        self.refuse_unknown_params()
        return Response(EndpointOut(Endpoint.objects.all(), many=True).data)


class WebhookView(ApiView):
    scope = "webhooks"

    @extend_schema(
        operation_id="webhook_delete",
        summary="Remove a webhook endpoint",
        description="Scope: `webhooks`. Nothing more is sent to it; its queued deliveries are dropped.",
        responses={204: None, **problems(401, 403, 404, 429)},
        tags=["webhooks"],
    )
    def delete(self, request, webhook_id: int):
        endpoint_delete(endpoint=get_object_or_404(Endpoint, pk=webhook_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
