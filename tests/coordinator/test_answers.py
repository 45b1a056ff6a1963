"""Lists' first pages answered from the cache (``coordinator.core.answers``): the same bytes as built anew,
every writer's change seen on the very next request, and no programme or reader served another's entry."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import F
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from coordinator.core import answers
from coordinator.core.models import AnswerStamp
from coordinator.core.release import release
from coordinator.core.tenancy import programme_scope
from organisations.models import Membership, Organisation, Person, Programme, RoleAssignment
from organisations.models import PlatformRole as R
from seminars.models import Course, Enrolment, Round
from seminars.services import courses
from shadowing.models import (
    AvailabilityWindow,
    Preference,
    ShadowingRequest,
    Slot,
    Topic,
    UnplacedReason,
    Workplace,
)
from tests.coordinator.test_list_plans import USERS, _queries_of, demo  # noqa: F401 - the fixture
from tests.factories import OrganisationFactory, WorkRoleFactory, make_member
from tests.factories.seminars import CourseFactory, RoundFactory
from tests.factories.shadowing import (
    SlotFactory,
    TopicFactory,
    WorkplaceFactory,
    future_weekday,
    make_request,
)
from tests.seminars.test_catalogue_cache import _Form

SLOTS = "/api/v1/shadowing/slots/"
COURSES = "/api/v1/seminars/courses/"
ROUNDS = "/api/v1/seminars/rounds/"
REQUESTS = "/api/v1/shadowing/requests/"
TO_DECIDE = f"{REQUESTS}?status=pending_approval&ordering=submitted_at"


@pytest.fixture
def api() -> Callable[[Person], APIClient]:
    """``api(person)``: a client with the person's API token, so that every request reads the user and
    their rights again, as in production (a forced user would keep its memberships between requests)."""

    def make(person: Person) -> APIClient:
        token, _created = Token.objects.get_or_create(user=person.user)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make


def fresh(client: Any, path: str) -> Any:
    """The answer built anew, without the cache."""
    with override_settings(API_ANSWER_CACHE=False):
        return client.get(path)


def statement(sql: str) -> str:
    """What a statement of a list request reads: the identity (the token with the person's memberships, and
    the stamps where it reads them), or the table of its outermost ``FROM`` (``(``: a derived table)."""
    if sql.startswith('SELECT "organisations_membership"."id"') and '"authtoken_token"."key" = ' in sql:
        return "identity with stamps" if '"coordinator_answerstamp"' in sql else "identity"
    return sql.split(" FROM ")[1].split()[0]


def kept(client: Any, path: str) -> Any:
    """The answer after it was kept: the second request is served from the entry (one query: the token with
    the memberships and the stamps; no list query)."""
    first = client.get(path)
    with CaptureQueriesContext(connection) as queries:
        second = client.get(path)
    assert (second.status_code, second.content) == (200, first.content)
    assert [statement(q["sql"]) for q in queries] == ["identity with stamps"]
    return second


def built(client: Any, path: str) -> Any:
    """The requests list, which is never kept: the second request reads the page again (the token with the
    memberships, then the page; no stamps), the same bytes as a list built without the cache."""
    first = client.get(path)
    with CaptureQueriesContext(connection) as queries:
        second = client.get(path)
    assert (second.status_code, second.content) == (200, first.content)
    assert [statement(q["sql"]) for q in queries] == [
        "identity",
        "(",  # the page, with its total beside each row, read from a derived table
    ]
    assert second.content == fresh(client, path).content
    return second


def read(client: Any, path: str) -> Any:
    """``kept`` for the lists that keep their answers, ``built`` for the requests."""
    return built(client, path) if path.startswith(REQUESTS) else kept(client, path)


def _sortable(response: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body; all but the request's own id (a new one on every request)."""
    headers = sorted((name, value) for name, value in response.items() if name != "X-Request-ID")
    return response.status_code, headers, response.content


@dataclass
class World:
    programme: Programme
    org_a: Organisation
    org_b: Organisation
    staff_a: Person
    staff_b: Person
    coordinator: Person
    manager: Person
    report: Person
    workplace: Workplace
    slot: Slot
    draft_slot: Slot
    course: Course
    round: Round
    draft_round: Round
    request: ShadowingRequest
    topics: tuple[Topic, Topic]
    roles: tuple[Any, Any]
    slots_path: str


@pytest.fixture
def world(programme: Programme) -> World:
    org_a = OrganisationFactory(name="Migrationsverket", programmes=[programme])
    org_b = OrganisationFactory(name="Malmö stad", programmes=[programme])
    staff_a = make_member(programme, org_a, R.STAFF)
    staff_b = make_member(programme, org_b, R.STAFF)
    coordinator = make_member(programme, org_b, R.COORDINATOR, R.STAFF)
    manager = make_member(programme, org_a, R.STAFF)
    report = make_member(programme, org_a, R.STAFF, line_manager=manager)
    workplace = WorkplaceFactory(programme=programme, organisation=org_b, contact=coordinator)
    draft = WorkplaceFactory(programme=programme, organisation=org_a, contact=staff_a, is_published=False)
    day = future_weekday()
    slot = SlotFactory(workplace=workplace, date=day, capacity=2)
    SlotFactory(workplace=workplace, date=day + datetime.timedelta(days=7), capacity=2)
    draft_slot = SlotFactory(workplace=draft, date=day, capacity=2)
    roles = (WorkRoleFactory(programme=programme, name="Handläggare"), WorkRoleFactory(programme=programme))
    course = CourseFactory(programme=programme, title="Bemötande", providers=[org_a, org_b])
    with programme_scope([programme.pk]):
        course.target_roles.set(roles)
    round_ = RoundFactory(course=course, label="Vår", capacity=5)
    draft_round = RoundFactory(course=course, label="Utkast", status=Round.Status.DRAFT)
    topics = (
        TopicFactory(programme=programme, name="Asyl"),
        TopicFactory(programme=programme, name="Boende"),
    )
    with programme_scope([programme.pk]):
        request = make_request(
            programme,
            report,
            status=ShadowingRequest.Status.PENDING_APPROVAL,
            topics=topics,
            preferences=[org_b],
        )
    slots_path = f"{SLOTS}?free=true&date_from={day.isoformat()}&date_to={(day + datetime.timedelta(days=7))}"
    return World(
        programme, org_a, org_b, staff_a, staff_b, coordinator, manager, report, workplace, slot, draft_slot,
        course, round_, draft_round, request, topics, roles, slots_path,
    )  # fmt: skip


# --- Every writer's change is seen on the next request --------------------------------------------------


def _raw(sql: str, *params: object) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))


