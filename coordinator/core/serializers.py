"""Serializer bases for the whole API: input is strict, unknown fields are refused, and a model serializer
works out its fields once per class."""

from __future__ import annotations

import copy
import weakref
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, serializers
from rest_framework.fields import Field
from rest_framework.settings import api_settings

from coordinator.core.validators import EARLIEST_MOMENT, LATEST_MOMENT, MOMENT_RANGE_MESSAGE, date_validators

# ModelSerializer.get_fields() builds the fields through these; a subclass that overrides one may build
# different fields per instance (from its context, say), so its fields are built every time as DRF does.
_FIELD_BUILDERS = (
    "get_field_names",
    "get_default_field_names",
    "get_extra_kwargs",
    "get_uniqueness_extra_kwargs",
    "include_extra_kwargs",
    "build_field",
    "build_standard_field",
    "build_relational_field",
    "build_nested_field",
    "build_property_field",
    "build_url_field",
    "build_unknown_field",
)


class CachedFieldsMixin:
    """Works out a ``ModelSerializer``'s fields once per class instead of once per instance.

    DRF's ``ModelSerializer.get_fields()`` reads the model's field information and builds every field
    from it (``build_field``, the field mapping, the field's keyword arguments) for every serializer
    instance, nested ones included: about a tenth of a small list's processor time. What it builds depends
    only on the class (its ``Meta``, its declared fields, the model), so the result is kept on the class as
    unbound prototypes, and each instance gets its own fresh copies of them, copied as DRF copies declared
    fields (``Field.__deepcopy__`` builds each anew from its arguments). Fields are then bound to their
    instance as before, and everything that reads the request (``context``, method fields, a
    ``to_representation`` that leaves fields out for some readers) runs per instance as before.

    A class that overrides one of the methods ``get_fields()`` builds through (``build_field``,
    ``get_extra_kwargs``, ...) may build different fields per instance, so its fields are built every time.
    """

    @classmethod
    def fields_are_cacheable(cls) -> bool:
        """Whether every method ``get_fields()`` builds through is ModelSerializer's own."""
        for name in _FIELD_BUILDERS:
            owner = next(klass for klass in cls.__mro__ if name in klass.__dict__)
            if owner is not serializers.ModelSerializer:
                return False
        return True

    def get_fields(self) -> dict[str, Field[object, object, object, object]]:
        cls = type(self)
        prototypes = _PROTOTYPES.get(cls)
        if prototypes is None:
            built: dict[str, Field[object, object, object, object]] = super().get_fields()  # type: ignore[misc]
            if cls.fields_are_cacheable():
                # Two threads may both build them the first time: the same fields either way.
                _PROTOTYPES[cls] = _Prototypes(copy.deepcopy(built))
            return built
        if getattr(self, "url_field_name", None) is None:
            # What ModelSerializer.get_fields() sets on the instance besides building the fields.
            vars(self)["url_field_name"] = api_settings.URL_FIELD_NAME
        return prototypes.copies()


# What a field's copy must not share with its prototype: a value DRF's copy would give it anew and that
# code may change in place (a list or dict as the default or initial value).
_MUTABLE = (list, dict, set, bytearray)


def _copied_shallow(field: Field[object, object, object, object]) -> bool:
    """Whether a copy of ``field`` may share the prototype's attribute values: a field that holds no other
    field or serializer (a list's child, a many-relation's child relation, a nested serializer's own
    fields), and no default or initial value that could be changed in place. Everything else such a field
    holds is set when it is made and only read afterwards (its validators, error messages, choices, query
    set), and what binding it to a serializer sets (its name, parent, label and source) is set on the copy
    alone. DRF's own copy shares the validators too."""
    if isinstance(field, serializers.BaseSerializer):
        return False
    for name, value in vars(field).items():
        if isinstance(value, Field) or (name in ("default", "initial") and isinstance(value, _MUTABLE)):
            return False
    return True


