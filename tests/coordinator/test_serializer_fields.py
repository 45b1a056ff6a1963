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
