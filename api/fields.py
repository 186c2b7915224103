"""Serializer fields that take JSON as it is written: a text field refuses a number or a boolean
(DRF would turn 123 into "123"), so the API means exactly what its schema says."""

from __future__ import annotations

from rest_framework import serializers


class Text(serializers.CharField):
    default_error_messages = {"not_text": "Must be text (a JSON string)."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_text")
        return super().to_internal_value(data)


class Choice(serializers.ChoiceField):
    default_error_messages = {"not_text": "Must be text (a JSON string)."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_text")
        return super().to_internal_value(data)