class _Prototypes:
    """A serializer class's fields as ``get_fields()`` built them, never bound to an instance, and for
    each whether its copies may be made shallow (``_copied_shallow``)."""

    __slots__ = ("fields", "shallow")

    def __init__(self, fields: dict[str, Field[object, object, object, object]]) -> None:
        self.fields = fields
        self.shallow = {name: _copied_shallow(field) for name, field in fields.items()}

    def copies(self) -> dict[str, Field[object, object, object, object]]:
        """Fresh copies of the fields for one serializer instance: a plain field as a new object with the
        prototype's attributes (DRF's deep copy makes it anew from its arguments, which was most of the
        cost of a serializer's fields), the others as DRF copies them."""
        memo: dict[int, object] = {}
        copies: dict[str, Field[object, object, object, object]] = {}
        for name, field in self.fields.items():
            if self.shallow[name]:
                clone = object.__new__(type(field))
                clone.__dict__.update(field.__dict__)
                copies[name] = clone
            else:
                copies[name] = copy.deepcopy(field, memo)
        return copies


# Per serializer class, its fields' prototypes.
# Weak keys: a class made at run time (drf-spectacular makes some) takes its entry with it when it goes.
_PROTOTYPES: weakref.WeakKeyDictionary[type, _Prototypes] = weakref.WeakKeyDictionary()


class DeclaredFieldsMixin:
    """A plain ``Serializer``'s declared fields copied for each instance as ``CachedFieldsMixin`` copies a
    model serializer's (DRF deep-copies every declared field for every instance). A class that overrides
    ``get_fields`` keeps its own."""

    def get_fields(self) -> dict[str, Field[object, object, object, object]]:
        cls = type(self)
        prototypes = _PROTOTYPES.get(cls)
        if prototypes is None:
            declared: dict[str, Field[object, object, object, object]] = self._declared_fields  # type: ignore[attr-defined]
            prototypes = _PROTOTYPES[cls] = _Prototypes(copy.deepcopy(declared))
        return prototypes.copies()


class StrictSerializerMixin:
    """Rejects fields the serializer does not know, instead of silently ignoring them."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            known = set(self.fields)  # type: ignore[attr-defined]
            unknown = sorted(str(key) for key in data if key not in known)
            if unknown:
                raise exceptions.ValidationError({key: [_("Unknown field.")] for key in unknown})
        return super().to_internal_value(data)  # type: ignore[misc]


class StrictSerializer(StrictSerializerMixin, DeclaredFieldsMixin, serializers.Serializer):  # type: ignore[type-arg]
    pass


class DateTimeField(serializers.DateTimeField):
    """DRF's date-time field, answering as the forms do where DRF does not: a local time without an offset
    that the zone's clocks skip (when they go forward) or show twice (when they go back) is refused instead
    of taken as some hour near it; a moment too near the ends of the calendar to convert between zones, or
    outside 1900-2199, is refused instead of failing the request or a calendar later. (DRF's own check
    compares across zones, which is never equal for such times, so it lets both through.)"""

    default_error_messages = {
        **serializers.DateTimeField.default_error_messages,
        "range": MOMENT_RANGE_MESSAGE,
    }

    def enforce_timezone(self, value: datetime) -> datetime:
        try:
            moment: datetime = super().enforce_timezone(value)
            # (such a time has two offsets, one for each reading of ``fold``; any other has one)
            unclear = (
                timezone.is_naive(value)
                and moment.tzinfo is not None
                and moment.replace(fold=1 - moment.fold).utcoffset() != moment.utcoffset()
            )
        except OverflowError:
            self.fail("overflow")
        if unclear:
            self.fail("make_aware", timezone=moment.tzinfo)
        if moment.tzinfo is not None and not EARLIEST_MOMENT <= moment < LATEST_MOMENT:
            self.fail("range")
        return moment


class DateField(serializers.DateField):
    """DRF's date field within the dates the forms take (1900 to 9998): a period that far off has no local
    midnight in UTC, and reports and progress charts count days over it."""

    default_validators = date_validators()


# Every model date and date-time field of the API's serializers is read by these.
_FIELD_MAPPING = {
    **serializers.ModelSerializer.serializer_field_mapping,
    models.DateField: DateField,
    models.DateTimeField: DateTimeField,
}


class ModelSerializer(CachedFieldsMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    """DRF's ``ModelSerializer`` with its fields worked out once per class (for read-only shapes)."""

    serializer_field_mapping = _FIELD_MAPPING


class StrictModelSerializer(StrictSerializerMixin, CachedFieldsMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    serializer_field_mapping = _FIELD_MAPPING
