from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import RequestFactory
from django.urls import URLPattern, reverse
from django.utils import timezone

from coordinator.core.tenancy import programme_scope
from organisations.access.views import ProgrammeMixin
from organisations.models import PlatformRole
from seminars import hooks
from seminars import urls as seminar_urls
from seminars.models import (
    Attendance,
    Completion,
    Course,
    DiscussionGroup,
    Enrolment,
    OrganisationQuota,
    Round,
    RoundCost,
)
from tests.factories.seminars import (
    CourseFactory,
    RoundCostFactory,
    RoundFactory,
    SessionFactory,
    make_enrolment,
)

R = PlatformRole
S = Enrolment.Status


def url(name, *args):
    return reverse(f"seminars:{name}", args=args)


def test_every_seminars_page_is_built_on_the_programme_base():
    for pattern in seminar_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        assert issubclass(pattern.callback.view_class, ProgrammeMixin), pattern.name


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


# --- Who may open what ----------------------------------------------------------------------------------

STAFF_PAGES = ["catalogue", "my-bookings", "approvals"]
COORDINATOR_PAGES = ["manage", "demand", "report", "course-create"]


@pytest.mark.parametrize("name", STAFF_PAGES + COORDINATOR_PAGES + ["teaching"])
def test_anonymous_is_sent_to_sign_in(client, db, name):
    response = client.get(url(name))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.mark.parametrize("name", COORDINATOR_PAGES + ["teaching"])
def test_staff_gets_403_on_coordinator_and_provider_pages(web, staff_a, name):
    assert web(staff_a).get(url(name)).status_code == 403


@pytest.mark.parametrize("name", ["round-admin", "round-edit", "session-create", "quotas", "groups", "costs"])
def test_round_management_pages(web, round_, session, staff_a, coordinator, name):
    assert web(staff_a).get(url(name, round_.pk)).status_code == 403
    response = web(coordinator).get(url(name, round_.pk))
    assert response.status_code == 200
    assert response.content.count(b"<h1>") == 1


@pytest.mark.parametrize("name", ["round-detail", "round-admin", "attendance", "quotas", "costs"])
def test_other_programmes_round_answers_404(web, outsider, round_, session, name):
    assert web(outsider).get(url(name, round_.pk)).status_code == 404


def test_draft_round_is_hidden_from_staff(web, course, staff_a, coordinator):
    draft = RoundFactory(course=course, status=Round.Status.DRAFT)
    assert web(staff_a).get(url("round-detail", draft.pk)).status_code == 404
    assert web(coordinator).get(url("round-detail", draft.pk)).status_code == 200


# --- Staff ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 3])
def test_catalogue_query_count(web, programme, provider_org, staff_a, n, django_assert_num_queries):
    for i in range(n):
        course = CourseFactory(programme=programme, title=f"Kurs {i}", providers=[provider_org])
        round_ = RoundFactory(course=course)
        SessionFactory(round=round_)
    client = web(staff_a)

    # Session, user, identity; the viewer's bookings, completions, participation, seats and the content
    # stamp in one; then courses, providers, target roles, prerequisites and rounds for the cache.
    with django_assert_num_queries(9):
        cold = client.get(url("catalogue"))
    with django_assert_num_queries(4):
        warm = client.get(url("catalogue"))

    assert (cold.status_code, warm.status_code) == (200, 200)
    assert cold.content.count(b'class="card course-card"') == n
    assert warm.content.count(b'class="card course-card"') == n


