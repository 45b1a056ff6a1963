"""API shapes of courses, rounds, sessions, quotas, enrolments, completions, groups and costs.

Writes go through ``seminars.services``; these serializers only parse and validate shapes. Foreign ids are
``ScopedPrimaryKeyRelatedField``s, so an id from another programme is "does not exist" (400).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import connection
from django.db.models import Model
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.relations import MANY_RELATION_KWARGS, PKOnlyObject

from coordinator.core.plans import AnnotationSpec, Computed, Page
from coordinator.core.prepared import PreparedQuery
from coordinator.core.serializers import ModelSerializer, StrictModelSerializer, StrictSerializer
from coordinator.core.tenancy import active_programme_ids
from organisations.access.api import ScopedPrimaryKeyRelatedField, full_name_from
from organisations.models import Organisation, Person, Programme, Unit, WorkRole
from seminars.models import (
    Completion,
    Course,
    DiscussionGroup,
    Enrolment,
    OrganisationQuota,
    Round,
    RoundCost,
    Session,
)
from seminars.selectors import participation, teaching


class RelatedIdsField(serializers.ManyRelatedField):
    """The ids of a to-many relation. A row whose query read them as a column named ``<source>_ids`` (one
    ``[id]`` per related row, as ``coordinator.core.rows.JSONRows`` reads them) is answered from that column,
    without the relation's manager or its instances; any other row from the relation itself."""

    def get_attribute(self, instance: Model) -> Iterable[object] | None:
        rows = instance.__dict__.get(f"{self.source}_ids")
        if rows is None:
            return super().get_attribute(instance)
        return [PKOnlyObject(pk=cells[0]) for cells in rows]

    def plan_spec(self) -> AnnotationSpec:
        """For a list's plan: the ids from the ``<source>_ids`` column (a list without it stays on DRF's
        path, which reads the relation)."""
        return AnnotationSpec(str(self.field_name), f"{self.source}_ids", _first_cells, self)


def _first_cells(rows: list[list[object]]) -> list[object]:
    return [cells[0] for cells in rows]


def scoped_ids(model: type[Model], **options: object) -> RelatedIdsField:
    """``ScopedPrimaryKeyRelatedField(model=model, many=True, **options)``, as a ``RelatedIdsField``: what
    DRF's ``RelatedField.many_init`` builds (the options go to the ids and to the list), with the list's
    class changed."""
    listed = {key: value for key, value in options.items() if key in MANY_RELATION_KWARGS}
    return RelatedIdsField(
        child_relation=ScopedPrimaryKeyRelatedField(model=model, **options),  # type: ignore[arg-type]
        **listed,  # type: ignore[arg-type]
    )


class CourseSerializer(StrictModelSerializer):
    programme = ScopedPrimaryKeyRelatedField(
        model=Programme, help_text=_("The programme (set on creation only).")
    )
    providers = scoped_ids(Organisation)
    provider_units = scoped_ids(
        Unit,
        required=False,
        help_text=_(
            "Units of the providing organisations that give the course; empty: the whole organisation."
        ),
    )
    target_roles = scoped_ids(WorkRole, required=False)
    prerequisites = scoped_ids(Course, required=False)

    class Meta:
        model = Course
        fields = [
            "id",
            "programme",
            "title",
            "description",
            "providers",
            "provider_units",
            "target_roles",
            "prerequisites",
            "language",
            "completion_rule",
            "attendance_required_percent",
            "is_archived",
        ]
        validators: list[Any] = []  # the service checks the title's uniqueness within the programme

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if (
            self.instance is not None
            and "programme" in attrs
            and attrs["programme"] != self.instance.programme
        ):
            raise serializers.ValidationError({"programme": _("A course cannot move to another programme.")})
        return attrs


class RoundSerializer(StrictModelSerializer):
    course = ScopedPrimaryKeyRelatedField(model=Course, help_text=_("The course (set on creation only)."))
    course_title = serializers.CharField(read_only=True)  # a column of the row (``RoundViewSet``)
    seats_free = serializers.IntegerField(read_only=True)
    waiting_count = serializers.IntegerField(read_only=True, default=0)
    registration_open = serializers.SerializerMethodField()
    plan_fields = {
        "seats_free": Computed(("capacity", "seats_taken"), lambda values, page: Round.free_of(*values)),  # type: ignore[arg-type]
        "registration_open": Computed(
            ("status", "registration_opens_at", "registration_closes_at", "starts_at"),
            lambda values, page: Round.registration_open_for(*values),  # type: ignore[arg-type]
        ),
    }

    class Meta:
        model = Round
        fields = [
            "id",
            "course",
            "course_title",
            "label",
            "information",
            "status",
            "capacity",
            "seats_taken",
            "seats_free",
            "waiting_count",
            "registration_opens_at",
            "registration_closes_at",
            "registration_open",
            "cancellation_deadline",
            "target_role_mode",
            "requires_manager_approval",
            "offer_hold_hours",
            "reserved_seats_release_at",
            "reserved_seats_released_at",
            "starts_at",
            "ends_at",
            "cancelled_reason",
        ]
        read_only_fields = [
            "seats_taken",
            "reserved_seats_released_at",
            "starts_at",
            "ends_at",
            "cancelled_reason",
        ]

    @extend_schema_field(serializers.BooleanField())
    def get_registration_open(self, round_: Round) -> bool:
        return round_.registration_is_open()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is not None and "course" in attrs and attrs["course"] != self.instance.course:
            raise serializers.ValidationError({"course": _("A round cannot move to another course.")})
        return attrs


class RoundCancelSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class GroupFormSerializer(StrictSerializer):
    group_size = serializers.IntegerField(min_value=2, max_value=50)


class SessionSerializer(StrictModelSerializer):
    round = ScopedPrimaryKeyRelatedField(model=Round, help_text=_("The round (set on creation only)."))

    class Meta:
        model = Session
        fields = ["id", "round", "title", "starts_at", "ends_at", "place", "online_url", "updated_at"]
        read_only_fields = ["updated_at"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is not None and "round" in attrs and attrs["round"] != self.instance.round:
            raise serializers.ValidationError({"round": _("A session cannot move to another round.")})
        return attrs


class QuotaSerializer(StrictModelSerializer):
    round = ScopedPrimaryKeyRelatedField(model=Round)
    organisation = ScopedPrimaryKeyRelatedField(model=Organisation)
    organisation_name = serializers.CharField(source="organisation.name", read_only=True)

    class Meta:
        model = OrganisationQuota
        fields = ["id", "round", "organisation", "organisation_name", "reserved", "maximum"]
        validators: list[Any] = []  # one quota per organisation and round: the service updates in place

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is not None:
            for name in ("round", "organisation"):
                if name in attrs and attrs[name] != getattr(self.instance, name):
                    raise serializers.ValidationError({name: _("Create a new quota instead.")})
        return attrs


def _page_queue_positions(rows: list[tuple[object, ...]], context: object) -> dict[int, int]:
    # The places in the queue of the page's waiting bookings, in one query for the page.
    waiting = Enrolment.Status.WAITING
    return participation.queue_positions({round_id for _pk, round_id, status in rows if status == waiting})  # type: ignore[misc]


def _queue_position(values: tuple[object, ...], page: Page) -> object:
    return page.prepared["queue_position"].get(values[0])  # type: ignore[attr-defined]


class EnrolmentSerializer(ModelSerializer):
    """A booking as its person, their line manager, the course's providers and the coordinators see it."""

    # The round's, course's and organisation's fields are columns of the booking's own row: it is read with
    # ``participation.with_enrolment_names`` (by the list and the detail alike).
    course = serializers.IntegerField(source="round_course_id", read_only=True)
    course_title = serializers.CharField(read_only=True)
    round_label = serializers.CharField(read_only=True)
    person_name = serializers.CharField(source="person.full_name", read_only=True)
    organisation_name = serializers.CharField(read_only=True)
    queue_position = serializers.SerializerMethodField()
    plan_fields = {
        "person_name": full_name_from("person"),
        "queue_position": Computed(("pk", "round", "status"), _queue_position, _page_queue_positions),
    }

    class Meta:
        model = Enrolment
        fields = [
            "id",
            "round",
            "round_label",
            "course",
            "course_title",
            "person",
            "person_name",
            "organisation",
            "organisation_name",
            "status",
            "approval",
            "priority",
            "queue_position",
            "requested_at",
            "confirmed_at",
            "offered_at",
            "hold_expires_at",
            "ended_at",
            "end_reason",
            "motivation",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_queue_position(self, enrolment: Enrolment) -> int | None:
        positions = self.context.get("queue_positions") or {}
        return positions.get(enrolment.pk)


_AT = serializers.DateTimeField(read_only=True)  # how DRF writes a date-time (in the zone that is active)


def _at(value: object) -> object:
    return None if value is None else _AT.to_representation(value)  # type: ignore[arg-type]


def written_enrolment(enrolment: Enrolment, queue_position: int | None) -> dict[str, object]:
    """What ``EnrolmentSerializer`` writes for a booking a service has just written and
    ``participation.name_written_enrolment`` has named, from its values: the same keys in the same order
    and each value as its field writes it (building the serializer's twenty fields for one answer cost a
    fifth of an enrolment's time). Tests compare it byte for byte with the following read."""
    return {
        "id": enrolment.pk,
        "round": enrolment.round_id,
        "round_label": str(enrolment.round_label),  # type: ignore[attr-defined]
        "course": int(enrolment.round_course_id),  # type: ignore[attr-defined]
        "course_title": str(enrolment.course_title),  # type: ignore[attr-defined]
        "person": enrolment.person_id,
        "person_name": str(enrolment.person.full_name),
        "organisation": enrolment.organisation_id,
        "organisation_name": str(enrolment.organisation_name),  # type: ignore[attr-defined]
        "status": _choice(enrolment.status),
        "approval": _choice(enrolment.approval),
        "priority": int(enrolment.priority),
        "queue_position": queue_position,
        "requested_at": _at(enrolment.requested_at),
        "confirmed_at": _at(enrolment.confirmed_at),
        "offered_at": _at(enrolment.offered_at),
        "hold_expires_at": _at(enrolment.hold_expires_at),
        "ended_at": _at(enrolment.ended_at),
        "end_reason": _choice(enrolment.end_reason),
        "motivation": str(enrolment.motivation),
    }


def _choice(value: str | None) -> str | None:
    # As DRF's ChoiceField writes a choice: the choice's own value ("" and None as they are).
    return value if value in ("", None) else str(value)


# The round an enrolment names, with its course and programme, by its id: SQL compiled once per connection
# (compiling the scoped query with its joins cost more than the database takes to answer it). The field
# checks the round's programme against the scope on the row, as the scoped query's filter does.
_ROUND_WITH_COURSE: PreparedQuery[Round] = PreparedQuery(
    lambda pk: Round.unscoped_objects.select_related("course__programme").filter(pk=pk),
    stand_in=-(2**62) + 29,
)


class RoundWithCourseField(ScopedPrimaryKeyRelatedField):
    """A round the reader can see, with its course and programme (as ``select_related`` reads them);
    anything else answers as DRF's primary key field does (a missing or foreign round "does not exist",
    a value that is no key is of the wrong type)."""

    def __init__(self) -> None:
        super().__init__(
            model=Round, narrow=lambda queryset, actor: queryset.select_related("course__programme")
        )

    def to_internal_value(self, data: object) -> Model:
        scope = active_programme_ids()
        if not scope:
            return super().to_internal_value(data)
        pk_field = Round._meta.pk
        assert pk_field is not None
        try:
            if isinstance(data, bool):
                raise TypeError
            pk = pk_field.get_prep_value(data)
        except (TypeError, ValueError):
            self.fail("incorrect_type", data_type=type(data).__name__)
        low, high = connection.ops.integer_field_range(pk_field.get_internal_type())
        found = _ROUND_WITH_COURSE.fetch(pk) if low <= pk <= high else []
        if not found or found[0].course.programme_id not in scope:
            self.fail("does_not_exist", pk_value=data)
        return found[0]


class EnrolmentCreateSerializer(StrictSerializer):
    # With its course and programme, which the enrolment decides by (not read again).
    round = RoundWithCourseField()
    # With what the answer shows of them (the name and the organisation's name).
    person = ScopedPrimaryKeyRelatedField(
        model=Person,
        narrow=lambda queryset, actor: queryset.select_related("user", "organisation"),
        required=False,
        help_text=_("Coordinators only: enrol someone else."),
    )
    motivation = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class RejectSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class AttendanceSerializer(StrictSerializer):
    session = ScopedPrimaryKeyRelatedField(model=Session)
    present = serializers.BooleanField()


class AttendanceResultSerializer(serializers.Serializer):  # type: ignore[type-arg]
    enrolment = serializers.IntegerField()
    session = serializers.IntegerField()
    present = serializers.BooleanField()


class CompletionSerializer(ModelSerializer):
    # Serializes completions read with ``teaching.with_course_title`` (or given ``course_title``).
    person_name = serializers.CharField(source="person.full_name", read_only=True)
    course_title = serializers.CharField(read_only=True)
    plan_fields = {"person_name": full_name_from("person")}

    class Meta:
        model = Completion
        fields = [
            "id",
            "person",
            "person_name",
            "course",
            "course_title",
            "round",
            "method",
            "completed_on",
            "note",
            "recorded_at",
        ]
        read_only_fields = fields


class CompletionCreateSerializer(StrictSerializer):
    enrolment = ScopedPrimaryKeyRelatedField(
        model=Enrolment, help_text=_("A confirmed participant's booking.")
    )
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class RecordCompletionsResultSerializer(serializers.Serializer):  # type: ignore[type-arg]
    recorded = CompletionSerializer(many=True)


class GroupMemberSerializer(serializers.Serializer):  # type: ignore[type-arg]
    enrolment = serializers.IntegerField()
    person = serializers.IntegerField()
    person_name = serializers.CharField()
    organisation = serializers.IntegerField()
    organisation_name = serializers.CharField()


_MEMBER_NAME = full_name_from("enrolment__person")


def _page_members(rows: list[tuple[object, ...]], context: object) -> dict[object, list[dict[str, object]]]:
    # The members of the page's groups in one query, written as ``DiscussionGroupSerializer`` writes them.
    by_group: dict[object, list[dict[str, object]]] = {pk: [] for (pk,) in rows}
    page = Page({}, None)
    for group, enrolment, person, *name, organisation, organisation_name in teaching.member_rows(by_group):
        by_group[group].append(
            {
                "enrolment": enrolment,
                "person": person,
                "person_name": _MEMBER_NAME.write((person, *name), page),
                "organisation": organisation,
                "organisation_name": organisation_name,
            }
        )
    return by_group


class DiscussionGroupSerializer(ModelSerializer):
    # Serializes groups whose members are read with ``teaching.group_members``.
    members = serializers.SerializerMethodField()
    plan_fields = {
        "members": Computed(("pk",), lambda values, page: page.prepared["members"][values[0]], _page_members)  # type: ignore[index]
    }

    class Meta:
        model = DiscussionGroup
        fields = ["id", "round", "number", "name", "members"]
        read_only_fields = fields

    @extend_schema_field(GroupMemberSerializer(many=True))
    def get_members(self, group: DiscussionGroup) -> list[dict[str, Any]]:
        return [
            {
                "enrolment": m.enrolment_id,
                "person": m.enrolment.person_id,
                "person_name": m.enrolment.person.full_name,
                "organisation": m.enrolment.organisation_id,
                "organisation_name": m.organisation_name,  # type: ignore[attr-defined]
            }
            for m in group.members.all()
        ]


class CostSerializer(StrictModelSerializer):
    round = ScopedPrimaryKeyRelatedField(model=Round)

    class Meta:
        model = RoundCost
        fields = ["id", "round", "kind", "amount", "note", "created_at"]
        read_only_fields = ["created_at"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is not None and "round" in attrs and attrs["round"] != self.instance.round:
            raise serializers.ValidationError({"round": _("A cost cannot move to another round.")})
        return attrs


class ReportQuerySerializer(StrictSerializer):
    programme = ScopedPrimaryKeyRelatedField(model=Programme)
    start = serializers.DateField()
    end = serializers.DateField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["end"] < attrs["start"]:
            raise serializers.ValidationError({"end": _("The period must end on or after its start.")})
        if (attrs["end"] - attrs["start"]).days > 3660:
            raise serializers.ValidationError({"end": _("Choose a period of at most ten years.")})
        return attrs


class RoundFiguresSerializer(serializers.Serializer):  # type: ignore[type-arg]
    round = serializers.IntegerField()
    course = serializers.CharField()
    round_label = serializers.CharField()
    starts_at = serializers.DateTimeField(allow_null=True)
    costs = serializers.DictField(child=serializers.DecimalField(max_digits=14, decimal_places=2))
    total = serializers.DecimalField(max_digits=14, decimal_places=2)
    participants = serializers.IntegerField()
    staff_hours = serializers.DecimalField(max_digits=14, decimal_places=2)


class FunderShareSerializer(serializers.Serializer):  # type: ignore[type-arg]
    name = serializers.CharField()
    share_percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)


class OrganisationHoursSerializer(serializers.Serializer):  # type: ignore[type-arg]
    organisation = serializers.CharField()
    participants = serializers.IntegerField()
    hours = serializers.DecimalField(max_digits=14, decimal_places=2)


class CostReportSerializer(serializers.Serializer):  # type: ignore[type-arg]
    programme = serializers.IntegerField()
    start = serializers.DateField()
    end = serializers.DateField()
    rounds = RoundFiguresSerializer(many=True)
    totals_by_kind = serializers.DictField(child=serializers.DecimalField(max_digits=14, decimal_places=2))
    total_cost = serializers.DecimalField(max_digits=14, decimal_places=2)
    funders = FunderShareSerializer(many=True)
    unfunded = serializers.DecimalField(max_digits=14, decimal_places=2)
    staff_hours = serializers.DecimalField(max_digits=14, decimal_places=2)
    hours_by_organisation = OrganisationHoursSerializer(many=True)


class OrganisationCountSerializer(serializers.Serializer):  # type: ignore[type-arg]
    organisation = serializers.CharField()
    waiting = serializers.IntegerField()


class DemandSerializer(serializers.Serializer):  # type: ignore[type-arg]
    course = serializers.IntegerField()
    course_title = serializers.CharField()
    waiting = serializers.IntegerField()
    offered = serializers.IntegerField()
    target_role_waiting = serializers.IntegerField()
    free_seats = serializers.IntegerField()
    upcoming_rounds = serializers.IntegerField()
    unmet = serializers.IntegerField()
    needs_round = serializers.BooleanField()
    suggested_rounds = serializers.IntegerField()
    by_organisation = OrganisationCountSerializer(many=True)