def _slot_booked_by_update(w: World, api: Any, web: Any) -> None:
    Slot.unscoped_objects.filter(pk=w.slot.pk).update(booked=F("capacity"))


def _slot_noted_by_raw_sql(w: World, api: Any, web: Any) -> None:
    _raw("UPDATE shadowing_slot SET notes = %s WHERE id = %s", "Ta med legitimation.", w.slot.pk)


def _slot_added_by_bulk_create(w: World, api: Any, web: Any) -> None:
    Slot.unscoped_objects.bulk_create(
        [Slot(workplace=w.workplace, date=w.slot.date, starts_at=datetime.time(7), ends_at=datetime.time(8))]
    )


def _slot_changed_through_the_api(w: World, api: Any, web: Any) -> None:
    host = make_member(w.programme, w.org_b, R.HOST_CONTACT, R.STAFF)
    response = api(host).patch(f"{SLOTS}{w.slot.pk}/", {"capacity": 3}, format="json")
    assert response.status_code == 200


def _workplace_unpublished_by_update(w: World, api: Any, web: Any) -> None:
    Workplace.unscoped_objects.filter(pk=w.workplace.pk).update(is_published=False)


def _course_renamed_by_its_service(w: World, api: Any, web: Any) -> None:
    with programme_scope([w.programme.pk]):
        courses.course_update(actor=_actor(w.coordinator), course=w.course, values={"title": "Bemötande 2"})


def _actor(person: Person) -> Any:
    from organisations.permissions import actor_for

    return actor_for(person.user)


def _provider_added_to_the_relation(w: World, api: Any, web: Any) -> None:
    other = OrganisationFactory(name="Arbetsförmedlingen", programmes=[w.programme])
    with programme_scope([w.programme.pk]):
        w.course.providers.add(other)