def test_catalogue_dates_show_first_session_last_day_and_number_of_sessions(
    web, programme, provider_org, staff_a
):
    start = (timezone.now() + timedelta(days=40)).replace(hour=8, minute=0, second=0, microsecond=0)
    course = CourseFactory(programme=programme, title="Kurs", providers=[provider_org])
    unscheduled = RoundFactory(course=course, label="A")
    single = RoundFactory(course=course, label="B")
    SessionFactory(round=single, starts_at=start)
    several = RoundFactory(course=course, label="C")
    for days in (9, 2, 5):  # created out of order: the first is the earliest, not the first created
        SessionFactory(round=several, starts_at=start + timedelta(days=days))

    page = web(staff_a).get(url("catalogue")).content.decode()

    cells = dict(re.findall(r'<a href="/seminars/rounds/(\d+)/">[^<]*</a></th>\s*<td>([^<]*)</td>', page))
    assert cells == {
        str(unscheduled.pk): "To be scheduled",
        str(single.pk): f"{start:%-d %b %Y}",
        str(several.pk): (
            f"{start + timedelta(days=2):%-d %b %Y} – {start + timedelta(days=9):%-d %b %Y} (3 sessions)"
        ),
    }


def test_catalogue_shows_why_a_round_is_closed_to_me(
    web, programme, course, provider_org, round_, session, staff_a
):
    advanced = CourseFactory(
        programme=programme, title="PTSD fördjupning", providers=[provider_org], prerequisites=[course]
    )
    SessionFactory(round=RoundFactory(course=advanced))

    content = web(staff_a).get(url("catalogue")).content.decode()

    assert "These courses must be completed first: PTSD – grundkurs." in content
    assert f'href="{url("round-detail", round_.pk)}">Enrol</a>' in content


def test_catalogue_shows_my_booking_and_closes_the_other_rounds_of_its_course(
    web, programme, course, provider_org, round_, session, staff_a, staff_b
):
    second = RoundFactory(course=course, label="Omgång 2")
    SessionFactory(round=second)
    other = CourseFactory(programme=programme, title="Samtal med tolk", providers=[provider_org])
    other_round = RoundFactory(course=other)
    SessionFactory(round=other_round)
    make_enrolment(round_, staff_a)
    make_enrolment(other_round, staff_b)  # someone else's booking closes nothing for me

    content = web(staff_a).get(url("catalogue")).content.decode()

    assert content.count('<span class="tag">Confirmed</span>') == 1
    assert content.count("There is already a booking on a round of this course.") == 1
    assert f'href="{url("round-detail", other_round.pk)}">Enrol</a>' in content
    assert f'href="{url("round-detail", second.pk)}">Enrol</a>' not in content


def test_enrol_from_round_page(web, round_, session, staff_a):
    response = web(staff_a).post(url("round-detail", round_.pk), {"motivation": ""})

    assert response.status_code == 302
    assert Enrolment.unscoped_objects.get().status == S.CONFIRMED
    page = web(staff_a).get(url("round-detail", round_.pk)).content.decode()
    assert "Confirmed" in page and "Cancel my booking" in page


def test_enrol_error_keeps_what_was_typed(web, course, staff_a, manager):
    round_ = RoundFactory(course=course, requires_manager_approval=True)
    SessionFactory(round=round_)
    typed = "Jag vill lära mig mer; " + "x" * 1000

    response = web(staff_a).post(url("round-detail", round_.pk), {"motivation": typed})

    assert response.status_code == 400
    assert typed.encode() in response.content
    assert b"Ensure this value has at most 1000 characters" in response.content
    assert Enrolment.unscoped_objects.count() == 0


@pytest.mark.parametrize("n", [1, 3])
def test_my_bookings_query_count(web, course, staff_a, n, django_assert_num_queries):
    for i in range(n):
        round_ = RoundFactory(course=course, label=f"R{i}")
        SessionFactory(round=round_)
        make_enrolment(round_, staff_a, status=S.WAITING)
    client = web(staff_a)

    with django_assert_num_queries(7):
        response = client.get(url("my-bookings"))

    assert response.status_code == 200
    assert response.content.count(b"number 1 in the queue") == n


