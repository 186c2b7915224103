"""Serializer fields that take JSON as it is written: a text field refuses a number or a boolean
(DRF would turn 123 into "123"), so the API means exactly what its schema says."""

from __future__ import annotations

import copy

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


class BuiltOnce:
    """A serializer mixin: the fields are worked out once per class (a ModelSerializer reads the
    model's fields on every instance, a few milliseconds a request) and each instance gets a
    fresh copy of them, as DRF copies the declared fields of a plain Serializer. A plain field
    is copied shallowly (its own attributes, which binding sets; DRF's deepcopy calls its
    __init__ again); one holding other fields (a list, a dict, a serializer) deeply."""

    def get_fields(self):
        cls = type(self)
        built = cls.__dict__.get("_built_fields")
        if built is None:
            built = super().get_fields()
            cls._built_fields = built
        return {
            name: copy.deepcopy(field) if isinstance(field, NESTING) else _shallow(field)
            for name, field in built.items()
        }


def _shallow(field):
    """copy.copy(field) without its __reduce_ex__ round (a field has no __copy__ nor __slots__)."""
    twin = object.__new__(type(field))
    twin.__dict__.update(field.__dict__)
    return twin


NESTING = (serializers.BaseSerializer, serializers.ListField, serializers.DictField, serializers.HStoreField)