def _provider_renamed_on_the_admin_site(w: World, api: Any, web: Any) -> None:
    admin = web(make_member(w.programme, w.org_b, R.PROGRAMME_ADMIN, R.STAFF))
    address = f"/admin/organisations/organisation/{w.org_b.pk}/change/"
    form = _Form()
    form.feed(admin.get(address).content.decode())
    form.data["name"] = "Östra Malmö stad"  # after Migrationsverket: the providers' order turns
    assert admin.post(address, form.data).status_code == 302


def _work_role_renamed_by_raw_sql(w: World, api: Any, web: Any) -> None:
    _raw("UPDATE organisations_workrole SET name = %s WHERE id = %s", "Öppen", w.roles[0].pk)


def _course_added_by_bulk_create(w: World, api: Any, web: Any) -> None:
    Course.unscoped_objects.bulk_create([Course(programme=w.programme, title="Arbetsrätt", language="sv")])


def _enrolled_through_the_api(w: World, api: Any, web: Any) -> None:
    response = api(w.staff_b).post("/api/v1/seminars/enrolments/", {"round": w.round.pk}, format="json")
    assert response.status_code == 201


def _queued_by_bulk_create(w: World, api: Any, web: Any) -> None:
    waiting = Enrolment(
        programme=w.programme,
        round=w.round,
        person=w.staff_b,
        organisation=w.org_b,
        status=Enrolment.Status.WAITING,
        requested_at=timezone.now(),
    )
    Enrolment.unscoped_objects.bulk_create([waiting])


def _course_title_by_update(w: World, api: Any, web: Any) -> None:
    Course.unscoped_objects.filter(pk=w.course.pk).update(title="Nytt namn")


def _round_label_by_raw_sql(w: World, api: Any, web: Any) -> None:
    _raw("UPDATE seminars_round SET label = %s WHERE id = %s", "Höst", w.round.pk)


def _seats_taken_by_update(w: World, api: Any, web: Any) -> None:
    Round.unscoped_objects.filter(pk=w.round.pk).update(seats_taken=F("seats_taken") + 2)


def _request_filed_through_the_api(w: World, api: Any, web: Any) -> None:
    today = timezone.localdate()
    window = {
        "starts_on": str(today + datetime.timedelta(days=3)),
        "ends_on": str(today + datetime.timedelta(40)),
    }
    body = {
        "programme": w.programme.pk,
        "learning_goals": "Se hur kommunen tar emot.",
        "days": 1,
        "windows": [window],
        "preferences": [{"rank": 1, "workplace": w.workplace.pk}],
    }
    response = api(w.report).post(REQUESTS, body, format="json")
    assert response.status_code == 201, response.content


def _request_approved_through_the_api(w: World, api: Any, web: Any) -> None:
    response = api(w.manager).post(f"{REQUESTS}{w.request.pk}/approve/", {"note": "Ja."}, format="json")
    assert response.status_code == 200, response.content


def _requester_renamed_by_update(w: World, api: Any, web: Any) -> None:
    User.objects.filter(pk=w.report.user_id).update(first_name="Annika")


def _line_manager_changed_by_update(w: World, api: Any, web: Any) -> None:
    Person.unscoped_objects.filter(pk=w.report.pk).update(line_manager=w.staff_a)


def _window_moved_by_raw_sql(w: World, api: Any, web: Any) -> None:
    _raw(
        "UPDATE shadowing_availabilitywindow SET ends_on = %s WHERE request_id = %s",
        timezone.localdate() + datetime.timedelta(days=100),
        w.request.pk,
    )


def _preference_added_by_bulk_create(w: World, api: Any, web: Any) -> None:
    preference = Preference(request=w.request, rank=2, workplace=w.workplace)
    Preference.unscoped_objects.bulk_create([preference])


def _topic_renamed_by_update(w: World, api: Any, web: Any) -> None:
    Topic.unscoped_objects.filter(pk=w.topics[0].pk).update(name="Ö")  # after Boende: the order turns


def _topic_removed_from_the_request(w: World, api: Any, web: Any) -> None:
    with programme_scope([w.programme.pk]):
        w.request.topics.remove(w.topics[1])


def _window_deleted(w: World, api: Any, web: Any) -> None:
    AvailabilityWindow.unscoped_objects.filter(request=w.request).delete()
    AvailabilityWindow.unscoped_objects.create(
        request=w.request,
        starts_on=timezone.localdate() + datetime.timedelta(days=2),
        ends_on=timezone.localdate() + datetime.timedelta(days=9),
    )


