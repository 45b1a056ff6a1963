"""List pages written by a plan per serializer (``coordinator.core.plans``): every value exactly as DRF's
field loop writes it, a serializer the plan cannot compile on DRF's path with the reason said, and the lists
on the demo programmes byte for byte the same with the plans on and off."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import F
from django.db.models.signals import post_init
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import resolve
from django.utils import timezone, translation
from rest_framework import serializers as drf
from rest_framework.authtoken.models import Token
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient

from coordinator.core import shapes
from coordinator.core.drf import RowsInList
from coordinator.core.plans import NotPlanned, plan_for
from coordinator.core.tenancy import programme_scope
from organisations.models import Invitation, Membership, PlatformRole, RoleAssignment
from seminars.models import Course, Round, RoundCost
from shadowing import selectors
from shadowing.models import AvailabilityWindow, UnplacedReason
from shadowing.serializers import ShadowingRequestSerializer
from tests.factories import make_member
from tests.factories.seminars import CourseFactory, RoundCostFactory, RoundFactory
from tests.factories.shadowing import make_request

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_shapes_of_earlier_tests() -> None:
    # Compiled shapes live on the connection, which outlives a test (rows and ids of a test end with it).
    shapes.clear()


class CourseBrief(drf.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        from seminars.models import Course

        model = Course
        fields = ["id", "title", "language"]


class RoundShape(drf.ModelSerializer):  # type: ignore[type-arg]
    """Every kind of value the plan converts: text, whole numbers, booleans, choices, date-times (null and
    not), a foreign key's id, a column through a key, a nested row through a key, a read-only field."""

    course_title = drf.CharField(source="course.title", read_only=True)
    course_row = CourseBrief(source="course", read_only=True)
    any_value = drf.ReadOnlyField(source="label")

    class Meta:
        model = Round
        fields = [
            "id",
            "course",
            "course_title",
            "course_row",
            "label",
            "information",
            "status",
            "capacity",
            "seats_taken",
            "requires_manager_approval",
            "registration_opens_at",
            "starts_at",
            "reserved_seats_release_at",
            "any_value",
        ]


class CostShape(drf.ModelSerializer):  # type: ignore[type-arg]
    """Decimals, and three ways DRF treats a dotted source through an empty key: left out, its default,
    ``None``."""

    by_name = drf.CharField(source="created_by.user.username", read_only=True)
    by_name_or_default = drf.CharField(source="created_by.user.username", read_only=True, default="-")
    by_name_or_null = drf.CharField(source="created_by.user.username", read_only=True, allow_null=True)
    round_label = drf.CharField(source="round.label", read_only=True)

    class Meta:
        model = RoundCost
        fields = [
            "id",
            "kind",
            "amount",
            "note",
            "by_name",
            "by_name_or_default",
            "by_name_or_null",
            "round_label",
        ]


def _both(
    serializer_class: type, queryset: Any, context: dict[str, object] | None = None
) -> tuple[bytes, bytes]:
    """The rows as DRF's field loop writes them and as the plan writes them, rendered as the API renders."""
    context = context or {}
    drf_rows = serializer_class(list(queryset), many=True, context=context).data
    planned = [dict(row) for row in plan_for(serializer_class).rows(queryset, context)]
    return JSONRenderer().render(drf_rows), JSONRenderer().render(planned)


def test_plan_writes_every_kind_of_value_as_drf_does_in_every_zone(programme):
    course = CourseFactory(programme=programme, title="Asylrätt <grund>", language="sv")
    RoundFactory(course=course, label="Vår", information="", requires_manager_approval=True)
    RoundFactory(
        course=course,
        label="Höst",
        information="Två dagar\nmed övningar",
        status=Round.Status.DRAFT,
        starts_at=datetime(2026, 3, 29, 0, 30, tzinfo=UTC),  # the night summer time starts in Stockholm
        reserved_seats_release_at=datetime(2026, 10, 1, 8, 0, 0, 123456, tzinfo=UTC),
    )
    for zone in ("Europe/Stockholm", "UTC", "America/St_Johns"):
        with timezone.override(zone), programme_scope([programme.pk]):
            written, planned = _both(RoundShape, Round.objects.order_by("pk"))
            assert planned == written, zone
    assert (
        b'"starts_at":null' in written
        and b'"reserved_seats_release_at":"2026-10-01T05:30:00.123456-02:30"' in written
    )


