"""Events: something a contact did, recorded for journeys."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from api.base import ApiView
from api.docs import problems
from api.fields import Text
from contacts.events import event_record
from contacts.models import Contact, ContactEvent


class EventIn(serializers.Serializer):
    contact = Text(max_length=191, help_text="The contact's external id.")
    name = Text(max_length=100, help_text="e.g. cart_abandoned, order.paid")
    properties = serializers.DictField(required=False, help_text="Anything the journeys may look at.")
    occurred_at = serializers.DateTimeField(required=False, help_text="ISO 8601; now when left out.")


class EventOut(serializers.ModelSerializer):
    contact = Text(source="contact.external_id")

    class Meta:
        model = ContactEvent
        fields = ["id", "contact", "name", "properties", "occurred_at", "created_at"]


class EventsView(ApiView):
    scope = "events"

    @extend_schema(
        operation_id="event_record",
        summary="Record a contact's event",
        description="Scope: `events`. Stored with the contact; journeys whose entry is this event start from it.",
        request=EventIn,
        responses={201: EventOut, **problems(400, 401, 403, 409, 422, 429)},
        tags=["events"],
    )
    def post(self, request):
        serializer = EventIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        contact = Contact.objects.filter(external_id=data["contact"]).first()
        if contact is None:
            raise serializers.ValidationError(
                {"contact": [f"there is no contact with external id '{data['contact']}'"]}
            )
        if "\x00" in str(data.get("properties", "")):
            raise serializers.ValidationError({"properties": ["NUL characters are not allowed"]})
        event = event_record(
            contact=contact,
            name=data["name"],
            properties=data.get("properties"),
            occurred_at=data.get("occurred_at"),
            origin_ref=self.origin_ref(),
        )
        return Response(EventOut(event).data, status=status.HTTP_201_CREATED)