Write = Callable[[World, Any, Any], None]
WRITES: list[tuple[str, str, Write]] = [
    ("slots", "staff_a", _slot_booked_by_update),
    ("slots", "staff_a", _slot_noted_by_raw_sql),
    ("slots", "staff_a", _slot_added_by_bulk_create),
    ("slots", "staff_a", _slot_changed_through_the_api),
    ("slots", "staff_a", _workplace_unpublished_by_update),
    ("courses", "staff_a", _course_renamed_by_its_service),
    ("courses", "staff_a", _provider_added_to_the_relation),
    ("courses", "staff_a", _provider_renamed_on_the_admin_site),
    ("courses", "staff_a", _work_role_renamed_by_raw_sql),
    ("courses", "staff_a", _course_added_by_bulk_create),
    ("rounds", "staff_a", _enrolled_through_the_api),
    ("rounds", "staff_a", _queued_by_bulk_create),
    ("rounds", "staff_a", _course_title_by_update),
    ("rounds", "staff_a", _round_label_by_raw_sql),
    ("rounds", "staff_a", _seats_taken_by_update),
    ("requests", "manager", _request_filed_through_the_api),
    ("requests", "manager", _request_approved_through_the_api),
    ("requests", "manager", _requester_renamed_by_update),
    ("requests", "manager", _line_manager_changed_by_update),
    ("requests", "manager", _window_moved_by_raw_sql),
    ("requests", "manager", _preference_added_by_bulk_create),
    ("requests", "manager", _topic_renamed_by_update),
    ("requests", "manager", _topic_removed_from_the_request),
    ("requests", "manager", _window_deleted),
]


def _path(w: World, topic: str) -> str:
    return {"slots": w.slots_path, "courses": COURSES, "rounds": ROUNDS, "requests": TO_DECIDE}[topic]


@pytest.mark.parametrize(
    ("topic", "reader", "write"), WRITES, ids=[write.__name__[1:] for _t, _r, write in WRITES]
)
def test_a_change_by_any_writer_is_seen_on_the_next_request(world, api, web, topic, reader, write):
    client = api(getattr(world, reader))
    path = _path(world, topic)
    before = read(client, path)

    write(world, api, web)

    after = client.get(path)
    assert after.status_code == 200
    assert after.content == fresh(client, path).content
    assert after.content != before.content


def test_writes_of_requests_and_their_requesters_renew_no_answer_stamp(world, api):
    """Requests to decide are built on every request: no trigger renews a stamp for them (a stamp row
    written by every request filed in a programme was a hot row for concurrent writers)."""
    with programme_scope([world.programme.pk]):
        make_request(world.programme, world.report, status=ShadowingRequest.Status.PENDING_APPROVAL)
    client = api(world.manager)
    # The people list shows the requester's name: only its stamp is renewed by the rename.
    others = AnswerStamp.objects.exclude(topic="people")
    before_stamps = set(others.values_list("programme_id", "topic", "version"))
    people_before = AnswerStamp.objects.get(programme_id=world.programme.pk, topic="people").version
    before = client.get(TO_DECIDE)

    User.objects.filter(pk=world.report.user_id).update(first_name="Annika")
    with programme_scope([world.programme.pk]):
        ShadowingRequest.objects.filter(programme=world.programme).update(learning_goals="Changed")

    assert set(others.values_list("programme_id", "topic", "version")) == before_stamps
    assert AnswerStamp.objects.get(programme_id=world.programme.pk, topic="people").version != people_before
    assert not AnswerStamp.objects.filter(topic="requests").exists()
    after = client.get(TO_DECIDE)
    assert after.content != before.content
    assert [row["requester_name"].split()[0] for row in after.json()["results"]] == ["Annika", "Annika"]


def _rename_slot_notes_in_another_connection(slot_id: int) -> None:
    from django.db import connections

    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("UPDATE shadowing_slot SET booked = capacity WHERE id = %s", [slot_id])
    finally:
        connections.close_all()


