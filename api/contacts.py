"""Contacts: create or update by external id (one or a batch of up to 1,000), read one."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from api.base import ApiView
from api.docs import problems
from api.fields import BuiltOnce, Choice, Text
from contacts.models import Contact
from contacts.upsert import contacts_upsert


class ContactIn(BuiltOnce, serializers.Serializer):
    external_id = Text(max_length=191, help_text="The brand's own id of the contact.")
    phone = Text(
        max_length=32, required=False, allow_null=True, allow_blank=True,
        help_text="Mobile phone; E.164 ('+905331234562') or as typed in Turkey ('0533 123 45 62'). null clears it.",
    )  # fmt: skip
    email = Text(max_length=254, required=False, allow_null=True, allow_blank=True)
    whatsapp_number = Text(
        max_length=32, required=False, allow_null=True, allow_blank=True,
        help_text="The number the contact uses WhatsApp on (one contact's only).",
    )  # fmt: skip
    attributes = serializers.DictField(
        required=False, allow_null=True,
        help_text="Merged into the contact's attributes; a key given null is removed; null removes them all.",
    )  # fmt: skip

    def validate_external_id(self, value: str) -> str:
        if "\x00" in value or not value.strip():
            raise serializers.ValidationError("The external id must be a non-empty text without NUL characters.")
        return value.strip()

    def validate_attributes(self, value):
        if value is not None and "\x00" in str(value):
            raise serializers.ValidationError("Attributes must not contain NUL characters.")
        return value


class ContactOut(BuiltOnce, serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = [
            "external_id",
            "phone",
            "email",
            "whatsapp_number",
            "attributes",
            "phone_status",
            "sms_subscription",
            "whatsapp_consent",
            "created_at",
            "updated_at",
        ]

    # what DRF's fields give for these columns, written out: a batch renders 1,000 contacts, and the
    # generic loop (get_attribute, to_representation per field) was ~20% of it; the times still go
    # through DRF's DateTimeField (the zone and format); tests/api/test_contacts.py compares the two
    TIMES = ("created_at", "updated_at")

    def to_representation(self, contact):
        fields, shown = self.fields, {}
        for name in self.Meta.fields:
            value = getattr(contact, name)
            if value is None or name == "attributes":
                shown[name] = value
            elif name in self.TIMES:
                shown[name] = fields[name].to_representation(value)
            else:  # text, an enum member as its value (DRF's CharField and ChoiceField)
                shown[name] = value if type(value) is str else str(value)
        return shown


class BatchIn(serializers.Serializer):
    contacts = serializers.ListField(
        child=serializers.JSONField(), min_length=1, max_length=settings.API_BATCH_MAX,
        help_text=f"Up to {settings.API_BATCH_MAX} contacts, each as in POST /api/v1/contacts/.",
    )  # fmt: skip


class BatchItemOut(serializers.Serializer):
    index = serializers.IntegerField()
    outcome = Choice(choices=["created", "updated", "unchanged", "rejected"])
    contact = ContactOut(required=False)
    errors = serializers.DictField(child=serializers.ListField(child=Text()), required=False)


class BatchOut(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    rejected = serializers.IntegerField()
    results = BatchItemOut(many=True)


class ContactsView(ApiView):
    scope = "contacts"

    @extend_schema(
        operation_id="contact_upsert",
        summary="Create or update a contact by external id",
        description=(
            "Scope: `contacts`. 201 when the contact is new, 200 when it existed (fields left out keep their value)."
        ),
        request=ContactIn,
        responses={201: ContactOut, 200: ContactOut, **problems(400, 401, 403, 409, 422, 429)},
        tags=["contacts"],
    )
    def post(self, request):
        serializer = ContactIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = contacts_upsert(items=[serializer.validated_data], origin_ref=self.origin_ref())[0]
        if result.errors:
            raise serializers.ValidationError(result.errors)
        if result.outcome != "created":
            return Response(ContactOut(result.contact).data, status=status.HTTP_200_OK)
        where = reverse("api-contact", kwargs={"external_id": result.contact.external_id})
        return Response(ContactOut(result.contact).data, status=status.HTTP_201_CREATED, headers={"Location": where})


class ContactsBatchView(ApiView):
    scope = "contacts"

    @extend_schema(
        operation_id="contacts_batch",
        summary="Create or update up to 1,000 contacts",
        description="Scope: `contacts`. Each item gets its own result; a bad item never stops the good ones.",
        request=BatchIn,
        responses={200: BatchOut, **problems(400, 401, 403, 409, 413, 422, 429)},
        tags=["contacts"],
    )
    def post(self, request):
        batch = BatchIn(data=request.data)
        batch.is_valid(raise_exception=True)
        items, results = [], []
        validator = ContactIn()  # one serializer for every item: its fields are built once, not 1,000 times
        for index, raw in enumerate(batch.validated_data["contacts"]):
            try:
                items.append((index, validator.run_validation(raw)))
            except serializers.ValidationError as exc:
                results.append({"index": index, "outcome": "rejected", "errors": _errors(exc.detail)})
        done = []
        outcomes = contacts_upsert(items=[i for _, i in items], origin_ref=self.origin_ref())
        for (index, _item), outcome in zip(items, outcomes, strict=True):
            if outcome.errors:
                results.append({"index": index, "outcome": "rejected", "errors": outcome.errors})
            else:
                done.append((index, outcome))
        shown = ContactOut([outcome.contact for _, outcome in done], many=True).data
        results += [
            {"index": index, "outcome": outcome.outcome, "contact": contact}
            for (index, outcome), contact in zip(done, shown, strict=True)
        ]
        results.sort(key=lambda r: r["index"])
        counts = {k: sum(r["outcome"] == k for r in results) for k in ("created", "updated", "unchanged", "rejected")}
        return Response({**counts, "results": results})


class ContactView(ApiView):
    scope = "contacts"

    @extend_schema(
        operation_id="contact_read",
        summary="Read a contact by external id",
        description="Scope: `contacts`.",
        responses={200: ContactOut, **problems(401, 403, 404, 429)},
        tags=["contacts"],
    )
    def get(self, request, external_id: str):
        return Response(ContactOut(get_object_or_404(Contact, external_id=external_id)).data)


def _errors(errors) -> dict[str, list[str]]:
    if not isinstance(errors, dict):
        return {"non_field_errors": [str(e) for e in errors]}
    return {
        name: [str(m) for m in (messages if isinstance(messages, list) else [messages])]
        for name, messages in errors.items()
    }