def test_leave_queue_and_accept_offer_from_my_bookings(web, round_, session, people_a, staff_b):
    holders = people_a(3)
    for person in holders:
        make_enrolment(round_, person)
    waiting = make_enrolment(round_, staff_b, status=S.WAITING)
    (other,) = people_a(1)
    Round.unscoped_objects.filter(pk=round_.pk).update(capacity=4)
    offered = make_enrolment(round_, other, status=S.OFFERED)

    left = web(staff_b).post(url("enrolment-cancel", waiting.pk))
    stolen = web(staff_b).post(url("offer-accept", offered.pk))
    accepted = web(other).post(url("offer-accept", offered.pk))

    waiting.refresh_from_db()
    offered.refresh_from_db()
    assert (left.status_code, waiting.status) == (302, S.CANCELLED)
    assert stolen.status_code == 404
    assert (accepted.status_code, offered.status) == (302, S.CONFIRMED)


# --- Line managers and providers ------------------------------------------------------------------------


def test_line_manager_approves_from_approvals_page(web, course, people_a, manager):
    round_ = RoundFactory(course=course, requires_manager_approval=True)
    SessionFactory(round=round_)
    (report,) = people_a(1, line_manager=manager)
    enrolment = make_enrolment(round_, report, status=S.PENDING_APPROVAL, approval=Enrolment.Approval.PENDING)

    page = web(manager).get(url("approvals"))
    response = web(manager).post(url("enrolment-approve", enrolment.pk))

    assert report.full_name.encode() in page.content
    assert response.status_code == 302
    enrolment.refresh_from_db()
    assert enrolment.status == S.CONFIRMED


@pytest.mark.parametrize("n", [1, 3])
def test_approvals_query_count(web, course, people_a, manager, n, django_assert_num_queries):
    round_ = RoundFactory(course=course, requires_manager_approval=True)
    SessionFactory(round=round_)
    for person in people_a(n, line_manager=manager):
        make_enrolment(round_, person, status=S.PENDING_APPROVAL, approval=Enrolment.Approval.PENDING)
    client = web(manager)

    with django_assert_num_queries(5):
        response = client.get(url("approvals"))

    assert response.content.count(b">Approve</button>") == n


def test_provider_marks_attendance_and_records_completions(web, past_round, people_a, provider, staff_b):
    present, absent = [make_enrolment(past_round, p) for p in people_a(2)]
    session = past_round.sessions.model.unscoped_objects.get(round=past_round)

    assert web(staff_b).get(url("attendance", past_round.pk)).status_code == 403
    marked = web(provider).post(
        url("attendance", past_round.pk), {"action": "mark", "session": session.pk, "present": [present.pk]}
    )
    completed = web(provider).post(url("attendance", past_round.pk), {"action": "complete"})

    assert (marked.status_code, completed.status_code) == (302, 302)
    assert sorted(Attendance.unscoped_objects.values_list("enrolment_id", "present")) == [
        (present.pk, True),
        (absent.pk, False),
    ]
    assert list(Completion.unscoped_objects.values_list("person_id", "course_id")) == [
        (present.person_id, past_round.course_id)
    ]


@pytest.mark.parametrize("n", [1, 3])
def test_teaching_query_count(web, course, provider, n, django_assert_num_queries):
    for i in range(n):
        SessionFactory(round=RoundFactory(course=course, label=f"R{i}"))
    client = web(provider)

    with django_assert_num_queries(4):
        response = client.get(url("teaching"))

    assert response.content.count(b"Participant list") == n


# --- Coordinators ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 3])
def test_manage_query_count(web, programme, provider_org, coordinator, n, django_assert_num_queries):
    for i in range(n):
        course = CourseFactory(programme=programme, title=f"Kurs {i}", providers=[provider_org])
        SessionFactory(round=RoundFactory(course=course))
    client = web(coordinator)

    with django_assert_num_queries(6):
        response = client.get(url("manage"))

    assert response.content.count(b'<section class="card"') == n