@pytest.mark.django_db(transaction=True)
def test_a_change_committed_by_another_connection_is_seen_on_the_next_request(postgres_only, world, api):
    import threading

    client = api(world.staff_a)
    before = kept(client, world.slots_path)

    writer = threading.Thread(target=_rename_slot_notes_in_another_connection, args=(world.slot.pk,))
    writer.start()
    writer.join()

    after = client.get(world.slots_path)
    assert [row["id"] for row in before.json()["results"]][:1] == [world.slot.pk]
    assert world.slot.pk not in [row["id"] for row in after.json()["results"]]
    assert after.content == fresh(client, world.slots_path).content


# --- Narrow topics: a write drops only the lists it changes ---------------------------------------------


def test_an_enrolment_keeps_the_slots_and_courses_entries_and_a_visit_request_every_entry(world, api):
    client = api(world.staff_a)
    stamps_before = set(AnswerStamp.objects.values_list("programme_id", "topic", "version"))
    _enrolled_through_the_api(world, api, None)
    after_enrolment = set(AnswerStamp.objects.values_list("programme_id", "topic", "version"))
    _request_filed_through_the_api(world, api, None)
    after_request = set(AnswerStamp.objects.values_list("programme_id", "topic", "version"))

    pid = world.programme.pk
    assert {t for p, t, _v in after_enrolment - stamps_before if p == pid} == {"seats"}
    assert {t for p, t, _v in after_request - after_enrolment if p == pid} == set()
    # And the kept entries are served as they are (memberships and stamps only).
    for path in (world.slots_path, COURSES):
        kept(client, path)


# --- The same bytes, cached or not ----------------------------------------------------------------------

ANSWERED = [SLOTS, COURSES, ROUNDS, REQUESTS]
# The tables read by a request answered from its entry, and by one of the requests list (never kept).
SERVED = ["identity with stamps"]
BUILT = ["identity", "("]


def test_kept_answers_are_the_bytes_built_anew_for_every_filter_reader_and_language(demo):  # noqa: F811
    differ, unkept = [], []
    for username in USERS:
        client = demo[username]
        for path in ANSWERED:
            for query, _counted in _queries_of(client, path):
                for language in ("sv", "da"):
                    with override_settings(API_ANSWER_CACHE=False):
                        before = client.get(path + query, HTTP_ACCEPT_LANGUAGE=language)
                    building = client.get(path + query, HTTP_ACCEPT_LANGUAGE=language)
                    with CaptureQueriesContext(connection) as queries:
                        served = client.get(path + query, HTTP_ACCEPT_LANGUAGE=language)
                    if not _sortable(before) == _sortable(building) == _sortable(served):
                        differ.append(f"{username} {path}{query} {language}")
                    tables = [statement(q["sql"]) for q in queries]
                    expected = BUILT if path == REQUESTS else SERVED
                    if before.status_code == 200 and tables != expected:
                        unkept.append(f"{username} {path}{query} {language}: {tables}")
    assert differ == []
    assert unkept == []


def test_a_later_page_another_format_and_a_refusal_are_never_kept(world, api):
    client = api(world.staff_a)
    for path, status in (
        (f"{ROUNDS}?page=1", 200),
        (f"{ROUNDS}?format=api", 200),
        (f"{SLOTS}?date_from=x", 400),
    ):
        first = client.get(path)
        with CaptureQueriesContext(connection) as queries:
            second = client.get(path)
        stamps_read = any("coordinator_answerstamp" in q["sql"] for q in queries)
        assert (first.status_code, second.status_code) == (status, status)
        if "format=api" not in path:  # the browsable page holds a new form token each time
            assert second.content == first.content
        # Not answered from an entry: the list is read (or refused) again, stamps only where it may be kept.
        list_read = any(not statement(q["sql"]).startswith("identity") for q in queries)
        assert (list_read or status == 400, stamps_read) == (True, path.startswith(SLOTS))


# --- Query counts ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("topic", ["slots", "courses", "rounds"])
def test_a_kept_answer_reads_the_reader_and_the_stamps_only(
    world, api, topic, django_assert_num_queries, settings
):
    client = api(world.staff_a)
    path = _path(world, topic)
    with django_assert_num_queries(2):  # the token with its user, memberships and stamps; the page
        first = client.get(path)

    with django_assert_num_queries(1):  # the token with its user, memberships and stamps
        second = client.get(path)

    settings.API_ANSWER_CACHE = False
    with django_assert_num_queries(2) as off_queries:  # the token with the memberships, the page
        off = client.get(path)
    assert [statement(q["sql"]) for q in off_queries] == ["identity", "("]  # no stamps while it is off
    assert first.content == second.content == off.content
    assert first.json()["count"] >= 1


