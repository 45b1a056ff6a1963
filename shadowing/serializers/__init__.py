"""API shapes of workplaces, slots, requests, matching runs, placements, reflections and host feedback.

Writes go through ``shadowing.services``; these serializers only parse and validate shapes. Foreign ids are
``ScopedPrimaryKeyRelatedField``s, so an id from another programme is "does not exist" (400). Unknown fields
are a 400 too (``StrictModelSerializer``).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from coordinator.core import shapes
from coordinator.core.plans import Computed, Page, plan_for, write_page
from coordinator.core.serializers import ModelSerializer, StrictModelSerializer, StrictSerializer
from organisations.access.api import ScopedPrimaryKeyRelatedField, full_name_from
from organisations.models import Organisation, Person, Programme, Unit
from organisations.permissions import Actor
from shadowing import permissions
from shadowing.models import (
    MAX_SLOT_CAPACITY,
    NOTE_MAX_LENGTH,
    AvailabilityWindow,
    HostFeedback,
    MatchingRun,
    Placement,
    PlacementCost,
    PlacementDay,
    PlacementEvent,
    Preference,
    Reflection,
    ShadowingRequest,
    Slot,
    Topic,
    UnplacedReason,
    Workplace,
)
from shadowing.serializers._named import NamedRowField


def _languages() -> serializers.ListField:
    return serializers.ListField(
        child=serializers.RegexField(r"^[a-z]{2,3}$", max_length=3),
        max_length=20,
        required=False,
        help_text=_("Language codes such as sv, da, en, ar."),
    )


class WorkplaceSerializer(StrictModelSerializer):
    programme = ScopedPrimaryKeyRelatedField(
        model=Programme, help_text=_("The programme (set on creation only).")
    )
    organisation = serializers.IntegerField(source="organisation_id", read_only=True)
    organisation_name = serializers.CharField(source="organisation.name", read_only=True)
    unit = ScopedPrimaryKeyRelatedField(model=Unit, required=False, allow_null=True)
    topics = ScopedPrimaryKeyRelatedField(model=Topic, many=True, required=False)
    contact = ScopedPrimaryKeyRelatedField(
        model=Person, required=False, help_text=_("The host contact; by default the person creating it.")
    )
    languages = _languages()

    class Meta:
        model = Workplace
        fields = [
            "id",
            "programme",
            "organisation",
            "organisation_name",
            "unit",
            "name",
            "street_address",
            "postal_code",
            "city",
            "description",
            "topics",
            "languages",
            "accessibility",
            "max_visitors_per_day",
            "confidentiality_terms",
            "contact",
            "is_published",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        validators: list[Any] = []  # the service checks the name's uniqueness within the organisation

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if (
            self.instance is not None
            and "programme" in attrs
            and attrs["programme"] != self.instance.programme
        ):
            raise serializers.ValidationError(
                {"programme": _("A workplace cannot move to another programme.")}
            )
        return attrs


class SlotSerializer(StrictModelSerializer):
    workplace = ScopedPrimaryKeyRelatedField(
        model=Workplace, help_text=_("The workplace (set on creation only).")
    )
    free = serializers.IntegerField(read_only=True)
    plan_fields = {
        "free": Computed(("capacity", "booked"), lambda values, page: Slot.free_of(*values)),  # type: ignore[arg-type]
    }
    on_day_off = serializers.BooleanField(
        write_only=True,
        required=False,
        default=False,
        help_text=_("Confirms a visit day on a public holiday or day off of the programme's country."),
    )

    class Meta:
        model = Slot
        fields = [
            "id",
            "workplace",
            "date",
            "starts_at",
            "ends_at",
            "capacity",
            "booked",
            "free",
            "notes",
            "on_day_off",
        ]
        read_only_fields = ["booked"]
        validators: list[Any] = []

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is not None:
            for name in ("workplace", "date"):
                if name in attrs and attrs[name] != getattr(self.instance, name):
                    raise serializers.ValidationError(
                        {name: _("Delete the slot and create another instead.")}
                    )
        return attrs


class SlotBulkSerializer(StrictSerializer):
    workplace = ScopedPrimaryKeyRelatedField(model=Workplace)
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    weekdays = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6),
        min_length=1,
        max_length=7,
        help_text=_("0 = Monday … 6 = Sunday."),
    )
    starts_at = serializers.TimeField()
    ends_at = serializers.TimeField()
    capacity = serializers.IntegerField(min_value=1, max_value=MAX_SLOT_CAPACITY)
    notes = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    on_days_off = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_("Also create visit days on public holidays and days off (left out otherwise)."),
    )


class SlotRemoveFreeSerializer(StrictSerializer):
    workplace = ScopedPrimaryKeyRelatedField(model=Workplace)
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()


class RemovedSerializer(serializers.Serializer):  # type: ignore[type-arg]
    removed = serializers.IntegerField()


class WindowSerializer(StrictModelSerializer):
    class Meta:
        model = AvailabilityWindow
        fields = ["starts_on", "ends_on"]


class PreferenceSerializer(StrictModelSerializer):
    organisation = ScopedPrimaryKeyRelatedField(model=Organisation, required=False, allow_null=True)
    # Read with the request's programme on creation (``named_rows``).
    workplace = NamedRowField(model=Workplace, required=False, allow_null=True)

    class Meta:
        model = Preference
        fields = ["rank", "organisation", "workplace"]
        validators: list[Any] = []


_AT = serializers.DateTimeField(read_only=True)  # how DRF writes a date-time (in the zone that is active)
_ON = serializers.DateField(read_only=True)  # and a date


def _at(value: object) -> object:
    return None if value is None else _AT.to_representation(value)  # type: ignore[arg-type]


def _choice(value: str | None) -> str | None:
    # As DRF's ChoiceField writes a choice: the choice's own value ("" and None as they are).
    return value if value in ("", None) else str(value)


def written_request(request: ShadowingRequest) -> dict[str, object]:
    """What ``ShadowingRequestSerializer`` writes for a request ``request_create`` has just written (its
    topics, windows and wishes held in the order a read gives them, its requester with the user), or for
    one a line manager has just decided (read with all of these, ``decided_object``), from its values: the
    same keys in the same order and each value as its field writes it (building the nested serializers'
    fields again for the answer was a tenth of the request's time). Tests compare it byte for byte with
    the following read."""
    return {
        "id": request.pk,
        "programme": request.programme_id,
        "requester": request.requester_id,
        "filed_by": request.filed_by_id,
        "requester_name": str(request.requester.full_name),
        "organisation": request.organisation_id,
        "learning_goals": str(request.learning_goals),
        "topics": [topic.pk for topic in request.topics.all()],
        "days": int(request.days),
        "consecutive": bool(request.consecutive),
        "languages": [None if code is None else str(code) for code in request.languages],
        "windows": [
            {"starts_on": _ON.to_representation(w.starts_on), "ends_on": _ON.to_representation(w.ends_on)}
            for w in request.windows.all()
        ],
        "preferences": [
            {"rank": int(p.rank), "organisation": p.organisation_id, "workplace": p.workplace_id}
            for p in request.preferences.all()
        ],
        "status": _choice(request.status),
        "approved_by": request.approved_by_id,
        "decided_at": _at(request.decided_at),
        "decision_note": str(request.decision_note),
        "partner": request.partner_id,
        "submitted_at": _at(request.submitted_at),
        "expires_at": _at(request.expires_at),
        "unplaced_code": _choice(request.unplaced_code),
        "unplaced_reason": str(request.unplaced_reason),
    }


class ShadowingRequestSerializer(StrictModelSerializer):
    # On creation read with the workplaces the request wishes for (``named_rows``).
    programme = NamedRowField(model=Programme, help_text=_("The programme (set on creation only)."))
    requester_name = serializers.CharField(source="requester.full_name", read_only=True)
    topics = ScopedPrimaryKeyRelatedField(model=Topic, many=True, required=False)
    # Blank until a matching run leaves the request unplaced (a read-only model field loses allow_blank).
    unplaced_code = serializers.ChoiceField(choices=UnplacedReason.choices, allow_blank=True, read_only=True)
    languages = _languages()
    windows = WindowSerializer(many=True, help_text=_("One to five periods in which the requester can go."))
    preferences = PreferenceSerializer(many=True, required=False, help_text=_("Up to five ranked wishes."))
    unplaced_reason = serializers.CharField(
        read_only=True, help_text=_("Why the last match left the request out, in the reader's language.")
    )
    person = ScopedPrimaryKeyRelatedField(
        model=Person,
        narrow=lambda queryset, actor: queryset.select_related("user"),  # the answer shows the name
        write_only=True,
        required=False,
        help_text=_("On creation, coordinators only: the staff member the request is filed for."),
    )
    plan_fields = {
        "requester_name": full_name_from("requester"),
        "unplaced_reason": Computed(
            ("unplaced_code",),
            lambda values, page: ShadowingRequest.unplaced_reason_of(values[0]),  # type: ignore[arg-type]
        ),
    }

    class Meta:
        model = ShadowingRequest
        fields = [
            "id",
            "programme",
            "person",
            "requester",
            "filed_by",
            "requester_name",
            "organisation",
            "learning_goals",
            "topics",
            "days",
            "consecutive",
            "languages",
            "windows",
            "preferences",
            "status",
            "approved_by",
            "decided_at",
            "decision_note",
            "partner",
            "submitted_at",
            "expires_at",
            "unplaced_code",
            "unplaced_reason",
        ]
        read_only_fields = [
            "requester",
            "filed_by",
            "organisation",
            "status",
            "approved_by",
            "decided_at",
            "decision_note",
            "partner",
            "submitted_at",
            "expires_at",
            "unplaced_code",
            "unplaced_reason",
        ]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if (
            self.instance is not None
            and "programme" in attrs
            and attrs["programme"] != self.instance.programme
        ):
            raise serializers.ValidationError({"programme": _("A request cannot move to another programme.")})
        if self.instance is not None and "person" in attrs:
            raise serializers.ValidationError({"person": _("A request cannot move to another person.")})
        return attrs


class TopicSerializer(StrictModelSerializer):
    programme = ScopedPrimaryKeyRelatedField(
        model=Programme, help_text=_("The programme (set on creation only).")
    )

    class Meta:
        model = Topic
        fields = ["id", "programme", "name"]
        validators: list[object] = []  # uniqueness within the programme is checked by the service

    def validate(self, attrs: dict[str, object]) -> dict[str, object]:
        if (
            self.instance is not None
            and "programme" in attrs
            and attrs["programme"] != self.instance.programme
        ):
            raise serializers.ValidationError({"programme": _("A topic cannot move to another programme.")})
        return attrs


class PairSerializer(StrictSerializer):
    partner = ScopedPrimaryKeyRelatedField(
        model=ShadowingRequest, help_text=_("The other request of the reciprocal exchange.")
    )


class DecisionSerializer(StrictSerializer):
    note = serializers.CharField(max_length=NOTE_MAX_LENGTH, required=False, allow_blank=True, default="")


class DeclineSerializer(StrictSerializer):
    note = serializers.CharField(max_length=NOTE_MAX_LENGTH)


class PlacementDaySerializer(ModelSerializer):
    class Meta:
        model = PlacementDay
        fields = ["id", "slot", "date", "starts_at", "ends_at"]
        read_only_fields = fields


class PlacementEventSerializer(ModelSerializer):
    class Meta:
        model = PlacementEvent
        fields = ["from_status", "to_status", "actor", "at", "note"]
        read_only_fields = fields


class PlacementSerializer(ModelSerializer):
    requester = serializers.IntegerField(source="request.requester_id", read_only=True)
    requester_name = serializers.CharField(source="request.requester.full_name", read_only=True)
    workplace_name = serializers.CharField(source="workplace.name", read_only=True)
    days = PlacementDaySerializer(many=True, read_only=True)
    events = PlacementEventSerializer(many=True, read_only=True)
    plan_fields = {"requester_name": full_name_from("request__requester")}

    class Meta:
        model = Placement
        fields = [
            "id",
            "programme",
            "request",
            "requester",
            "requester_name",
            "workplace",
            "workplace_name",
            "run",
            "status",
            "sequence",
            "days",
            "confidentiality_accepted_at",
            "decline_reason",
            "cancel_reason",
            "cancelled_by",
            "events",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ReasonSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=NOTE_MAX_LENGTH)


class ConfirmSerializer(StrictSerializer):
    accept_confidentiality = serializers.BooleanField(
        help_text=_("The shadower accepts the workplace's confidentiality terms (must be true).")
    )


class UnplacedSerializer(serializers.Serializer):  # type: ignore[type-arg]
    request = serializers.IntegerField()
    reason = serializers.CharField(help_text=_("A reason code of the matcher."))
    reason_text = serializers.CharField()


def _unplaced(unplaced: dict[str, str]) -> list[dict[str, object]]:
    from shadowing.services.matching_runs import reason_text

    return [
        {"request": int(pk), "reason": code, "reason_text": reason_text(code)}
        for pk, code in sorted(unplaced.items(), key=lambda kv: int(kv[0]))
    ]


def _page_run_placements(
    rows: list[tuple[object, ...]], context: Mapping[str, object]
) -> dict[object, list[object]]:
    # The proposals of the page's runs, read and written by the placement list's own plan in one query.
    from shadowing.selectors import with_placement_joins

    runs = [pk for (pk,) in rows]
    by_run: dict[object, list[object]] = {pk: [] for pk in runs}
    if runs:
        # Compiled once per connection and page of runs (in the reader's scope): the same first page is
        # read again and again, and building this query costs more than reading it.
        found = shapes.compiled(
            ("run placements", tuple(runs)),
            lambda: plan_for(PlacementSerializer).rows(
                with_placement_joins(Placement.objects.filter(run_id__in=runs), shown_only=True).order_by(
                    "pk"
                ),
                context,
            ),
        )
        placements = (
            write_page(found.fetch(), found.width, found.writer, found.prepares, context)
            if isinstance(found, shapes.CompiledPage)
            else found
        )
        for placement in placements:
            by_run[placement["run"]].append(dict(placement))
    return by_run


def _run_placements(values: tuple[object, ...], page: Page) -> object:
    return page.prepared["placements"][values[0]]  # type: ignore[index]


class MatchingRunSerializer(ModelSerializer):
    placements = serializers.SerializerMethodField()
    unplaced = serializers.SerializerMethodField()
    plan_fields = {
        "placements": Computed(("pk",), _run_placements, _page_run_placements),
        "unplaced": Computed(("unplaced",), lambda values, page: _unplaced(values[0])),  # type: ignore[arg-type]
    }

    class Meta:
        model = MatchingRun
        fields = [
            "id",
            "programme",
            "status",
            "created_by",
            "created_at",
            "fairness_weight",
            "objective",
            "bound",
            "gap",
            "placed",
            "requests_considered",
            "greedy_placed",
            "method",
            "seconds",
            "confirmed_by",
            "confirmed_at",
            "phase",
            "progress_placed",
            "progress_gap",
            "finished_at",
            "error",
            "placements",
            "unplaced",
        ]
        read_only_fields = fields

    @extend_schema_field(PlacementSerializer(many=True))
    def get_placements(self, run: MatchingRun) -> Any:
        return PlacementSerializer(run.placements.all(), many=True).data

    @extend_schema_field(UnplacedSerializer(many=True))
    def get_unplaced(self, run: MatchingRun) -> list[dict[str, Any]]:
        return _unplaced(run.unplaced)


class MatchingRunCreateSerializer(StrictSerializer):
    programme = ScopedPrimaryKeyRelatedField(model=Programme)
    fairness_weight = serializers.FloatField(
        min_value=0,
        max_value=100,
        required=False,
        allow_null=True,
        help_text=_(
            "How much to spread placements evenly over organisations; the setting's default if empty."
        ),
    )


class RunAssignSerializer(StrictSerializer):
    request = ScopedPrimaryKeyRelatedField(model=ShadowingRequest)
    workplace = ScopedPrimaryKeyRelatedField(model=Workplace)
    slots = ScopedPrimaryKeyRelatedField(model=Slot, many=True)


class RunRemoveSerializer(StrictSerializer):
    placement = ScopedPrimaryKeyRelatedField(model=Placement)


class ReflectionSerializer(StrictModelSerializer):
    placement = ScopedPrimaryKeyRelatedField(model=Placement)

    class Meta:
        model = Reflection
        fields = ["id", "placement", "learned", "how_used", "how_shared", "submitted_at"]
        read_only_fields = ["submitted_at"]


class HostFeedbackSerializer(StrictModelSerializer):
    placement = ScopedPrimaryKeyRelatedField(model=Placement)

    class Meta:
        model = HostFeedback
        fields = ["id", "placement", "feedback", "author", "submitted_at"]
        read_only_fields = ["author", "submitted_at"]


def _costed_placements(queryset: QuerySet[Placement], actor: Actor) -> QuerySet[Placement]:
    return queryset.filter(permissions.costed_placements_filter(actor))


class PlacementCostSerializer(StrictModelSerializer):
    """A cost of a visit besides the staff time, in the programme's currency (``amount`` a decimal string,
    at least 0, at most 2 decimals)."""

    placement = ScopedPrimaryKeyRelatedField(model=Placement, narrow=_costed_placements)
    amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0"), max_value=Decimal("9999999999.99")
    )

    class Meta:
        model = PlacementCost
        fields = ["id", "placement", "kind", "amount", "note", "created_at"]
        read_only_fields = ["created_at"]

    def validate(self, attrs: dict[str, object]) -> dict[str, object]:
        if (
            self.instance is not None
            and "placement" in attrs
            and attrs["placement"] != self.instance.placement
        ):
            raise serializers.ValidationError({"placement": _("A cost cannot move to another visit.")})
        return attrs