def test_plan_writes_decimals_and_empty_keys_as_drf_does(programme, coordinator):
    round_ = RoundFactory(course=CourseFactory(programme=programme))
    RoundCostFactory(round=round_, amount=Decimal("12.50"), note="Lokal", created_by=coordinator)
    RoundCostFactory(round=round_, amount=Decimal("0.00"), kind=RoundCost.Kind.OTHER, created_by=None)

    with programme_scope([programme.pk]):
        written, planned = _both(CostShape, RoundCost.objects.order_by("pk"))

    assert planned == written
    with programme_scope([programme.pk]):
        second = [dict(row) for row in plan_for(CostShape).rows(RoundCost.objects.order_by("pk"), {})][1]
    assert second == {
        "id": second["id"],
        "kind": "other",
        "amount": "0.00",
        "note": "",
        "by_name_or_default": "-",
        "by_name_or_null": None,
        "round_label": round_.label,
    }


def test_plan_writes_requests_with_nested_rows_hooks_and_translations_as_drf_does(
    programme, org_a, org_b, coordinator
):
    requester = make_member(programme, org_b, PlatformRole.STAFF, user__first_name="", user__last_name="")
    erased = make_member(programme, org_b, PlatformRole.STAFF, user__first_name="Amina")
    make_request(programme, requester, preferences=[org_a], languages=["sv", "ar"])
    without_windows = make_request(programme, erased, unplaced_code=UnplacedReason.ALL_FULL)
    AvailabilityWindow.unscoped_objects.filter(request=without_windows).delete()
    type(erased).unscoped_objects.filter(pk=erased.pk).update(erased_at=timezone.now())
    make_request(programme, coordinator, unplaced_code="no-longer-a-code", decided_at=timezone.now())

    for language in ("sv", "da", "en"):
        with translation.override(language), programme_scope([programme.pk]):
            from organisations.permissions import actor_for

            queryset = selectors.requests_for(actor_for(coordinator.user), shown_only=True)
            written, planned = _both(ShadowingRequestSerializer, queryset)
            assert planned == written, language
    assert b'"windows":[]' in written and b'"preferences":[]' in written and b'"topics":[]' in written


def test_a_method_field_without_a_hook_keeps_the_serializer_on_drfs_path_and_says_why():
    class WithMethod(drf.ModelSerializer):  # type: ignore[type-arg]
        shout = drf.SerializerMethodField()

        class Meta:
            model = Round
            fields = ["id", "shout"]

        def get_shout(self, round_: Round) -> str:
            return round_.label.upper()

    class OwnWriter(drf.ModelSerializer):  # type: ignore[type-arg]
        class Meta:
            model = Round
            fields = ["id"]

        def to_representation(self, round_: Round) -> dict[str, object]:
            return {"id": round_.pk, "extra": True}

    with pytest.raises(NotPlanned) as method:
        plan_for(WithMethod)
    with pytest.raises(NotPlanned) as own:
        plan_for(OwnWriter)

    assert str(method.value) == "WithMethod: WithMethod.shout: a method field without a plan hook."
    assert str(own.value) == "OwnWriter: OwnWriter writes its rows with its own to_representation()."


def test_a_list_without_a_column_its_plan_reads_stays_on_drfs_path_and_says_why(programme):
    from seminars.serializers import RoundSerializer

    RoundFactory(course=CourseFactory(programme=programme, title="Asylrätt"))
    with programme_scope([programme.pk]), pytest.raises(NotPlanned) as missing:
        plan_for(RoundSerializer).rows(Round.objects.all(), {})
    with programme_scope([programme.pk]):
        annotated = Round.objects.annotate(course_title=F("course__title"), waiting_count=F("capacity"))
        rows = [dict(row) for row in plan_for(RoundSerializer).rows(annotated, {})]

    assert str(missing.value) == "course_title: the list's queryset has no column 'course_title'."
    assert [row["course_title"] for row in rows] == ["Asylrätt"]