def test_a_new_release_never_meets_an_answer_kept_by_the_code_before(
    world, api, django_assert_num_queries, settings
):
    client = api(world.staff_a)
    path = _path(world, "slots")
    release.cache_clear()
    settings.RELEASE = "before"
    try:
        kept = client.get(path)
        with django_assert_num_queries(1):  # kept
            assert client.get(path).content == kept.content
        release.cache_clear()
        settings.RELEASE = "after"
        with django_assert_num_queries(2):  # built again: the page read
            rebuilt = client.get(path)
        with django_assert_num_queries(1):
            again = client.get(path)
    finally:
        release.cache_clear()
    assert rebuilt.content == again.content == kept.content


@pytest.mark.parametrize("waiting", [1, 3])
def test_requests_to_decide_are_built_on_every_request_without_stamps(
    world, api, waiting, django_assert_num_queries, settings
):
    with programme_scope([world.programme.pk]):
        for _ in range(waiting - 1):
            make_request(world.programme, world.report, status=ShadowingRequest.Status.PENDING_APPROVAL)
    client = api(world.manager)
    with django_assert_num_queries(2):  # the token with its user and memberships, the page
        first = client.get(TO_DECIDE)

    with django_assert_num_queries(2):  # the same again: nothing kept, no stamps read
        second = client.get(TO_DECIDE)

    settings.API_ANSWER_CACHE = False
    with django_assert_num_queries(2):
        off = client.get(TO_DECIDE)
    assert first.content == second.content == off.content
    assert first.json()["count"] == waiting


def test_stamps_of_one_programme_compile_once_and_read_the_database_each_time(
    world, other_programme, django_assert_num_queries, monkeypatch
):
    from django.db.models.sql.compiler import SQLCompiler

    programme = world.programme.pk
    answers.stamps([programme], ("slots", "courses"))  # this connection's first use compiles
    AnswerStamp.objects.update_or_create(programme_id=programme, topic="courses", defaults={"version": 41})
    AnswerStamp.objects.update_or_create(programme_id=programme, topic="rounds", defaults={"version": 42})
    AnswerStamp.objects.update_or_create(
        programme_id=other_programme.pk, topic="slots", defaults={"version": 43}
    )
    slots = AnswerStamp.objects.get(programme_id=programme, topic="slots").version
    compiled: list[str] = []
    compile_sql = SQLCompiler.as_sql

    def counted(self, *args, **kwargs):
        compiled.append(self.query.model._meta.label)
        return compile_sql(self, *args, **kwargs)

    monkeypatch.setattr(SQLCompiler, "as_sql", counted)

    with django_assert_num_queries(1):
        one = answers.stamps([programme], ("slots", "courses"))

    assert compiled == []
    assert one == ((programme, "courses", 41), (programme, "slots", slots))
    # Another programme's stamps and another topic's never come with them; a topic without a row is 0.
    assert answers.stamps([programme], ("unwritten",)) == ((programme, "unwritten", 0),)
    # A reader of two programmes reads both in one query, built as before.
    with django_assert_num_queries(1):
        both = answers.stamps([other_programme.pk, programme], ("slots",))
    assert both == tuple(sorted([(programme, "slots", slots), (other_programme.pk, "slots", 43)]))


# --- Isolation ------------------------------------------------------------------------------------------


def test_two_programmes_never_share_an_entry(world, api, other_programme, org_other):
    CourseFactory(programme=other_programme, title="Kursus i København", providers=[org_other])
    outsider = make_member(other_programme, org_other, R.STAFF)
    AnswerStamp.objects.all().delete()  # both at the same stamps, as before any change

    mine = kept(api(world.staff_a), COURSES).json()
    theirs = api(outsider).get(COURSES).json()

    assert [row["title"] for row in mine["results"]] == ["Bemötande"]
    assert [row["title"] for row in theirs["results"]] == ["Kursus i København"]


def test_readers_of_the_same_roles_but_another_organisation_never_share_a_slots_entry(world, api):
    own = kept(api(world.staff_a), world.slots_path).json()
    other = api(world.staff_b).get(world.slots_path).json()

    assert world.draft_slot.pk in [row["id"] for row in own["results"]]
    assert world.draft_slot.pk not in [row["id"] for row in other["results"]]
    assert other["count"] == own["count"] - 1


