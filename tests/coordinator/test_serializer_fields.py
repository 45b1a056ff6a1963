"""A model serializer works out its fields once per class: later instances get fresh copies of them, bound to
themselves, without DRF building them from the model again; a class that builds its own fields keeps
building them every time."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework import serializers
from rest_framework.utils import model_meta

from coordinator.core.serializers import ModelSerializer, StrictModelSerializer
from focusgroups.models import ActionItem, Concept
from focusgroups.serializers import ConceptSerializer, MeetingSerializer


@pytest.fixture
def field_info_reads(monkeypatch: pytest.MonkeyPatch) -> list[type]:
    """The models whose field information DRF's ModelSerializer reads to build fields (its own helper,
    counted)."""
    reads: list[type] = []
    read = model_meta.get_field_info

    def counted(model: type) -> Any:
        reads.append(model)
        return read(model)

    monkeypatch.setattr(model_meta, "get_field_info", counted)
    return reads


def test_a_second_instance_does_not_build_its_fields_again(field_info_reads):
    MeetingSerializer().fields  # noqa: B018 (built, and kept for the class)
    del field_info_reads[:]

    second = MeetingSerializer()
    names = list(second.fields)

    assert field_info_reads == []
    assert names == [
        "id",
        "group",
        "title",
        "starts_at",
        "ends_at",
        "place",
        "online_link",
        "status",
        "sequence",
        "agenda",
        "minutes",
        "minutes_note",
        "minutes_version",
        "decisions",
        "created_at",
        "updated_at",
    ]


def test_nested_serializers_do_not_build_their_fields_again(field_info_reads):
    first = ConceptSerializer(many=True)
    first.child.fields["terms"].child.fields  # noqa: B018
    first.child.fields["comments"].child.fields  # noqa: B018
    del field_info_reads[:]

    second = ConceptSerializer(many=True)
    terms = list(second.child.fields["terms"].child.fields)
    comments = list(second.child.fields["comments"].child.fields)

    assert field_info_reads == []
    assert (terms, comments) == (
        ["id", "organisation", "organisation_name", "term", "definition", "updated_at"],
        ["id", "author", "author_name", "body", "created_at"],
    )


def test_each_instance_has_its_own_fields_bound_to_itself():
    MeetingSerializer().fields  # noqa: B018 (built, and kept for the class)
    first, second = MeetingSerializer(context={"caller": 1}), MeetingSerializer(context={"caller": 2})

    shared = [name for name in first.fields if first.fields[name] is second.fields[name]]
    parents = {field.parent for field in second.fields.values()}
    agenda = second.fields["agenda"]

    assert shared == []
    assert parents == {second}
    assert (agenda.child.parent, agenda.child.context) == (agenda, {"caller": 2})
    assert first.fields["group"].context == {"caller": 1}
    assert first.fields["title"].max_length == second.fields["title"].max_length == 200


def test_a_field_changed_on_one_instance_stays_on_that_instance():
    MeetingSerializer().fields  # noqa: B018
    first = MeetingSerializer()
    first.fields["title"].read_only = True
    first.fields.pop("place")

    second = MeetingSerializer()

    assert (second.fields["title"].read_only, "place" in second.fields) == (False, True)


class _ByCaller(StrictModelSerializer):
    """Builds a field differently per caller: its fields cannot be kept for the class."""

    class Meta:
        model = ActionItem
        fields = ["id", "title"]

    def build_field(self, field_name: str, info: Any, model_class: Any, nested_depth: int) -> Any:
        field_class, kwargs = super().build_field(field_name, info, model_class, nested_depth)
        if field_name == "title" and self.context.get("read_only_title"):
            kwargs["read_only"] = True
        return field_class, kwargs


def test_a_serializer_that_builds_its_own_fields_builds_them_every_time(field_info_reads):
    editable = _ByCaller(context={}).fields["title"]
    read_only = _ByCaller(context={"read_only_title": True}).fields["title"]

    assert (_ByCaller.fields_are_cacheable(), MeetingSerializer.fields_are_cacheable()) == (False, True)
    assert (editable.read_only, read_only.read_only) == (False, True)
    assert field_info_reads == [ActionItem, ActionItem]


class _Brief(ModelSerializer):
    class Meta:
        model = Concept
        fields = ["id", "name"]


def test_the_plain_model_serializer_base_keeps_its_fields_too(field_info_reads):
    _Brief().fields  # noqa: B018
    second = _Brief()

    assert (list(second.fields), field_info_reads) == (["id", "name"], [Concept])
    assert isinstance(second.fields["name"], serializers.CharField)


# --- Copies of the kept fields ----------------------------------------------------------------------------


def _project_serializers() -> list[type]:
    """Every serializer class of the project built on the bases that keep their fields."""
    import importlib

    from coordinator.core.serializers import StrictSerializer

    for app in ("coordinator.core", "organisations", "shadowing", "seminars", "focusgroups"):
        try:
            importlib.import_module(f"{app}.serializers")
        except ModuleNotFoundError:
            continue
    found: list[type] = []
    stack: list[type] = [ModelSerializer, StrictModelSerializer, StrictSerializer]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            stack.append(sub)
            if sub.__module__.split(".")[0] in {
                "coordinator",
                "organisations",
                "shadowing",
                "seminars",
                "focusgroups",
            }:
                found.append(sub)
    return sorted(set(found), key=lambda cls: (cls.__module__, cls.__qualname__))


def _state(field: Any, seen: set[int]) -> object:
    """What a bound field holds, with its parent and its own bookkeeping left out, nested fields and
    serializers as their own state (the same for a copy and for DRF's copy of one field)."""
    import types

    if isinstance(field, serializers.BaseSerializer) and hasattr(field, "fields"):
        return (type(field), {name: _state(child, seen) for name, child in field.fields.items()})
    state: dict[str, object] = {"type": type(field)}
    for name, value in sorted(vars(field).items()):
        if name in {"parent", "_args", "_kwargs", "_creation_counter"}:
            continue
        if isinstance(value, serializers.Field):
            value = _state(value, seen)
        elif name == "_validators":
            value = [type(v) for v in value]
        elif isinstance(value, types.FunctionType):  # made anew by the field's __init__ for each DRF copy
            value = value.__code__
        state[name] = value
    if not hasattr(field, "_validators"):
        state["_validators"] = [type(v) for v in field.validators]
    return state


@pytest.mark.parametrize("serializer_class", _project_serializers(), ids=lambda cls: cls.__qualname__)
def test_kept_fields_copy_as_drf_copies_them(serializer_class):
    # Each instance's fields, copied from the kept prototypes (plain fields shallow), hold exactly what
    # DRF's own copies of the same fields hold once bound: names, sources, labels, flags, defaults,
    # error messages, validators, choices, nested fields.
    import copy

    from coordinator.core.serializers import _PROTOTYPES

    try:
        serializer_class().fields  # noqa: B018 (kept for the class)
    except Exception:  # a serializer that needs arguments to be made  # noqa: BLE001
        pytest.skip("needs arguments")
    ours = serializer_class()
    prototypes = _PROTOTYPES.get(serializer_class)
    if prototypes is None:
        pytest.skip("builds its fields every time")
    drf = serializer_class()
    drf.__dict__["fields"] = bound = serializers.BindingDict(drf)
    for name, field in copy.deepcopy(prototypes.fields).items():
        bound[name] = field

    assert list(ours.fields) == list(drf.fields)
    for name in drf.fields:
        assert _state(ours.fields[name], set()) == _state(drf.fields[name], set()), name
        assert ours.fields[name].parent is ours
        assert ours.fields[name] is not prototypes.fields[name]


def test_a_plain_serializer_copies_its_declared_fields_for_each_instance():
    from shadowing.serializers import DeclineSerializer

    first, second = DeclineSerializer(context={"caller": 1}), DeclineSerializer(context={"caller": 2})
    first.fields["note"].required = False

    assert first.fields["note"] is not second.fields["note"]
    assert (first.fields["note"].parent, second.fields["note"].parent) == (first, second)
    assert (first.fields["note"].required, second.fields["note"].required) == (False, True)
    assert second.fields["note"].context == {"caller": 2}


def test_a_field_with_a_list_default_gets_a_list_of_its_own():
    from coordinator.core.serializers import StrictSerializer

    class _Listing(StrictSerializer):
        codes = serializers.ListField(child=serializers.CharField(), default=list)
        tags = serializers.JSONField(default=[])

    first, second = _Listing(), _Listing()
    first.fields["tags"].default.append("x")

    assert second.fields["tags"].default == []
    assert first.fields["codes"].child is not second.fields["codes"].child
    assert second.fields["codes"].child.parent is second.fields["codes"]
