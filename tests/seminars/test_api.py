from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from coordinator.core.models import Notification, OutboundEmail
from coordinator.core.tenancy import unscoped
from organisations.models import Person, PlatformRole
from organisations.permissions import forget_actor
from seminars.models import Attendance, Completion, Course, Enrolment, OrganisationQuota, Round, RoundCost
from tests.coordinator.test_prepared_writes import count_compilations
from tests.factories import FunderFactory
from tests.factories.seminars import (
    CompletionFactory,
    CourseFactory,
    QuotaFactory,
    RoundCostFactory,
    RoundFactory,
    SessionFactory,
    make_enrolment,
)
from tests.seminars.conftest import seats_consistent

R = PlatformRole
S = Enrolment.Status
API = "/api/v1/seminars"


def _rounds(course, n):
    rounds = []
    for i in range(n):
        round_ = RoundFactory(course=course, label=f"Omgång {i + 1}")
        SessionFactory(round=round_, starts_at=timezone.now() + timedelta(days=30 + i))
        rounds.append(round_)
    return rounds


@pytest.fixture
def past_round(course):
    round_ = RoundFactory(
        course=course,
        capacity=10,
        registration_opens_at=timezone.now() - timedelta(days=30),
        registration_closes_at=timezone.now() - timedelta(days=5),
        cancellation_deadline=timezone.now() - timedelta(days=5),
    )
    start = timezone.now() - timedelta(days=1, hours=3)
    SessionFactory(round=round_, starts_at=start, ends_at=start + timedelta(hours=7))
    return round_


# --- Outsiders ------------------------------------------------------------------------------------------

LIST_ENDPOINTS = [
    "courses",
    "rounds",
    "sessions",
    "quotas",
    "enrolments",
    "waitlist",
    "completions",
    "groups",
]