def test_no_list_of_the_api_stays_on_drfs_path(api, coordinator, caplog):
    # A list whose serializer or queryset has no plan says so (``NotPlanned``, logged); none has, now that
    # the programmes, the competences and the invitations are planned too.
    caplog.set_level(logging.DEBUG, logger="coordinator.core.plans")

    statuses = {path: api(coordinator).get(path).status_code for path in _list_paths()}

    assert set(statuses.values()) == {200}
    said = [record.getMessage() for record in caplog.records if record.name == "coordinator.core.plans"]
    assert said == []


def test_people_list_shows_only_the_readers_programmes_and_no_foreign_person(
    api, programme, other_programme, org_a, org_b, org_other, staff_a, outsider
):
    # A colleague of another organisation in both programmes, with roles in each; a person of the other
    # programme only. The reader (staff of org A) sees the colleague's membership in their programme only,
    # without contact details, and never the other programme's person.
    both = make_member(programme, org_b, PlatformRole.STAFF, phone="0701")
    elsewhere = Membership.unscoped_objects.create(programme=other_programme, person=both)
    RoleAssignment.unscoped_objects.create(membership=elsewhere, role=PlatformRole.COORDINATOR)

    rows = api(staff_a).get("/api/v1/people/", {"page_size": 200}).json()["results"]

    assert sorted(row["id"] for row in rows) == sorted([staff_a.pk, both.pk])
    row = next(row for row in rows if row["id"] == both.pk)
    assert row["programmes"] == [
        {"programme": programme.pk, "work_role": None, "work_role_name": None, "roles": ["staff"]}
    ]
    assert [
        name in row for name in ("email", "phone", "line_manager", "languages", "preferred_language")
    ] == [
        False,
        False,
        False,
        False,
        False,
    ]
    assert outsider.pk not in {row["id"] for row in rows}


# --- On the demo programmes: with the plans and without them, the same bytes --------------------------------

USERS = ["johan.bergstrom", "lars.pettersson", "karin.nystrom"]


@pytest.fixture
def demo(db: Any) -> dict[str, APIClient]:
    call_command("seed_demo", "--quiet")
    if connection.vendor == "postgresql":
        # Statistics of the seeded rows (visible to this test's transaction), as a live database has them:
        # without, the planner takes the tables for empty and may nest loops over thousands of rows.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    clients = {}
    for username in USERS:
        token = Token.objects.create(user=User.objects.get(username=username))
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        clients[username] = client
    return clients


def _list_paths() -> list[str]:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    from profile_lists import list_paths  # type: ignore[import-not-found]

    return list_paths()  # type: ignore[no-any-return]


def test_every_list_answers_the_same_bytes_with_and_without_plans(demo):
    paths = _list_paths()
    queries = ["", "?page_size=200", "?ordering=-id", "?page=2&page_size=5", "?free=true"]
    differ = []
    for username, client in demo.items():
        for path in paths:
            for query in queries:
                for language in ("sv", "da"):
                    with override_settings(API_LIST_PLANS=False):
                        before = client.get(path + query, HTTP_ACCEPT_LANGUAGE=language)
                    after = client.get(path + query, HTTP_ACCEPT_LANGUAGE=language)
                    if (before.status_code, before.content) != (after.status_code, after.content):
                        differ.append(f"{username} {path}{query} {language}")
    assert differ == []


def _built(client: APIClient, path: str) -> Counter[str]:
    built: Counter[str] = Counter()

    def count(sender: Any, **kwargs: Any) -> None:
        built[sender._meta.label] += 1

    post_init.connect(count)
    try:
        assert client.get(path).status_code == 200
    finally:
        post_init.disconnect(count)
    return built