@pytest.mark.parametrize("n", [1, 3])
def test_demand_query_count(web, programme, provider_org, coordinator, n, django_assert_num_queries):
    for i in range(n):
        course = CourseFactory(programme=programme, title=f"Kurs {i}", providers=[provider_org])
        SessionFactory(round=RoundFactory(course=course))
    client = web(coordinator)

    with django_assert_num_queries(7):
        response = client.get(url("demand"))

    assert response.status_code == 200


def test_course_create_form_keeps_input_on_error_and_saves(web, programme, provider_org, coordinator):
    client = web(coordinator)
    bad = client.post(
        url("course-create"),
        {
            "title": "Kartläggningsmetodik",
            "language": "svenska",
            "completion_rule": "attendance",
            "attendance_required_percent": 100,
        },
    )
    good = client.post(
        url("course-create"),
        {
            "title": "Kartläggningsmetodik",
            "language": "sv",
            "providers": [provider_org.pk],
            "completion_rule": "attendance",
            "attendance_required_percent": 75,
        },
    )

    assert bad.status_code == 400
    assert 'value="Kartläggningsmetodik"'.encode() in bad.content
    course = Course.unscoped_objects.get()
    assert good.status_code == 302 and good["Location"] == url("course-detail", course.pk)
    assert course.attendance_required_percent == 75


def test_round_and_session_forms(web, course, coordinator):
    client = web(coordinator)
    response = client.post(
        url("round-create", course.pk),
        {
            "label": "Våren",
            "status": "published",
            "capacity": 24,
            "registration_opens_at": "2030-01-07T08:00",
            "registration_closes_at": "2030-02-01T16:00",
            "cancellation_deadline": "2030-02-05T16:00",
            "target_role_mode": "priority",
            "offer_hold_hours": 48,
        },
    )
    round_ = Round.unscoped_objects.get(label="Våren")
    assert response.status_code == 302
    assert round_.registration_opens_at.isoformat() == "2030-01-07T07:00:00+00:00"  # 08:00 in Stockholm

    session = client.post(
        url("session-create", round_.pk),
        {"title": "Dag 1", "starts_at": "2030-02-12T09:00", "ends_at": "2030-02-12T16:00", "place": "Sal 2"},
    )
    no_place = client.post(
        url("session-create", round_.pk), {"starts_at": "2030-02-13T09:00", "ends_at": "2030-02-13T16:00"}
    )

    assert session.status_code == 302
    assert no_place.status_code == 400
    assert b"Give a place or an online link." in no_place.content
    round_.refresh_from_db()
    assert round_.starts_at.isoformat() == "2030-02-12T08:00:00+00:00"


def test_quota_groups_and_costs_pages(
    web, programme, round_, session, org_a, people_a, people_b, coordinator
):
    Round.unscoped_objects.filter(pk=round_.pk).update(capacity=10)
    for person in people_a(3) + people_b(3):
        make_enrolment(round_, person)
    client = web(coordinator)

    quota = client.post(url("quotas", round_.pk), {"organisation": org_a.pk, "reserved": 3, "maximum": 5})
    groups = client.post(url("groups", round_.pk), {"group_size": 3})
    cost = client.post(url("costs", round_.pk), {"kind": "venue", "amount": "1200.50", "note": "Sal"})
    bad_cost = client.post(url("costs", round_.pk), {"kind": "venue", "amount": "-1", "note": "Sal"})

    assert (quota.status_code, groups.status_code, cost.status_code, bad_cost.status_code) == (
        302,
        302,
        302,
        400,
    )
    assert OrganisationQuota.unscoped_objects.get().maximum == 5
    assert DiscussionGroup.unscoped_objects.filter(round=round_).count() == 2
    assert str(RoundCost.unscoped_objects.get().amount) == "1200.50"
    page = client.get(url("groups", round_.pk)).content.decode()
    assert "Organisations per group</dt><dd>2–2" in page