def test_a_removed_role_counts_on_the_very_next_request(world, api):
    client = api(world.coordinator)
    as_coordinator = kept(client, ROUNDS).json()
    assignment = RoleAssignment.unscoped_objects.filter(
        membership__person=world.coordinator, role=R.COORDINATOR
    )
    assignment.delete()

    as_staff = client.get(ROUNDS)

    assert [row["label"] for row in as_coordinator["results"]] == ["Vår", "Utkast"]
    assert [row["label"] for row in as_staff.json()["results"]] == ["Vår"]
    assert as_staff.content == fresh(client, ROUNDS).content


def test_an_ended_membership_counts_on_the_very_next_request(world, api):
    client = api(world.staff_a)
    kept(client, COURSES)
    Membership.unscoped_objects.filter(person=world.staff_a).update(is_active=False)

    ended = client.get(COURSES)

    assert (ended.status_code, ended.json()["count"]) == (200, 0)


@pytest.mark.parametrize("path", [COURSES, ROUNDS, TO_DECIDE])
def test_a_deactivated_account_answers_401_on_the_very_next_request(world, api, path):
    client = api(world.manager)
    read(client, path)
    User.objects.filter(pk=world.manager.user_id).update(is_active=False)

    refused = client.get(path)

    assert (refused.status_code, refused.json()) == (401, {"detail": "User inactive or deleted."})


def test_a_role_given_counts_on_the_very_next_request(world, api):
    client = api(world.staff_a)
    as_staff = kept(client, ROUNDS).json()
    membership = Membership.unscoped_objects.get(person=world.staff_a, programme=world.programme)
    RoleAssignment.unscoped_objects.create(membership=membership, role=R.COORDINATOR)

    as_coordinator = client.get(ROUNDS)

    assert [row["label"] for row in as_staff["results"]] == ["Vår"]
    assert [row["label"] for row in as_coordinator.json()["results"]] == ["Vår", "Utkast"]
    assert as_coordinator.content == fresh(client, ROUNDS).content


def test_an_archived_programme_counts_on_the_very_next_request(world, api, django_assert_num_queries):
    client = api(world.staff_b)
    kept(client, ROUNDS)
    Programme.unscoped_objects.filter(pk=world.programme.pk).update(archived_at=timezone.now())

    # The programme's row (read with the memberships) is part of the entry's key: read anew.
    with django_assert_num_queries(2):  # the token with memberships and stamps, the page
        after = client.get(ROUNDS)
    refused = client.post("/api/v1/seminars/enrolments/", {"round": world.round.pk}, format="json")

    assert after.status_code == 200
    assert refused.status_code == 409
    assert Enrolment.unscoped_objects.filter(person=world.staff_b).count() == 0


def test_a_member_of_two_programmes_reads_the_stamps_of_both_with_the_token(
    world, api, other_programme, org_other, django_assert_num_queries
):
    CourseFactory(programme=other_programme, title="Kursus i København", providers=[org_other])
    Membership.unscoped_objects.create(programme=other_programme, person=world.staff_a)
    outsider = make_member(other_programme, org_other, R.STAFF)
    both = api(world.staff_a)
    kept(both, COURSES)
    Course.unscoped_objects.filter(programme=other_programme).update(title="Kursus i Aarhus")

    with django_assert_num_queries(2):  # the other programme's stamp is new: the page is read again
        after = both.get(COURSES)
    with django_assert_num_queries(1):
        again = both.get(COURSES)

    assert sorted(row["title"] for row in after.json()["results"]) == ["Bemötande", "Kursus i Aarhus"]
    assert again.content == after.content == fresh(both, COURSES).content
    assert [row["title"] for row in kept(api(outsider), COURSES).json()["results"]] == ["Kursus i Aarhus"]
    assert [row["title"] for row in kept(api(world.staff_b), COURSES).json()["results"]] == ["Bemötande"]