# The lists below 0.15x /healthz before their plans, and the load test's lists: each page is written from
# values, so it builds only what every API request builds (the token, its user and person, the actor's
# memberships), whatever its rows.
PLANNED = [
    "/api/v1/focusgroups/glossary/",
    "/api/v1/focusgroups/meetings/",
    "/api/v1/focusgroups/memberships/",
    "/api/v1/focusgroups/notes/",
    "/api/v1/organisations/",
    "/api/v1/people/",
    "/api/v1/seminars/completions/",
    "/api/v1/seminars/courses/",
    "/api/v1/seminars/enrolments/",
    "/api/v1/seminars/groups/",
    "/api/v1/seminars/quotas/",
    "/api/v1/seminars/rounds/",
    "/api/v1/seminars/waitlist/",
    "/api/v1/shadowing/matching-runs/",
    "/api/v1/shadowing/placements/",
    "/api/v1/shadowing/requests/",
    "/api/v1/shadowing/slots/?free=true",
    "/api/v1/shadowing/workplaces/",
    "/api/v1/units/",
]


def test_planned_lists_build_no_model_instance_for_their_rows(demo):
    client = demo["johan.bergstrom"]
    fixed = _built(client, "/api/v1/invitations/")

    built = {path: _built(client, path) for path in PLANNED}

    assert {path: dict(counts - fixed) for path, counts in built.items()} == {path: {} for path in PLANNED}
    assert {path: client.get(path).json()["count"] > 0 for path in PLANNED} == {
        path: True for path in PLANNED
    }


# --- A first page compiled once per request shape (``coordinator.core.shapes``) -----------------------------

# The lists that were below 0.15x /healthz before their shapes were compiled once.
SHAPED = [
    "/api/v1/people/",
    "/api/v1/shadowing/matching-runs/",
    "/api/v1/seminars/enrolments/",
    "/api/v1/shadowing/requests/",
    "/api/v1/shadowing/placements/",
    "/api/v1/seminars/courses/",
    "/api/v1/seminars/waitlist/",
    "/api/v1/seminars/groups/",
    "/api/v1/shadowing/workplaces/",
    "/api/v1/units/",
    "/api/v1/focusgroups/notes/",
    "/api/v1/organisations/",
    "/api/v1/seminars/quotas/",
]


NESTED_COMPILED = {
    "/api/v1/focusgroups/notes/",
    "/api/v1/people/",
    "/api/v1/shadowing/matching-runs/",
    "/api/v1/seminars/enrolments/",
    "/api/v1/seminars/waitlist/",
    "/api/v1/seminars/groups/",
}


def _queries_of(client: APIClient, path: str) -> list[tuple[str, bool]]:
    """The list without a filter, with each filter it accepts (a value of its first row, and a malformed
    one) and with each ordering it accepts, both ways; and whether its first page is read with its count
    in one query (a filter that makes the list DISTINCT is counted apart, and never compiled)."""
    view = resolve(path).func.cls  # type: ignore[attr-defined]
    unfiltered = client.get(path, HTTP_ACCEPT_LANGUAGE="en")  # (in neither language the test compares)
    if unfiltered.status_code != 200:
        return [("", False)]  # refused to this reader (the matching runs to a staff member)
    first = (unfiltered.json()["results"] or [{}])[0]
    queries = [("", True), ("?page_size=1", True), ("?page_size=200", True)]
    for name, filter_ in view.filterset_class.base_filters.items():
        value = first.get(name)
        if isinstance(value, bool):
            queries.append((f"?{name}={str(value).lower()}", not filter_.distinct))
        elif isinstance(value, (int, str)):
            queries.append((f"?{name}={value}", not filter_.distinct))
        queries.append((f"?{name}=x%25y", not filter_.distinct))
    for name in getattr(view, "ordering_fields", None) or []:
        queries += [(f"?ordering={name}", True), (f"?ordering=-{name}", True)]
    return queries


