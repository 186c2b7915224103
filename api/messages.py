"""Messages: send one SMS or WhatsApp message under the sending rule; read one, or a filtered,
cursor-paginated list."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from api.base import ApiView
from api.docs import problems
from api.fields import BuiltOnce, Choice, Text
from consent.models import MessageKind
from contacts.models import Contact
from messaging.models import Message, MessageStatus
from messaging.single import message_submit

ISTANBUL = ZoneInfo("Europe/Istanbul")
CHANNELS = list(settings.MESSAGING_CHANNELS)  # sms, whatsapp


def parse_send_date(text: str) -> datetime | None:
    """'now', 'YYYY-MM-DD HH:mm' (Europe/Istanbul) or ISO 8601 (Istanbul when no offset)."""
    text = (text or "now").strip()
    if text.lower() == "now":
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise serializers.ValidationError(
            {"send_date": [f"'{text}' is not a send date: use now, 2026-12-24 09:30 or ISO 8601"]}
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ISTANBUL)


def api_status(message: Message) -> str:
    """The message's status in the API's words: a pending message is scheduled or queued (as one
    the provider holds in its queue)."""
    if message.status != MessageStatus.PENDING:
        return message.status
    due = message.next_attempt_at
    return "scheduled" if due and due > timezone.now() and not message.attempts else "queued"


API_STATUSES = ["scheduled", *[s for s in MessageStatus.values if s != MessageStatus.PENDING]]


class MessageIn(BuiltOnce, serializers.Serializer):
    channel = Choice(choices=CHANNELS)
    to = Text(max_length=32, required=False, help_text="A phone number; or give `contact`.")
    contact = Text(max_length=191, required=False, help_text="A contact's external id.")
    kind = Choice(
        choices=MessageKind.values,
        required=False,
        help_text="SMS: newsletter (the default; needs consent) or transactional. "
        "WhatsApp: follows the template's category (free text is a reply inside the 24-hour window).",
    )
    text = Text(max_length=5000, required=False, trim_whitespace=False)
    template = Text(max_length=512, required=False, help_text="SMS template or WhatsApp template name.")
    language = Text(max_length=15, required=False, help_text="A WhatsApp template's language.")
    placeholders = serializers.DictField(
        required=False,
        help_text='Values for the template\'s variables: SMS {{name}} → {"name": "Ayşe"}; WhatsApp '
        '{"1": "Ayşe"} for the body or {"body": {...}, "header": {...}, "button:0": {...}}.',
    )
    sender = Text(max_length=15, required=False, allow_blank=True)
    account = Text(max_length=100, required=False, help_text="The account's name; the only one by default.")
    send_date = Text(
        max_length=40, required=False, help_text="now (default), `YYYY-MM-DD HH:mm` (Europe/Istanbul) or ISO 8601."
    )

    def validate(self, data):
        if ("to" in data) == ("contact" in data):
            raise serializers.ValidationError({"to": ["give either to (a phone number) or contact (an external id)"]})
        if "\x00" in str(data):
            raise serializers.ValidationError({"non_field_errors": ["NUL characters are not allowed"]})
        return data


class HistoryOut(serializers.Serializer):
    status = Text(help_text="created, then each status the message moved to (and read, on WhatsApp).")
    raw_status = Text(help_text="The provider's own word for it, where it gave one.")
    reason = Text()
    at = serializers.DateTimeField()


class MessageOut(BuiltOnce, serializers.ModelSerializer):
    status = serializers.SerializerMethodField()
    contact = serializers.SerializerMethodField()
    account = serializers.SerializerMethodField()
    send_at = serializers.SerializerMethodField()
    delivered_at = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = [
            "id", "channel", "kind", "status", "reason", "raw_status", "to", "sender", "text", "contact",
            "campaign", "account", "segments", "price", "send_at", "created_at", "sent_at", "delivered_at",
            "done_at", "read_at",
        ]  # fmt: skip

    def get_status(self, message) -> str:
        return api_status(message)

    def get_contact(self, message) -> str | None:
        return message.contact.external_id if message.contact_id and message.contact else None

    def get_account(self, message) -> str | None:
        return message.account.name if message.account_id else None

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_delivered_at(self, message) -> str | None:
        """When the operator or Meta reported it delivered (read implies delivered); done_at is when
        it reached any final status (delivered, undelivered, expired, failed, skipped)."""
        if message.status != MessageStatus.DELIVERED or message.done_at is None:
            return None
        return serializers.DateTimeField().to_representation(message.done_at)

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_send_at(self, message) -> str | None:
        """When a scheduled message will be sent (Europe/Istanbul, as every time here)."""
        if api_status(message) != "scheduled":
            return None
        return serializers.DateTimeField().to_representation(message.next_attempt_at)


class MessageDetailOut(MessageOut):
    origin = Text(help_text="Who made it outside a campaign, e.g. the API key.")
    history = serializers.SerializerMethodField()

    class Meta(MessageOut.Meta):
        fields = [*MessageOut.Meta.fields, "origin", "history"]

    @extend_schema_field(HistoryOut(many=True))
    def get_history(self, message) -> list:
        first = {"status": "created", "raw_status": "", "reason": "", "at": message.created_at}
        events = list(message.status_events.order_by("at", "id").values("status", "raw_status", "reason", "at"))
        if message.status == MessageStatus.SKIPPED and not events:  # refused when made: never moved
            events.append({"status": message.status, "raw_status": "", "reason": message.reason,
                           "at": message.created_at})  # fmt: skip
        return HistoryOut([first, *events], many=True).data


FILTERS = ("status", "channel", "campaign", "contact", "to", "created_after", "created_before")


class MessagePageOut(serializers.Serializer):
    next = serializers.URLField(allow_null=True, help_text="The next page's address; null on the last page.")
    previous = serializers.URLField(allow_null=True)
    results = MessageOut(many=True)


class MessagesPage(CursorPagination):
    ordering = "-id"
    page_size = 100
    page_size_query_param = "limit"
    max_page_size = 1000

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise serializers.ValidationError({"cursor": ["not a cursor: take it from next or previous"]}) from None


class MessagesView(ApiView):
    scope = "messages"

    @extend_schema(
        operation_id="message_send",
        summary="Send one SMS or WhatsApp message",
        description="Scope: `messages`. The sending rule applies now and again when it is sent: a refused "
        "message is recorded as `skipped` with its `reason` and never sent. 201 with the message.",
        request=MessageIn,
        responses={201: MessageOut, **problems(400, 401, 403, 409, 422, 429)},
        tags=["messages"],
    )
    def post(self, request):
        serializer = MessageIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        contact = None
        if "contact" in data:
            contact = Contact.objects.filter(external_id=data["contact"]).first()
            if contact is None:
                raise serializers.ValidationError(
                    {"contact": [f"there is no contact with external id '{data['contact']}'"]}
                )
        message = message_submit(
            channel=data["channel"],
            kind=data.get("kind", ""),
            to=data.get("to", ""),
            contact=contact,
            text=data.get("text", ""),
            template=data.get("template", ""),
            language=data.get("language", ""),
            placeholders=data.get("placeholders"),
            sender=data.get("sender", ""),
            account_name=data.get("account", ""),
            send_at=parse_send_date(data.get("send_date", "")),
            origin_ref=self.origin_ref(),
        )
        # as made (its contact and account are in memory): a worker may already be sending it
        return Response(MessageOut(message).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="messages_list",
        summary="List messages, newest first",
        description="Scope: `messages`. Cursor-paginated: follow `next`.",
        parameters=[
            OpenApiParameter("status", str, enum=API_STATUSES),
            OpenApiParameter("channel", str, enum=CHANNELS),
            OpenApiParameter("campaign", int),
            OpenApiParameter("contact", str, description="A contact's external id."),
            OpenApiParameter("to", str),
            OpenApiParameter("created_after", datetime),
            OpenApiParameter("created_before", datetime),
            OpenApiParameter("limit", OpenApiTypes.INT, description="1 to 1,000 per page (100 by default)."),
            OpenApiParameter("cursor", str, description="Where a page starts: take it from `next` or `previous`."),
        ],
        responses={200: MessagePageOut, **problems(400, 401, 403, 429)},
        tags=["messages"],
    )
    def get(self, request):
        self.refuse_unknown_params(*FILTERS, "limit", "cursor")
        messages = _filtered(Message.objects.select_related("contact", "account"), request.query_params)
        page = MessagesPage()
        rows = page.paginate_queryset(messages, request, view=self)
        return page.get_paginated_response(MessageOut(rows, many=True).data)


class MessageView(ApiView):
    scope = "messages"

    @extend_schema(
        operation_id="message_read",
        summary="Read a message: status, the provider's status, times, segments, price and its status history",
        description="Scope: `messages`.",
        responses={200: MessageDetailOut, **problems(401, 403, 404, 429)},
        tags=["messages"],
    )
    def get(self, request, message_id: int):
        message = get_object_or_404(Message.objects.select_related("contact", "account"), pk=message_id)
        return Response(MessageDetailOut(message).data)


def _filtered(messages, params):
    errors = {}
    if (limit := params.get("limit")) is not None and not (limit.isdigit() and 1 <= int(limit) <= 1000):
        errors["limit"] = ["the page size is a whole number from 1 to 1000"]
    if (value := params.get("status")) is not None:
        if value not in API_STATUSES:
            errors["status"] = [f"unknown status '{value}'"]
        elif value in ("scheduled", "queued"):
            scheduled = Q(status=MessageStatus.PENDING, next_attempt_at__gt=timezone.now(), attempts=0)
            if value == "scheduled":
                messages = messages.filter(scheduled)
            else:
                messages = messages.filter(Q(status=MessageStatus.PENDING) | Q(status=value)).exclude(scheduled)
        else:
            messages = messages.filter(status=value)
    if (value := params.get("channel")) is not None:
        if value not in CHANNELS:
            errors["channel"] = [f"unknown channel '{value}'"]
        messages = messages.filter(channel=value)
    if (value := params.get("campaign")) is not None:
        if not value.isdigit():
            errors["campaign"] = ["a campaign id is a number"]
        else:
            messages = messages.filter(campaign_id=int(value))
    if value := params.get("contact"):
        messages = messages.filter(contact__external_id=value)
    if value := params.get("to"):
        messages = messages.filter(to=value)
    for name, lookup in (("created_after", "created_at__gte"), ("created_before", "created_at__lt")):
        if (value := params.get(name)) is not None:
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                errors[name] = [f"'{value}' is not an ISO 8601 time"]
                continue
            messages = messages.filter(**{lookup: moment if moment.tzinfo else moment.replace(tzinfo=ISTANBUL)})
    if errors:
        raise serializers.ValidationError(errors)
    return messages