def test_report_page(web, programme, past_round, staff_a, coordinator):
    RoundCostFactory(round=past_round, amount="5000.00")
    make_enrolment(past_round, staff_a)
    today = timezone.localdate()

    response = web(coordinator).get(
        url("report"), {"start": str(today - timedelta(days=10)), "end": str(today)}
    )
    bad = web(coordinator).get(url("report"), {"start": "igår", "end": str(today)})

    assert response.status_code == 200
    assert "SEK\u00a05,000".encode() in response.content
    assert bad.status_code == 400


def test_remove_participant_and_cancel_round(web, round_, session, staff_a, coordinator):
    enrolment = make_enrolment(round_, staff_a)
    client = web(coordinator)

    removed = client.post(url("enrolment-cancel", enrolment.pk), {"next": url("round-admin", round_.pk)})
    cancelled = client.post(url("round-cancel", round_.pk), {"reason": "Sjukdom"})

    enrolment.refresh_from_db()
    round_.refresh_from_db()
    assert removed["Location"] == url("round-admin", round_.pk)
    assert (enrolment.status, enrolment.end_reason) == (S.CANCELLED, Enrolment.EndReason.REMOVED)
    assert cancelled.status_code == 302
    assert round_.status == Round.Status.CANCELLED


def test_unsafe_next_address_is_ignored(web, round_, session, staff_a):
    enrolment = make_enrolment(round_, staff_a)
    response = web(staff_a).post(url("enrolment-cancel", enrolment.pk), {"next": "https://evil.example/"})
    assert response["Location"] == url("my-bookings")


# --- Start page, history, report provider ---------------------------------------------------------------


def _request(person, programme):
    request = RequestFactory().get("/")
    request.user = person.user
    request.programme = programme
    return request


@pytest.mark.parametrize("n", [1, 3])
def test_my_courses_panel_uses_fixed_queries(programme, course, staff_a, n, django_assert_num_queries):
    for i in range(n + 1):
        round_ = RoundFactory(course=course, label=f"R{i}")
        SessionFactory(round=round_)
        make_enrolment(round_, staff_a, status=S.CONFIRMED if i else S.WAITING)
    request = _request(staff_a, programme)

    with programme_scope([programme.pk]), django_assert_num_queries(5):
        panel = hooks._my_courses_panel(request)

    assert len(panel["waiting"]) == 1
    assert len(panel["sessions"]) == n


def test_panels_hide_when_irrelevant(programme, staff_a, coordinator):
    with programme_scope([programme.pk]):
        assert hooks._approvals_panel(_request(staff_a, programme)) is None
        assert hooks._teaching_panel(_request(staff_a, programme)) is None
        assert hooks._demand_panel(_request(staff_a, programme)) is None
        assert hooks._demand_panel(_request(coordinator, programme)) == {
            "needs_round": [],
            "waiting": 0,
            "unfilled_quotas": [],
        }


def test_home_page_shows_my_courses_panel(web, round_, session, staff_a):
    make_enrolment(round_, staff_a)
    response = web(staff_a).get("/")
    assert b"My courses" in response.content
    assert "PTSD – grundkurs".encode() in response.content


def test_history_lists_completions(web, programme, course, staff_a):
    from tests.factories.seminars import CompletionFactory

    CompletionFactory(person=staff_a, course=course)
    response = web(staff_a).get("/me/")
    assert "PTSD – grundkurs".encode() in response.content


def test_groups_can_be_removed(web, round_, session, people_a, people_b, coordinator, staff_a):
    Round.unscoped_objects.filter(pk=round_.pk).update(capacity=5)
    for person in people_a(2) + people_b(2):
        make_enrolment(round_, person)
    client = web(coordinator)
    client.post(url("groups", round_.pk), {"group_size": 2})
    assert DiscussionGroup.unscoped_objects.filter(round=round_).count() == 2

    assert web(staff_a).post(url("groups", round_.pk), {"action": "clear"}).status_code == 403
    response = client.post(url("groups", round_.pk), {"action": "clear"})

    assert response.status_code == 302
    assert DiscussionGroup.unscoped_objects.filter(round=round_).count() == 0