def test_shaped_lists_answer_the_same_bytes_from_their_compiled_shape_with_every_filter(demo):
    differ, unrecorded = [], []
    for username, client in demo.items():
        for path in SHAPED:
            for query, counted_beside in _queries_of(client, path):
                for language in ("sv", "da"):
                    with override_settings(API_LIST_SHAPES=False):  # leaving it drops every shape
                        before = client.get(path + query, HTTP_ACCEPT_LANGUAGE=language)
                    recording = client.get(path + query, HTTP_ACCEPT_LANGUAGE=language)
                    recorded = shapes.recorded()
                    compiled = client.get(path + query, HTTP_ACCEPT_LANGUAGE=language)
                    answers = {
                        (r.status_code, r["Content-Type"], r.content) for r in (before, recording, compiled)
                    }
                    if len(answers) != 1:
                        differ.append(f"{username} {path}{query} {language}")
                    if recorded != (1 if before.status_code == 200 and counted_beside else 0):
                        unrecorded.append(
                            f"{username} {path}{query} {language}: {before.status_code} {recorded}"
                        )
    assert differ == []
    assert unrecorded == []


@pytest.mark.parametrize("path", SHAPED)
def test_a_compiled_shape_reads_with_the_same_queries_as_the_first_request(
    demo, path, django_assert_num_queries, settings
):
    # The compiled shape alone: an answer kept in the cache reads less (``test_answers``).
    settings.API_ANSWER_CACHE = False
    client = demo["johan.bergstrom"]
    with CaptureQueriesContext(connection) as recording:
        first = client.get(path)
    recorded = shapes.recorded()
    with django_assert_num_queries(len(recording)):
        second = client.get(path)
    assert (second.status_code, second.content) == (first.status_code, first.content)
    # The page, and the people's memberships, the runs' placements, the queues of the bookings' rounds,
    # the groups' members or the reader's groups where notes may be edited, where the page has them.
    assert recorded == shapes.recorded() == 1
    assert shapes.recorded_queries() == (1 if path in NESTED_COMPILED else 0)


def test_an_ended_membership_and_a_removed_role_count_on_the_very_next_request(demo):
    client = demo["johan.bergstrom"]
    membership = Membership.unscoped_objects.get(person__user__username="johan.bergstrom")
    path = "/api/v1/shadowing/placements/"
    as_coordinator = [client.get(path).json() for _ in range(2)]

    RoleAssignment.unscoped_objects.filter(membership=membership, role=PlatformRole.COORDINATOR).delete()
    as_staff = client.get(path)
    with override_settings(API_LIST_SHAPES=False):
        as_staff_uncompiled = client.get(path)
    membership.is_active = False
    membership.save(update_fields=["is_active"])
    ended = client.get(path)

    assert as_coordinator[0] == as_coordinator[1]
    assert as_coordinator[0]["count"] == 7
    assert as_staff.status_code == 200
    assert as_staff.content == as_staff_uncompiled.content
    assert as_staff.json()["count"] == 0
    assert (ended.status_code, ended.json()["count"]) == (200, 0)


