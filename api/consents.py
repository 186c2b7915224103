"""Consents: record a change through the ledger; read a recipient's consents and history."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from api.base import ApiView
from api.docs import problems
from api.errors import Unprocessable
from api.fields import Choice, Text
from consent.models import Consent, ConsentChange, ConsentStatus, ConsentType, RecipientType
from consent.recording import ConsentRefused, consent_record, normalise_recipient, parse_consent_date

HISTORY_LIMIT = 500


class ConsentIn(serializers.Serializer):
    recipient = Text(max_length=265, help_text="A phone number (E.164 or as typed) or an email.")
    type = Choice(choices=ConsentType.choices)
    status = Choice(choices=ConsentStatus.choices)
    consent_date = Text(
        max_length=40,
        help_text="When the consent was given or withdrawn: ISO 8601, or İYS's `YYYY-MM-DD HH:mm:ss` "
        "(Europe/Istanbul when no offset is given).",
    )
    source = Text(
        max_length=40,
        help_text="Where the brand collected it: İYS's HS_* value (HS_WEB, HS_MOBIL, ...) or a platform "
        "the uploads accept (web, mobile, store, callcenter, event, ...).",
    )
    recipient_type = Choice(choices=RecipientType.choices, required=False)


class ChangeOut(serializers.ModelSerializer):
    class Meta:
        model = ConsentChange
        fields = [
            "id",
            "recipient",
            "recipient_type",
            "type",
            "status",
            "previous_status",
            "consent_date",
            "source",
            "origin",
            "origin_ref",
            "created_at",
        ]


class ConsentOut(serializers.ModelSerializer):
    class Meta:
        model = Consent
        fields = [
            "recipient",
            "recipient_type",
            "type",
            "status",
            "consent_date",
            "source",
            "iys_confirmed_at",
            "updated_at",
        ]


class RecordedOut(serializers.Serializer):
    outcome = Choice(
        choices=["created", "updated", "unchanged"],
        help_text="unchanged: the same status again, or an older consent date than the one held; nothing is appended.",
    )
    consent = ConsentOut()
    change = ChangeOut(allow_null=True)


class RecipientOut(serializers.Serializer):
    recipient = Text()
    consents = ConsentOut(many=True)
    history = ChangeOut(many=True, help_text=f"Newest first, at most {HISTORY_LIMIT}.")


class ConsentsView(ApiView):
    scope = "consents"

    @extend_schema(
        operation_id="consent_record",
        summary="Record a consent change",
        description="Scope: `consents`. Through the consent ledger (and to İYS for MESAJ, ARAMA and EPOSTA, "
        "as every change): 201 with the change appended; 200 when it changes nothing; 422 when İYS's "
        "rules refuse it (a date in the future or before 2015-05-01, HS_KARAR with ONAY, ...).",
        request=ConsentIn,
        responses={201: RecordedOut, 200: RecordedOut, **problems(400, 401, 403, 409, 422, 429)},
        tags=["consents"],
    )
    def post(self, request):
        serializer = ConsentIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            recorded = consent_record(
                recipient=data["recipient"],
                type=data["type"],
                status=data["status"],
                consent_date=parse_consent_date(data["consent_date"]),
                source=data["source"],
                recipient_type=data.get("recipient_type", ""),
                origin_ref=self.origin_ref(),
            )
        except ConsentRefused as refused:
            if refused.field:
                raise serializers.ValidationError({refused.field: [str(refused)]}) from None
            raise Unprocessable(str(refused)) from None
        body = RecordedOut(recorded).data
        return Response(body, status=status.HTTP_201_CREATED if recorded.change else status.HTTP_200_OK)

    @extend_schema(
        operation_id="consents_read",
        summary="Read a recipient's consents and their history",
        description="Scope: `consents`.",
        parameters=[OpenApiParameter("recipient", str, required=True, description="A phone number or an email.")],
        responses={200: RecipientOut, **problems(400, 401, 403, 429)},
        tags=["consents"],
    )
    def get(self, request):
        self.refuse_unknown_params("recipient")
        raw = request.query_params.get("recipient", "")
        if not raw.strip() or "\x00" in raw:
            raise serializers.ValidationError({"recipient": ["give the phone number or email to look up"]})
        try:
            recipient = normalise_recipient(raw, ConsentType.EPOSTA if "@" in raw else ConsentType.MESAJ)
        except ConsentRefused as refused:
            raise serializers.ValidationError({"recipient": [str(refused)]}) from None
        consents = Consent.objects.filter(recipient=recipient).order_by("type", "recipient_type")
        history = ConsentChange.objects.filter(recipient=recipient).order_by("-created_at", "-pk")[:HISTORY_LIMIT]
        return Response(
            {
                "recipient": recipient,
                "consents": ConsentOut(consents, many=True).data,
                "history": ChangeOut(history, many=True).data,
            }
        )