@pytest.mark.parametrize("endpoint", [*LIST_ENDPOINTS, "costs", "waitlist/demand", "costs/report"])
def test_anonymous_gets_401(api, db, endpoint):
    response = api(None).get(f"{API}/{endpoint}/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}


@pytest.mark.parametrize("endpoint", ["courses", "rounds", "sessions", "enrolments"])
def test_other_programmes_objects_answer_404_like_missing_ones(
    api, outsider, round_, session, staff_a, endpoint
):
    enrolment = make_enrolment(round_, staff_a)
    ids = {
        "courses": round_.course_id,
        "rounds": round_.pk,
        "sessions": session.pk,
        "enrolments": enrolment.pk,
    }

    foreign = api(outsider).get(f"{API}/{endpoint}/{ids[endpoint]}/")
    missing = api(outsider).get(f"{API}/{endpoint}/999999/")

    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()


@pytest.mark.parametrize("endpoint", LIST_ENDPOINTS)
def test_outsider_lists_are_empty(api, outsider, round_, session, staff_a, endpoint):
    make_enrolment(round_, staff_a)
    response = api(outsider).get(f"{API}/{endpoint}/")
    assert response.status_code == 200
    assert response.json()["count"] == 0


# --- Courses --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 3])
def test_course_list_query_count(api, programme, provider_org, staff_a, n, django_assert_num_queries):
    for i in range(n):
        CourseFactory(programme=programme, title=f"Kurs {i}", providers=[provider_org])
    client = api(staff_a)

    # The course list reads its providers, provider units, target roles and prerequisites in the page's own
    # query: the actor's memberships, the list's answer stamps (``coordinator.core.answers``) and the page.
    with django_assert_num_queries(3):
        response = client.get(f"{API}/courses/")

    assert response.status_code == 200
    assert response.json()["count"] == n


def test_course_create_by_coordinator(api, programme, provider_org, counsellor, course, coordinator):
    response = api(coordinator).post(
        f"{API}/courses/",
        {
            "programme": programme.pk,
            "title": "PTSD fördjupning",
            "providers": [provider_org.pk],
            "target_roles": [counsellor.pk],
            "prerequisites": [course.pk],
            "completion_rule": "assessment",
        },
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    created = Course.unscoped_objects.get(title="PTSD fördjupning")
    assert body == {
        "id": created.pk,
        "programme": programme.pk,
        "title": "PTSD fördjupning",
        "description": "",
        "providers": [provider_org.pk],
        "provider_units": [],
        "target_roles": [counsellor.pk],
        "prerequisites": [course.pk],
        "language": "sv",
        "completion_rule": "assessment",
        "attendance_required_percent": 100,
        "is_archived": False,
    }


def test_course_create_by_staff_is_forbidden(api, programme, provider_org, staff_a):
    response = api(staff_a).post(
        f"{API}/courses/",
        {"programme": programme.pk, "title": "X", "providers": [provider_org.pk]},
        format="json",
    )
    assert response.status_code == 403
    assert Course.unscoped_objects.count() == 0


def test_course_create_rejects_unknown_fields_and_foreign_ids(api, programme, org_other, coordinator):
    response = api(coordinator).post(
        f"{API}/courses/",
        {
            "programme": programme.pk,
            "title": "X",
            "providers": [org_other.pk],
            "owner": 1,
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"owner": ["Unknown field."]}
    response = api(coordinator).post(
        f"{API}/courses/",
        {"programme": programme.pk, "title": "X", "providers": [org_other.pk]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"providers": [f'Invalid pk "{org_other.pk}" - object does not exist.']}


def test_course_malformed_json_and_overlong_text_are_400(api, programme, provider_org, coordinator):
    client = api(coordinator)
    broken = client.post(f"{API}/courses/", data="{not json", content_type="application/json")
    too_long = client.post(
        f"{API}/courses/",
        {"programme": programme.pk, "title": "x" * 201, "providers": [provider_org.pk]},
        format="json",
    )

    assert broken.status_code == 400
    assert too_long.status_code == 400
    assert too_long.json() == {"title": ["Ensure this field has no more than 200 characters."]}


# --- Rounds and sessions --------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 3])
def test_round_list_query_count(api, course, staff_a, n, django_assert_num_queries):
    _rounds(course, n)
    client = api(staff_a)

    # The actor's memberships, the list's answer stamps (``coordinator.core.answers``) and the page.
    with django_assert_num_queries(3):
        response = client.get(f"{API}/rounds/")

    assert response.json()["count"] == n


def test_round_drafts_are_seen_by_coordinators_only(api, course, staff_a, coordinator):
    draft = RoundFactory(course=course, status=Round.Status.DRAFT)

    assert api(staff_a).get(f"{API}/rounds/{draft.pk}/").status_code == 404
    assert api(coordinator).get(f"{API}/rounds/{draft.pk}/").status_code == 200


def test_round_create_and_cancel(api, course, coordinator, staff_a):
    now = timezone.now()
    response = api(coordinator).post(
        f"{API}/rounds/",
        {
            "course": course.pk,
            "label": "Hösten",
            "capacity": 25,
            "status": "published",
            "registration_opens_at": now.isoformat(),
            "registration_closes_at": (now + timedelta(days=9)).isoformat(),
            "cancellation_deadline": (now + timedelta(days=10)).isoformat(),
        },
        format="json",
    )
    assert response.status_code == 201
    round_id = response.json()["id"]
    assert response.json()["seats_free"] == 25
    assert response.json()["registration_open"] is True

    forbidden = api(staff_a).post(f"{API}/rounds/{round_id}/cancel/", {}, format="json")
    cancelled = api(coordinator).post(
        f"{API}/rounds/{round_id}/cancel/", {"reason": "För få anmälda"}, format="json"
    )

    assert forbidden.status_code == 403
    assert cancelled.status_code == 200
    assert (cancelled.json()["status"], cancelled.json()["cancelled_reason"]) == (
        "cancelled",
        "För få anmälda",
    )


def test_round_create_with_registration_closing_before_opening_is_400(api, course, coordinator):
    now = timezone.now()
    response = api(coordinator).post(
        f"{API}/rounds/",
        {
            "course": course.pk,
            "label": "X",
            "capacity": 5,
            "registration_opens_at": now.isoformat(),
            "registration_closes_at": (now - timedelta(days=1)).isoformat(),
            "cancellation_deadline": now.isoformat(),
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"registration_closes_at": ["Registration must close after it opens."]}


@pytest.mark.parametrize("n", [1, 3])
def test_session_list_query_count(api, course, staff_a, n, django_assert_num_queries):
    _rounds(course, n)
    client = api(staff_a)

    with django_assert_num_queries(2):
        response = client.get(f"{API}/sessions/")

    assert response.json()["count"] == n


def test_session_patch_sends_updates(api, round_, session, staff_a, coordinator):
    make_enrolment(round_, staff_a)
    response = api(coordinator).patch(f"{API}/sessions/{session.pk}/", {"place": "Stadshuset"}, format="json")

    assert response.status_code == 200
    assert response.json()["place"] == "Stadshuset"
    assert list(
        OutboundEmail.unscoped_objects.filter(recipient=staff_a).values_list("ics_method", flat=True)
    ) == ["REQUEST"]


def test_session_patch_by_staff_is_forbidden(api, session, staff_a):
    response = api(staff_a).patch(f"{API}/sessions/{session.pk}/", {"place": "Hemma"}, format="json")
    assert response.status_code == 403


# --- Quotas ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 3])
def test_quota_list_query_count(api, programme, round_, staff_a, n, django_assert_num_queries):
    from tests.factories import OrganisationFactory

    for i in range(n):
        QuotaFactory(round=round_, organisation=OrganisationFactory(programmes=[programme], name=f"Org {i}"))
    client = api(staff_a)

    with django_assert_num_queries(2):
        response = client.get(f"{API}/quotas/")

    assert response.json()["count"] == n


def test_quota_create_by_coordinator_and_staff(api, round_, org_a, coordinator, staff_a):
    body = {"round": round_.pk, "organisation": org_a.pk, "reserved": 1, "maximum": 2}
    assert api(staff_a).post(f"{API}/quotas/", body, format="json").status_code == 403

    response = api(coordinator).post(f"{API}/quotas/", body, format="json")

    assert response.status_code == 201
    quota = OrganisationQuota.unscoped_objects.get()
    assert response.json() == {
        "id": quota.pk,
        "round": round_.pk,
        "organisation": org_a.pk,
        "organisation_name": "Migrationsverket",
        "reserved": 1,
        "maximum": 2,
    }


# --- Enrolments -----------------------------------------------------------------------------------------


def test_enrol_through_api(api, round_, session, staff_a):
    response = api(staff_a).post(f"{API}/enrolments/", {"round": round_.pk}, format="json")

    assert response.status_code == 201
    enrolment = Enrolment.unscoped_objects.get()
    body = response.json()
    assert body["id"] == enrolment.pk
    assert (body["status"], body["approval"], body["queue_position"]) == ("confirmed", "not_required", None)
    assert (body["person"], body["organisation_name"], body["course_title"]) == (
        staff_a.pk,
        "Migrationsverket",
        "PTSD – grundkurs",
    )


def test_enrol_in_full_round_reports_queue_position(api, round_, session, people_a):
    for person in people_a(3):
        make_enrolment(round_, person)
    (person,) = people_a(1)

    response = api(person).post(f"{API}/enrolments/", {"round": round_.pk}, format="json")

    assert response.status_code == 201
    assert (response.json()["status"], response.json()["queue_position"]) == ("waiting", 1)


def test_enrol_refusals_are_400_with_reasons(api, course, round_, session, staff_a, other_round):
    CompletionFactory(person=staff_a, course=course)
    client = api(staff_a)

    completed = client.post(f"{API}/enrolments/", {"round": round_.pk}, format="json")
    foreign = client.post(f"{API}/enrolments/", {"round": other_round.pk}, format="json")
    wrong_type = client.post(f"{API}/enrolments/", {"round": "första"}, format="json")
    draft = RoundFactory(course=course, status=Round.Status.DRAFT)
    hidden = client.post(f"{API}/enrolments/", {"round": draft.pk}, format="json")

    assert (completed.status_code, completed.json()) == (
        400,
        {"round": ["This course has already been completed."]},
    )
    assert (foreign.status_code, foreign.json()) == (
        400,
        {"round": [f'Invalid pk "{other_round.pk}" - object does not exist.']},
    )
    assert (wrong_type.status_code, wrong_type.json()) == (
        400,
        {"round": ["Incorrect type. Expected pk value, received str."]},
    )
    assert (hidden.status_code, hidden.json()) == (
        400,
        {"round": [f'Invalid pk "{draft.pk}" - object does not exist.']},
    )
    assert Enrolment.unscoped_objects.count() == 0


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"round": True}, {"round": ["Incorrect type. Expected pk value, received bool."]}),
        ({"round": [1]}, {"round": ["Incorrect type. Expected pk value, received list."]}),
        ({"round": {"id": 1}}, {"round": ["Incorrect type. Expected pk value, received dict."]}),
        ({"round": "12abc"}, {"round": ["Incorrect type. Expected pk value, received str."]}),
        ({"round": None}, {"round": ["This field may not be null."]}),
        ({}, {"round": ["This field is required."]}),
        (
            {"round": "9223372036854775808"},
            {"round": ['Invalid pk "9223372036854775808" - object does not exist.']},
        ),
        ({"round": -1}, {"round": ['Invalid pk "-1" - object does not exist.']}),
        ({"round": "ROUND", "seats": 2}, {"seats": ["Unknown field."]}),
        (
            {"round": "ROUND", "motivation": "x" * 1001},
            {"motivation": ["Ensure this field has no more than 1000 characters."]},
        ),
    ],
)
def test_enrol_bad_input_is_400_and_saves_nothing(api, round_, session, staff_a, body, expected):
    body = {key: round_.pk if value == "ROUND" else value for key, value in body.items()}
    client = api(staff_a)

    response = client.post(f"{API}/enrolments/", body, format="json")
    malformed = client.post(f"{API}/enrolments/", b'{"round": ', content_type="application/json")

    assert (response.status_code, response.json()) == (400, expected)
    assert malformed.status_code == 400
    assert malformed.json()["detail"].startswith("JSON parse error")
    assert Enrolment.unscoped_objects.count() == 0
    round_.refresh_from_db()
    assert round_.seats_taken == 0


def test_enrol_takes_a_round_id_written_as_a_string(api, round_, session, staff_a):
    response = api(staff_a).post(f"{API}/enrolments/", {"round": str(round_.pk)}, format="json")

    assert (response.status_code, response.json()["round"], response.json()["course_title"]) == (
        201,
        round_.pk,
        round_.course.title,
    )


@pytest.mark.parametrize(
    ("rule", "reason"),
    [
        ("not staff", "Only staff of the programme's organisations may enrol."),
        ("organisation not taking part", "The organisation does not take part in this programme."),
        ("closed round", "This round is not open for enrolment."),
        ("round over", "This round is over."),
        ("round started", "This round has already started."),
        ("registration not open", "Registration has not opened yet."),
        ("registration closed", "Registration has closed."),
        ("target roles only", "This round is only for the course's target roles."),
        ("prerequisites", "These courses must be completed first: Bemötande, PTSD – grundkurs."),
        ("completed", "This course has already been completed."),
        ("booked on another round", "There is already a booking on a round of this course."),
        ("booked on this round", "There is already a booking on a round of this course."),
    ],
)
def test_enrol_refuses_each_rule_with_its_reason_and_writes_nothing(
    api,
    programme,
    provider_org,
    course,
    round_,
    session,
    org_a,
    case_officer,
    counsellor,
    member,
    rule,
    reason,
):
    # Eligibility and the round's own state are read in two queries (before and inside the round's lock);
    # each rule still answers 400 with its own reason, and nothing is written.
    person = member(programme, org_a, R.STAFF, work_role=counsellor)
    target = round_
    now = timezone.now()
    if rule == "not staff":
        person = member(programme, org_a, R.HOST_CONTACT)
    elif rule == "organisation not taking part":
        from tests.factories import OrganisationFactory

        person = member(programme, OrganisationFactory(name="Kommunen"), R.STAFF)
    elif rule == "closed round":
        Round.unscoped_objects.filter(pk=round_.pk).update(status=Round.Status.CANCELLED)
    elif rule == "round over":
        Round.unscoped_objects.filter(pk=round_.pk).update(
            starts_at=now - timedelta(days=3), ends_at=now - timedelta(days=3) + timedelta(hours=7)
        )
    elif rule == "round started":
        Round.unscoped_objects.filter(pk=round_.pk).update(
            starts_at=now - timedelta(hours=2), ends_at=now + timedelta(hours=5)
        )
    elif rule == "registration not open":
        Round.unscoped_objects.filter(pk=round_.pk).update(registration_opens_at=now + timedelta(days=1))
    elif rule == "registration closed":
        Round.unscoped_objects.filter(pk=round_.pk).update(registration_closes_at=now - timedelta(days=1))
    elif rule == "target roles only":
        with unscoped():
            course.target_roles.set([case_officer])
        Round.unscoped_objects.filter(pk=round_.pk).update(target_role_mode=Round.TargetRoleMode.EXCLUSIVE)
    elif rule == "prerequisites":
        basics = CourseFactory(programme=programme, title="Bemötande", providers=[provider_org])
        advanced = CourseFactory(
            programme=programme,
            title="PTSD fördjupning",
            providers=[provider_org],
            prerequisites=[course, basics],
        )
        target = RoundFactory(course=advanced)
        SessionFactory(round=target)
    elif rule == "completed":
        CompletionFactory(person=person, course=course)
    elif rule == "booked on another round":
        other = RoundFactory(course=course, label="Omgång 2")
        SessionFactory(round=other)
        make_enrolment(other, person, status=S.WAITING)
    elif rule == "booked on this round":
        make_enrolment(round_, person)
    before = sorted(Enrolment.unscoped_objects.values_list("pk", "status"))

    response = api(person).post(f"{API}/enrolments/", {"round": target.pk}, format="json")

    assert (response.status_code, response.json()) == (400, {"round": [reason]})
    assert sorted(Enrolment.unscoped_objects.values_list("pk", "status")) == before
    target.refresh_from_db()
    assert target.seats_taken == (1 if rule == "booked on this round" else 0)


def test_enrol_beyond_the_organisations_quota_queues_and_reserved_seats_stay_free(
    api, round_, session, org_a, org_b, people_a, people_b
):
    # capacity 3: organisation A at most 1, organisation B has 1 reserved.
    QuotaFactory(round=round_, organisation=org_a, reserved=0, maximum=1)
    QuotaFactory(round=round_, organisation=org_b, reserved=1, maximum=None)
    first, second, third = people_a(3)
    (b_person,) = people_b(1)

    answers = [
        api(person).post(f"{API}/enrolments/", {"round": round_.pk}, format="json").json()
        for person in (first, second, b_person, third)
    ]

    assert [(a["status"], a["queue_position"]) for a in answers] == [
        ("confirmed", None),
        ("waiting", 1),
        ("confirmed", None),
        ("waiting", 2),
    ]
    round_.refresh_from_db()
    assert round_.seats_taken == 2


@pytest.mark.parametrize("queue", [False, True])
def test_enrol_sweeps_a_lapsed_offer_of_the_round_first(api, round_, session, people_a, queue):
    # The round's lapsed offers are swept inside its lock before the seats are counted: the lapsed seat goes
    # to the queue first, else to the newcomer.
    first, second, lapsed, newcomer = people_a(4)
    make_enrolment(round_, first)
    make_enrolment(round_, second)
    offered = make_enrolment(
        round_, lapsed, status=S.OFFERED, hold_expires_at=timezone.now() - timedelta(minutes=1)
    )
    waiting = make_enrolment(round_, people_a(1)[0], status=S.WAITING) if queue else None

    response = api(newcomer).post(f"{API}/enrolments/", {"round": round_.pk}, format="json")

    offered.refresh_from_db()
    assert (offered.status, offered.end_reason) == (S.EXPIRED, Enrolment.EndReason.OFFER_EXPIRED)
    assert list(Notification.unscoped_objects.filter(recipient=lapsed).values_list("title", flat=True)) == [
        "The seat offered to you on PTSD – grundkurs (Omgång 1) has passed to the next person"
    ]
    if queue:
        waiting.refresh_from_db()
        assert waiting.status == S.OFFERED
        assert (response.json()["status"], response.json()["queue_position"]) == ("waiting", 1)
    else:
        assert (response.json()["status"], response.json()["queue_position"]) == ("confirmed", None)
    assert seats_consistent(round_)


def test_enrol_someone_else_needs_coordinator(api, round_, session, staff_a, staff_b, coordinator):
    forbidden = api(staff_a).post(
        f"{API}/enrolments/", {"round": round_.pk, "person": staff_b.pk}, format="json"
    )
    allowed = api(coordinator).post(
        f"{API}/enrolments/", {"round": round_.pk, "person": staff_b.pk}, format="json"
    )

    assert forbidden.status_code == 403
    assert allowed.status_code == 201
    assert allowed.json()["person"] == staff_b.pk


def _two_sessions(round_, session):
    return SessionFactory(
        round=round_,
        title="Dag 2",
        starts_at=session.starts_at + timedelta(days=1),
        ends_at=session.ends_at + timedelta(days=1),
    )


@pytest.fixture
def compilations(monkeypatch):
    return count_compilations(monkeypatch)


def test_enrol_compiles_nothing_the_second_time(api, round_, session, people_a, compilations):
    # The round, the booking, its audit entry and the entry's filing under its programme, and the seat
    # counter are SQL written once per connection: a second enrolment compiles no query.
    first, second = people_a(2)
    assert api(first).post(f"{API}/enrolments/", {"round": round_.pk}, format="json").status_code == 201
    client = api(second)
    client.get(f"{API}/courses/")
    compilations.clear()

    response = client.post(f"{API}/enrolments/", {"round": round_.pk}, format="json")

    assert (response.status_code, compilations) == (201, [])


def test_enrol_query_count(api, round_, session, staff_a, django_assert_num_queries):
    from django.contrib.contenttypes.models import ContentType

    _two_sessions(round_, session)
    client = api(staff_a)
    client.get(f"{API}/courses/")
    ContentType.objects.get_for_model(Enrolment)  # cached in a running server

    # The round with its course and programme; the service's savepoint and its release; the course's
    # target roles and prerequisites with taking part, completions and bookings of the course (eligibility,
    # one query); the round locked; a booking on it, the quotas, the seats held, whether a session is ahead
    # and whether offers lapsed (one query; none lapsed, so nothing is swept); the archive check, the insert
    # (no savepoint of its own: a conflict ends the service's block) and the audit trail (entry, its
    # programme); the seat counter. The answer is written from the rows in hand; the invites are the
    # queue's (after the commit).
    with django_assert_num_queries(11):
        response = client.post(f"{API}/enrolments/", {"round": round_.pk}, format="json")

    assert (response.status_code, response.json()["status"]) == (201, "confirmed")


@pytest.mark.parametrize("outcome", ["confirmed", "waiting", "pending_approval", "on_behalf"])
def test_enrol_answers_what_the_following_read_shows_byte_for_byte(
    api, course, round_, session, staff_a, manager, coordinator, people_a, people_b, outcome
):
    # The answer is written from the rows the enrolment holds, not read back: it must be the booking as a
    # read shows it, in every outcome (a seat, a queue place with its position, a held seat, a
    # coordinator's enrolment of someone else).
    if outcome == "waiting":
        for person in people_b(3):
            make_enrolment(round_, person)
        make_enrolment(round_, people_b(1)[0], status=S.WAITING)
    if outcome == "pending_approval":
        round_ = RoundFactory(course=course, requires_manager_approval=True, label="Omgång 2")
        SessionFactory(round=round_)
        [staff_a] = people_a(1, line_manager=manager)
    by = coordinator if outcome == "on_behalf" else staff_a
    body = {"round": round_.pk, "motivation": "Vill lära mig mer."}
    if outcome == "on_behalf":
        body["person"] = staff_a.pk
    client = api(by)

    response = client.post(f"{API}/enrolments/", body, format="json")
    forget_actor(by.user)
    read = client.get(f"{API}/enrolments/{response.json()['id']}/")

    expected_status = {"waiting": "waiting", "pending_approval": "pending_approval"}.get(outcome, "confirmed")
    assert (response.status_code, read.status_code, response.json()["status"]) == (201, 200, expected_status)
    assert response.json()["queue_position"] == (2 if outcome == "waiting" else None)
    assert response.content == read.content


def test_enrol_invites_are_sent_by_the_queue_after_the_commit_and_only_once(
    api, round_, session, staff_a, database_queue, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    from seminars.services.enrolments import booking_invites

    second = _two_sessions(round_, session)

    with django_capture_on_commit_callbacks(execute=True):
        response = api(staff_a).post(f"{API}/enrolments/", {"round": round_.pk}, format="json")
    enrolment = Enrolment.unscoped_objects.get()
    answered = OutboundEmail.unscoped_objects.exclude(ics_method="").count()
    queued = sorted(DBTaskResult.objects.values_list("task_path", flat=True))
    database_queue()
    again = booking_invites.call(round_.pk, [staff_a.pk])

    assert (response.status_code, response.json()["id"], response.json()["status"]) == (
        201,
        enrolment.pk,
        "confirmed",
    )
    assert answered == 0  # the request wrote the booking; the invites were the queue's
    assert queued == ["seminars.services.enrolments.booking_invites"]
    invites = OutboundEmail.unscoped_objects.filter(recipient=staff_a).exclude(ics_method="").order_by("pk")
    assert [(row.ics_method, row.to_address) for row in invites] == [("REQUEST", staff_a.user.email)] * 2
    assert [
        row.ics_content.count(f"UID:seminar-session-{each.pk}-{staff_a.pk}@")
        for row, each in zip(invites, (session, second), strict=True)
    ] == [1, 1]
    assert again == 0  # a second run (a worker that died after the commit) finds the calendars in step
    assert OutboundEmail.unscoped_objects.exclude(ics_method="").count() == 2
    # Invites follow, so no separate notice of the seat: only the two invites' notifications.
    assert Notification.unscoped_objects.filter(recipient=staff_a).count() == 2


def test_booking_invites_the_database_failed_are_tried_again_after_the_back_off(
    api, round_, session, staff_a, database_queue, settings
):
    from django.db import OperationalError, connection
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from seminars.services.enrolments import booking_invites

    # The booking queues its invites' task in its own transaction; here the task is called by hand.
    booked = api(staff_a).post(f"{API}/enrolments/", {"round": round_.pk}, format="json")
    assert list(DBTaskResult.objects.values_list("args_kwargs", flat=True)) == [
        {"args": [round_.pk, [staff_a.pk]], "kwargs": {}}
    ]
    DBTaskResult.objects.all().delete()
    queries: list[str] = []

    def fails_once(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        queries.append(sql)
        if len(queries) == 2:  # the task's second query: the round's lock, say, given up on
            raise OperationalError("canceling statement due to lock timeout")
        return execute(sql, params, many, context)

    before = timezone.now()
    with connection.execute_wrapper(fails_once):
        sent = booking_invites.call(round_.pk, [staff_a.pk])

    retry = DBTaskResult.objects.get(task_path="seminars.services.enrolments.booking_invites")
    assert (booked.status_code, sent) == (201, 0)
    assert OutboundEmail.unscoped_objects.exclude(ics_method="").count() == 0
    assert retry.status == TaskResultStatus.READY
    assert retry.args_kwargs == {"args": [round_.pk, [staff_a.pk]], "kwargs": {"attempt": 1}}
    assert before + timedelta(seconds=9) <= retry.run_after <= timezone.now() + timedelta(seconds=11)

    # The next attempt, once the database is back, sends the invite.
    assert booking_invites.call(round_.pk, [staff_a.pk], attempt=1) == 1
    invite = OutboundEmail.unscoped_objects.exclude(ics_method="").get()
    assert (invite.ics_method, invite.to_address) == ("REQUEST", staff_a.user.email)

    # The last attempt is not put off again: the failure is raised and the task recorded as failed.
    settings.TASKS_MAX_ATTEMPTS = 2
    queries.clear()
    with connection.execute_wrapper(fails_once), pytest.raises(OperationalError):
        booking_invites.call(round_.pk, [staff_a.pk], attempt=1)
    assert DBTaskResult.objects.count() == 1


def test_enrol_on_a_round_without_sessions_tells_of_the_seat_and_sends_no_invite(
    api, round_, staff_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api(staff_a).post(f"{API}/enrolments/", {"round": round_.pk}, format="json")

    assert (response.status_code, response.json()["status"]) == (201, "confirmed")
    assert OutboundEmail.unscoped_objects.exclude(ics_method="").count() == 0
    assert list(Notification.unscoped_objects.filter(recipient=staff_a).values_list("title", flat=True)) == [
        "You have a seat on PTSD – grundkurs (Omgång 1)"
    ]


@pytest.mark.parametrize("n", [1, 3])
def test_enrolment_list_query_count(api, course, staff_a, n, django_assert_num_queries):
    for round_ in _rounds(course, n):
        make_enrolment(round_, staff_a, status=S.WAITING)
    client = api(staff_a)

    with django_assert_num_queries(3):
        response = client.get(f"{API}/enrolments/")

    assert response.json()["count"] == n
    assert [row["queue_position"] for row in response.json()["results"]] == [1] * n


@pytest.mark.parametrize("path", ["enrolments", "waitlist"])
def test_enrolment_lists_read_only_the_tables_and_columns_they_show(api, round_, staff_a, path):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_enrolment(round_, staff_a, status=S.WAITING)
    client = api(staff_a)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"{API}/{path}/")

    (page,) = [query["sql"] for query in queries.captured_queries if "OVER ()" in query["sql"]]
    outer = page.split(" WHERE ")[0]  # the page's own joins, before the visibility subquery
    assert outer.count(" JOIN ") == 5  # round, course, person, user, organisation
    assert ('"approval_decided_at"' in outer, '"description"' in outer, '"phone"' in outer) == (
        False,
        False,
        False,
    )
    assert [
        (row["course_title"], row["round_label"], row["organisation_name"])
        for row in response.json()["results"]
    ] == [("PTSD – grundkurs", "Omgång 1", "Migrationsverket")]


def test_enrolments_of_colleagues_are_not_listed_but_line_managers_and_coordinators_see_them(
    api, round_, session, staff_a, staff_b, manager, coordinator, people_a
):
    (report,) = people_a(1, line_manager=manager)
    for person in (staff_a, staff_b, report):
        make_enrolment(round_, person)

    def people_seen(person):
        return sorted(row["person"] for row in api(person).get(f"{API}/enrolments/").json()["results"])

    assert people_seen(staff_b) == [staff_b.pk]
    assert people_seen(manager) == [report.pk]
    assert people_seen(coordinator) == sorted([staff_a.pk, staff_b.pk, report.pk])


def test_cancel_accept_and_decline_through_api(api, round_, session, people_a):
    holders = people_a(3)
    seats = [make_enrolment(round_, p) for p in holders]
    first, second = people_a(2)
    api(first).post(f"{API}/enrolments/", {"round": round_.pk}, format="json")
    api(second).post(f"{API}/enrolments/", {"round": round_.pk}, format="json")
    offered, nxt = Enrolment.unscoped_objects.filter(status=S.WAITING).order_by("pk")

    cancelled = api(holders[0]).post(f"{API}/enrolments/{seats[0].pk}/cancel/")
    declined = api(first).post(f"{API}/enrolments/{offered.pk}/decline-offer/")
    not_yours = api(first).post(f"{API}/enrolments/{nxt.pk}/accept-offer/")
    accepted = api(second).post(f"{API}/enrolments/{nxt.pk}/accept-offer/")

    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    assert (declined.status_code, declined.json()["status"]) == (200, "declined")
    assert not_yours.status_code == 404
    assert (accepted.status_code, accepted.json()["status"]) == (200, "confirmed")


def test_accept_without_offer_is_400(api, round_, session, staff_a):
    enrolment = make_enrolment(round_, staff_a)
    response = api(staff_a).post(f"{API}/enrolments/{enrolment.pk}/accept-offer/")
    assert (response.status_code, response.json()) == (
        400,
        {"non_field_errors": ["There is no open offer on this booking."]},
    )


def test_cancel_of_a_booking_that_ended_meanwhile_is_409(api, round_, session, staff_a):
    enrolment = make_enrolment(round_, staff_a, status=S.WAITING)
    first = api(staff_a).post(f"{API}/enrolments/{enrolment.pk}/cancel/")

    again = api(staff_a).post(f"{API}/enrolments/{enrolment.pk}/cancel/")

    assert (first.status_code, first.json()["status"]) == (200, "cancelled")
    assert (again.status_code, again.json()) == (409, ["This booking has already ended."])


def test_approve_and_reject_through_api(api, course, people_a, manager, staff_b):
    round_ = RoundFactory(course=course, requires_manager_approval=True)
    SessionFactory(round=round_)
    first, second = people_a(2, line_manager=manager)
    one = make_enrolment(round_, first, status=S.PENDING_APPROVAL, approval=Enrolment.Approval.PENDING)
    two = make_enrolment(round_, second, status=S.PENDING_APPROVAL, approval=Enrolment.Approval.PENDING)

    outsider = api(staff_b).post(f"{API}/enrolments/{one.pk}/approve/")
    approved = api(manager).post(f"{API}/enrolments/{one.pk}/approve/")
    rejected = api(manager).post(f"{API}/enrolments/{two.pk}/reject/", {"reason": "Inte nu"}, format="json")
    again = api(manager).post(f"{API}/enrolments/{one.pk}/approve/")

    assert outsider.status_code == 404
    assert (approved.status_code, approved.json()["status"], approved.json()["approval"]) == (
        200,
        "confirmed",
        "approved",
    )
    assert (rejected.status_code, rejected.json()["status"]) == (200, "rejected")
    assert (again.status_code, again.json()) == (
        400,
        {"non_field_errors": ["This request has already been decided or has ended."]},
    )


def test_mark_attendance_through_api(api, past_round, staff_a, provider):
    enrolment = make_enrolment(past_round, staff_a)
    session = past_round.sessions.model.unscoped_objects.get(round=past_round)

    by_staff = api(staff_a).post(
        f"{API}/enrolments/{enrolment.pk}/attendance/",
        {"session": session.pk, "present": True},
        format="json",
    )
    by_provider = api(provider).post(
        f"{API}/enrolments/{enrolment.pk}/attendance/",
        {"session": session.pk, "present": True},
        format="json",
    )
    bad = api(provider).post(
        f"{API}/enrolments/{enrolment.pk}/attendance/",
        {"session": session.pk, "present": "kanske"},
        format="json",
    )

    assert by_staff.status_code == 403
    assert (by_provider.status_code, by_provider.json()) == (
        200,
        {"enrolment": enrolment.pk, "session": session.pk, "present": True},
    )
    assert (bad.status_code, bad.json()) == (400, {"present": ["Must be a valid boolean."]})
    assert Attendance.unscoped_objects.get().present is True


# --- Waiting list and demand ----------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 3])
def test_waitlist_query_count_and_positions(
    api, round_, session, people_a, coordinator, n, django_assert_num_queries
):
    for person in people_a(3):
        make_enrolment(round_, person)
    for person in people_a(n):
        make_enrolment(round_, person, status=S.WAITING)
    client = api(coordinator)

    with django_assert_num_queries(3):
        response = client.get(f"{API}/waitlist/")

    assert [row["queue_position"] for row in response.json()["results"]] == list(range(1, n + 1))


def test_demand_for_coordinators_only(api, round_, session, people_a, coordinator, staff_a):
    for person in people_a(3):
        make_enrolment(round_, person)
    for person in people_a(2):
        make_enrolment(round_, person, status=S.WAITING)

    forbidden = api(staff_a).get(f"{API}/waitlist/demand/")
    response = api(coordinator).get(f"{API}/waitlist/demand/")

    assert forbidden.status_code == 403
    assert response.status_code == 200
    assert response.json() == [
        {
            "course": round_.course_id,
            "course_title": "PTSD – grundkurs",
            "waiting": 2,
            "offered": 0,
            "target_role_waiting": 0,
            "free_seats": 0,
            "upcoming_rounds": 1,
            "unmet": 2,
            "needs_round": True,
            "suggested_rounds": 1,
            "by_organisation": [{"organisation": "Migrationsverket", "waiting": 2}],
        }
    ]


# --- Completions and groups -----------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 3])
def test_completion_list_query_count(api, programme, provider_org, staff_a, n, django_assert_num_queries):
    for i in range(n):
        CompletionFactory(
            person=staff_a, course=CourseFactory(programme=programme, providers=[provider_org], title=f"K{i}")
        )
    client = api(staff_a)

    with django_assert_num_queries(2):
        response = client.get(f"{API}/completions/")

    assert response.json()["count"] == n


def test_record_assessment_and_revoke(api, course, past_round, staff_a, staff_b, provider):
    Course.unscoped_objects.filter(pk=course.pk).update(completion_rule=Course.CompletionRule.ASSESSMENT)
    enrolment = make_enrolment(past_round, staff_a)

    by_staff = api(staff_b).post(f"{API}/completions/", {"enrolment": enrolment.pk}, format="json")
    created = api(provider).post(
        f"{API}/completions/", {"enrolment": enrolment.pk, "note": "Bra"}, format="json"
    )
    completion = Completion.unscoped_objects.get()
    removed_by_staff = api(staff_a).delete(f"{API}/completions/{completion.pk}/")
    removed = api(provider).delete(f"{API}/completions/{completion.pk}/")

    assert by_staff.status_code == 400  # staff_b cannot see staff_a's booking: it does not exist for them
    assert created.status_code == 201
    assert (created.json()["method"], created.json()["note"], created.json()["person"]) == (
        "assessment",
        "Bra",
        staff_a.pk,
    )
    assert removed_by_staff.status_code == 403
    assert removed.status_code == 204
    assert Completion.unscoped_objects.count() == 0


def test_record_completions_action(api, past_round, staff_a, provider):
    enrolment = make_enrolment(past_round, staff_a)
    session = past_round.sessions.model.unscoped_objects.get(round=past_round)
    Attendance.unscoped_objects.create(enrolment=enrolment, session=session, present=True)

    response = api(provider).post(f"{API}/rounds/{past_round.pk}/record-completions/")

    assert response.status_code == 200
    assert [row["person"] for row in response.json()["recorded"]] == [staff_a.pk]


@pytest.mark.parametrize("n", [1, 3])
def test_group_list_query_count(
    api, round_, session, people_a, people_b, coordinator, n, django_assert_num_queries
):
    Round.unscoped_objects.filter(pk=round_.pk).update(capacity=12)
    for person in people_a(n) + people_b(n):
        make_enrolment(round_, person)
    assert (
        api(coordinator)
        .post(f"{API}/rounds/{round_.pk}/form-groups/", {"group_size": 2}, format="json")
        .status_code
        == 201
    )
    forget_actor(coordinator.user)  # measure a request that starts from scratch
    client = api(coordinator)

    with django_assert_num_queries(3):
        response = client.get(f"{API}/groups/")

    assert response.json()["count"] == n
    assert all(len({m["organisation"] for m in g["members"]}) == 2 for g in response.json()["results"])


def test_group_list_reads_only_the_member_columns_it_shows(api, round_, people_a, people_b, coordinator):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    Round.unscoped_objects.filter(pk=round_.pk).update(capacity=12)
    for person in people_a(1) + people_b(1):
        make_enrolment(round_, person)
    client = api(coordinator)
    assert (
        client.post(f"{API}/rounds/{round_.pk}/form-groups/", {"group_size": 2}, format="json").status_code
        == 201
    )

    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"{API}/groups/")

    (members,) = [
        query["sql"] for query in queries.captured_queries if "discussiongroupmember" in query["sql"]
    ]
    read = (
        '"motivation"' in members,
        '"email"' in members,
        '"job_title"' in members,
        '"first_name"' in members,
    )
    assert read == (False, False, False, True)
    assert sorted(m["person_name"] for m in response.json()["results"][0]["members"]) == sorted(
        person.full_name for person in Person.unscoped_objects.filter(seminar_enrolments__round=round_)
    )


def test_form_groups_by_staff_is_forbidden(api, round_, staff_a):
    response = api(staff_a).post(f"{API}/rounds/{round_.pk}/form-groups/", {"group_size": 4}, format="json")
    assert response.status_code == 403


# --- Costs ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 3])
def test_cost_list_query_count(api, round_, coordinator, n, django_assert_num_queries):
    for _ in range(n):
        RoundCostFactory(round=round_)
    client = api(coordinator)

    with django_assert_num_queries(2):
        response = client.get(f"{API}/costs/")

    assert response.json()["count"] == n


def test_costs_are_for_coordinators(api, round_, staff_a, coordinator):
    assert api(staff_a).get(f"{API}/costs/").status_code == 403
    response = api(coordinator).post(
        f"{API}/costs/",
        {"round": round_.pk, "kind": "venue", "amount": "1500.00", "note": "Sal"},
        format="json",
    )
    assert response.status_code == 201
    assert RoundCost.unscoped_objects.get().amount == Decimal("1500.00")
    bad = api(coordinator).post(
        f"{API}/costs/", {"round": round_.pk, "kind": "yacht", "amount": "-5"}, format="json"
    )
    assert bad.status_code == 400
    assert set(bad.json()) == {"kind", "amount"}


def test_cost_report(api, programme, past_round, staff_a, coordinator):
    FunderFactory(programme=programme, name="Malmö stad", share_percent=Decimal("75.00"))
    FunderFactory(programme=programme, name="Equal", share_percent=Decimal("25.00"))
    RoundCostFactory(round=past_round, kind="lecture_fees", amount="20000.00")
    make_enrolment(past_round, staff_a)
    today = timezone.localdate()
    query = f"programme={programme.pk}&start={today - timedelta(days=7)}&end={today}"

    response = api(coordinator).get(f"{API}/costs/report/?{query}")
    wrong = api(coordinator).get(f"{API}/costs/report/?programme={programme.pk}&start={today}&end=2000-01-01")

    assert response.status_code == 200
    body = response.json()
    assert (body["total_cost"], body["staff_hours"]) == ("20000.00", "7.00")
    assert body["funders"] == [
        {"name": "Malmö stad", "share_percent": "75.00", "amount": "15000.00"},
        {"name": "Equal", "share_percent": "25.00", "amount": "5000.00"},
    ]
    assert (wrong.status_code, wrong.json()) == (400, {"end": ["The period must end on or after its start."]})


def test_cost_report_of_other_programme_is_400(api, other_programme, coordinator):
    today = timezone.localdate()
    response = api(coordinator).get(
        f"{API}/costs/report/?programme={other_programme.pk}&start={today}&end={today}"
    )
    assert response.status_code == 400
    assert response.json() == {"programme": [f'Invalid pk "{other_programme.pk}" - object does not exist.']}


def test_openapi_schema_is_valid_without_warnings(db):
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")