def test_a_list_whose_filter_matches_nothing_is_kept_empty_until_the_reader_gains_the_role(
    demo, django_assert_num_queries, settings
):
    # The invitations of a programme the reader does not administer: the filter is ``programme_id IN ()``.
    settings.API_ANSWER_CACHE = False
    client = demo["johan.bergstrom"]
    membership = Membership.unscoped_objects.get(person__user__username="johan.bergstrom")
    others = (
        Membership.unscoped_objects.filter(programme=membership.programme)
        .exclude(pk=membership.pk)
        .exclude(person__invitations__status=Invitation.Status.PENDING)
        .order_by("pk")
    )
    invited, expired = others[0], others[1]
    for member, token_hash, expires_in in ((invited, "f", 7), (expired, "e", -1)):
        Invitation.unscoped_objects.create(
            programme=membership.programme,
            person=member.person,
            token_hash=token_hash * 64,
            expires_at=timezone.now() + timedelta(days=expires_in),
        )
    path = "/api/v1/invitations/"
    with override_settings(API_LIST_SHAPES=False):
        uncompiled = client.get(path)
    recording = client.get(path)
    with django_assert_num_queries(1):  # the token's identity; the page without a query
        compiled = client.get(path)
    recorded = shapes.recorded()

    RoleAssignment.unscoped_objects.create(membership=membership, role=PlatformRole.PROGRAMME_ADMIN)
    as_admin = client.get(path)
    with override_settings(API_LIST_PLANS=False):
        as_admin_on_drfs_path = client.get(path)

    assert uncompiled.status_code == 200
    assert uncompiled.json() == {"count": 0, "next": None, "previous": None, "results": []}
    assert recording.content == compiled.content == uncompiled.content
    assert recorded == 1
    assert as_admin.status_code == 200
    assert as_admin.content == as_admin_on_drfs_path.content
    shown = {row["person"]: row["state"] for row in as_admin.json()["results"]}
    assert (shown[invited.person_id], shown[expired.person_id]) == ("pending", "expired")
    in_programme = Invitation.unscoped_objects.filter(programme=membership.programme)
    assert sorted(shown) == sorted(in_programme.values_list("person_id", flat=True))


def test_a_foreign_id_or_a_malformed_filter_or_page_is_refused_every_time(demo):
    client = demo["johan.bergstrom"]
    answers = {
        query: [client.get("/api/v1/shadowing/placements/" + query) for _ in range(2)]
        for query in ["?programme=999999", "?programme=abc", "?page_size=0", "?page=2", "?page=999"]
    }

    assert {query: [r.status_code for r in pair] for query, pair in answers.items()} == {
        "?programme=999999": [200, 200],
        "?programme=abc": [400, 400],
        "?page_size=0": [400, 400],
        "?page=2": [404, 404],
        "?page=999": [404, 404],
    }
    assert [r.json()["count"] for r in answers["?programme=999999"]] == [0, 0]
    assert shapes.recorded() == 1  # the foreign id's empty page only


def test_a_shape_whose_sql_depends_on_the_clock_is_not_recorded(programme, coordinator):
    def page_of(queryset: Any) -> list[Any]:
        return list(plan_for(CourseBrief).rows(queryset, {}).annotate(_rows_in_list=RowsInList())[0:50])

    with programme_scope([programme.pk]):
        CourseFactory(programme=programme)
        with shapes.recording(DEFAULT_DB_ALIAS) as timed:
            page_of(Course.objects.filter(created_at__lte=timezone.now()).order_by("pk"))
        with shapes.recording(DEFAULT_DB_ALIAS) as plain:
            page_of(Course.objects.order_by("pk"))
        with shapes.recording(DEFAULT_DB_ALIAS) as after_a_query:
            list(Course.objects.values_list("pk"))
            page_of(Course.objects.order_by("pk"))

    assert (timed.page, timed.refused) == (None, True)
    assert plain.page is not None and plain.page.sql.startswith("SELECT") and not plain.refused
    assert after_a_query.built_with_queries is True


def test_a_compiled_page_and_its_nested_rows_read_the_rows_of_each_request(demo):
    from shadowing.models import MatchingRun, Placement

    client = demo["johan.bergstrom"]
    path = "/api/v1/shadowing/matching-runs/"
    first = [client.get(path).json() for _ in range(2)]
    recorded = (shapes.recorded(), shapes.recorded_queries())
    shown = first[0]["results"][0]
    with programme_scope([shown["programme"]]):
        run = MatchingRun.objects.get(pk=shown["id"])
        proposal = Placement.objects.filter(run=run).order_by("pk").first()
        assert proposal is not None
        Placement.objects.filter(pk=proposal.pk).update(decline_reason="Moved to spring")
    changed = client.get(path)
    with override_settings(API_LIST_SHAPES=False):
        uncompiled = client.get(path)

    assert first[0] == first[1]
    assert recorded == (1, 1)  # the page of runs, and its runs' placements
    assert changed.content == uncompiled.content
    changed_run = changed.json()["results"][0]
    assert [p["decline_reason"] for p in changed_run["placements"] if p["id"] == proposal.pk] == [
        "Moved to spring"
    ]
    assert changed_run != first[0]["results"][0]