def test_the_stamps_read_with_the_token_are_those_read_alone(world, api, other_programme, org_other):
    from organisations.permissions import token_identity

    Membership.unscoped_objects.create(programme=other_programme, person=world.staff_a)
    AnswerStamp.objects.update_or_create(
        programme_id=other_programme.pk, topic="rounds", defaults={"version": 7}
    )
    AnswerStamp.objects.filter(programme_id=other_programme.pk, topic="seats").delete()
    key = Token.objects.create(user=world.staff_a.user).key
    programmes = [world.programme.pk, other_programme.pk]

    user, _created = token_identity(key, ("rounds", "seats"))
    read = user._samverkan_actor.stamps
    found = read.of(programmes, ("seats", "rounds"))

    assert found == answers.stamps(programmes, ("rounds", "seats"))
    assert [row for row in found if row[0] == other_programme.pk] == [
        (other_programme.pk, "rounds", 7),
        (other_programme.pk, "seats", 0),
    ]
    # Other topics, or a programme whose stamps were not read, are read on their own.
    assert read.of(programmes, ("rounds",)) is None
    assert read.of([*programmes, -1], ("rounds", "seats")) is None


@pytest.mark.parametrize("path", [COURSES, ROUNDS, TO_DECIDE])
def test_a_revoked_token_answers_401_on_the_very_next_request(world, api, path):
    client = api(world.manager)
    read(client, path)
    Token.objects.filter(user=world.manager.user).delete()

    revoked = client.get(path)

    assert (revoked.status_code, revoked.json()) == (401, {"detail": "Invalid token."})


def test_requests_to_decide_are_never_served_to_another_reader(world, api):
    managers = built(api(world.manager), TO_DECIDE).json()
    colleague = make_member(world.programme, world.org_a, R.STAFF)  # the same rights, no reports

    theirs = api(colleague).get(TO_DECIDE).json()

    assert [row["id"] for row in managers["results"]] == [world.request.pk]
    assert theirs["count"] == 0


def test_two_languages_never_share_an_entry(world, api):
    ShadowingRequest.unscoped_objects.filter(pk=world.request.pk).update(
        unplaced_code=UnplacedReason.NO_SLOT_IN_WINDOW
    )
    client = api(world.manager)

    english = built(client, TO_DECIDE).json()["results"][0]["unplaced_reason"]
    swedish = client.get(TO_DECIDE, HTTP_ACCEPT_LANGUAGE="sv").json()["results"][0]["unplaced_reason"]

    assert english != swedish
    assert swedish == fresh_in(client, TO_DECIDE, "sv").json()["results"][0]["unplaced_reason"]


def fresh_in(client: Any, path: str, language: str) -> Any:
    with override_settings(API_ANSWER_CACHE=False):
        return client.get(path, HTTP_ACCEPT_LANGUAGE=language)


# --- The clock ------------------------------------------------------------------------------------------


def test_a_round_whose_registration_opens_is_shown_open_from_that_moment(world, api, monkeypatch):
    opens = timezone.now() + datetime.timedelta(hours=2)
    Round.unscoped_objects.filter(pk=world.round.pk).update(registration_opens_at=opens)
    client = api(world.staff_a)
    before = kept(client, ROUNDS).json()["results"][0]

    later = opens + datetime.timedelta(seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    after = client.get(ROUNDS)

    assert (before["registration_open"], after.json()["results"][0]["registration_open"]) == (False, True)
    assert after.content == fresh(client, ROUNDS).content


def test_next_moment_is_the_earliest_later_time_of_the_page():
    after = datetime.datetime(2026, 12, 5, 12, tzinfo=datetime.UTC)
    data = {
        "results": [
            {"opens": "2026-12-05T11:00:00+01:00", "closes": "2026-12-05T13:12:00+01:00"},
            {"opens": None, "closes": "2026-12-05T12:10:00Z"},
        ]
    }

    assert answers.next_moment(data, after, ("opens", "closes")) == datetime.datetime(
        2026, 12, 5, 12, 10, tzinfo=datetime.UTC
    )
    assert answers.next_moment({"results": []}, after, ("opens",)) == after + datetime.timedelta(minutes=15)
    assert answers.next_moment([], after, ("opens",)) == after


UNREACHABLE = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:9/0"}
}


def test_an_unreachable_cache_costs_speed_not_the_answer(world, api, settings):
    client = api(world.staff_a)
    expected = fresh(client, COURSES).content
    settings.CACHES = UNREACHABLE

    response = client.get(COURSES)

    assert (response.status_code, response.content) == (200, expected)