# --- The enrolments' visibility as a condition on the page's own rows --------------------------------------


@pytest.mark.parametrize(
    ("path", "statuses", "ordering"),
    [
        ("/api/v1/seminars/enrolments/", None, ("-requested_at", "-pk")),
        (
            "/api/v1/seminars/waitlist/",
            ["waiting", "offered"],
            ("round__starts_at", "round_id", "-priority", "requested_at", "pk"),
        ),
    ],
)
def test_enrolment_lists_show_what_the_reader_may_see_from_one_scan_of_the_enrolments(
    demo, path, statuses, ordering
):
    from organisations.permissions import actor_for
    from seminars.selectors.participation import enrolments_visible_to

    shown, expected, scans = {}, {}, {}
    for username, client in demo.items():
        with CaptureQueriesContext(connection) as queries:
            answer = client.get(path + "?page_size=200").json()
        shown[username] = (answer["count"], [row["id"] for row in answer["results"]])
        actor = actor_for(User.objects.get(username=username))
        with programme_scope(sorted(actor.programme_ids)):
            visible = enrolments_visible_to(actor, actor.programme_ids)
            if statuses is not None:
                visible = visible.filter(status__in=statuses)
            ids = list(visible.order_by(*ordering).values_list("pk", flat=True))
        expected[username] = (len(ids), ids[:200])
        [page] = [q["sql"] for q in queries.captured_queries if "LIMIT" in q["sql"]]
        # Not ``pk IN (SELECT ... FROM enrolments ...)``: a semi-join whose PostgreSQL plan depended on the
        # table's statistics (a nested loop over every pair of a programme's enrolments before ANALYZE).
        scans[username] = page.count('FROM "seminars_enrolment"')

    assert shown == expected
    assert shown["johan.bergstrom"][0] > 0 and shown["lars.pettersson"][0] > 0
    assert scans == {username: 1 for username in demo}


def test_compiled_queues_and_group_members_read_the_rows_of_each_request(demo):
    from seminars.models import DiscussionGroupMember, Enrolment

    client = demo["johan.bergstrom"]
    waitlist, groups = "/api/v1/seminars/waitlist/", "/api/v1/seminars/groups/"
    first = {path: [client.get(path).json() for _ in range(2)] for path in (waitlist, groups)}
    recorded = shapes.recorded_queries()
    queued = [row for row in first[waitlist][0]["results"] if row["queue_position"] == 2]
    group = next(row for row in first[groups][0]["results"] if row["members"])
    # Outside a request: no programme scope is active, the rows are those the lists showed.
    last = Enrolment.unscoped_objects.get(pk=queued[0]["id"])
    Enrolment.unscoped_objects.filter(pk=last.pk).update(priority=last.priority + 100)
    DiscussionGroupMember.unscoped_objects.filter(
        group_id=group["id"], enrolment_id=group["members"][0]["enrolment"]
    ).delete()
    changed = {path: client.get(path) for path in (waitlist, groups)}
    with override_settings(API_LIST_SHAPES=False):
        uncompiled = {path: client.get(path) for path in (waitlist, groups)}

    assert {path: answers[0] == answers[1] for path, answers in first.items()} == {
        waitlist: True,
        groups: True,
    }
    assert recorded == 2  # the queues of the waiting list's rounds, and the groups' members
    assert {path: changed[path].content == uncompiled[path].content for path in changed} == {
        waitlist: True,
        groups: True,
    }
    positions = {row["id"]: row["queue_position"] for row in changed[waitlist].json()["results"]}
    assert positions[last.pk] == 1
    [changed_group] = [row for row in changed[groups].json()["results"] if row["id"] == group["id"]]
    assert changed_group["members"] == group["members"][1:]
