"""Transfer and effect: expectations before, follow-ups to the person and their manager some months
after (sent once), answers pooled with small pools hidden and free text without names."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from coordinator.core.models import Notification
from coordinator.core.statistics import months_before
from coordinator.core.tenancy import programme_scope, unscoped
from organisations.models import Expectation, FollowUp, PlatformRole
from organisations.services.followups import follow_ups_send_due
from seminars.models import Completion
from tests.factories import make_member
from tests.factories.outcomes import visit
from tests.factories.seminars import CourseFactory, RoundFactory, SessionFactory, make_enrolment
from tests.factories.shadowing import WorkplaceFactory

R = PlatformRole


def _complete(person, course, on):
    return Completion.unscoped_objects.create(
        person=person, course=course, method=Completion.Method.ATTENDANCE, completed_on=on
    )


def _send(today):
    with unscoped():
        return follow_ups_send_due(today=today)


@pytest.fixture
def today():
    return timezone.localdate()


def test_follow_ups_go_to_the_person_and_their_manager_once(programme, org_a, org_b, staff_b, today):
    manager = make_member(programme, org_a, R.LINE_MANAGER)
    person = make_member(programme, org_a, R.STAFF, line_manager=manager)
    course = CourseFactory(programme=programme, title="PTSD – grundkurs")
    due = months_before(today, 3)
    _complete(person, course, due - timedelta(days=2))
    _complete(staff_b, course, today - timedelta(days=20))  # not due yet
    host = WorkplaceFactory(programme=programme, organisation=org_b, contact=staff_b, name="Mottagningen")
    visited = visit(programme, host, person, due)
    assert _send(today) == 4
    assert _send(today) == 0
    rows = FollowUp.unscoped_objects.order_by("subject_kind", "respondent_kind")
    assert [
        (r.subject_kind, r.respondent_kind, r.respondent_id, r.group_id, r.organisation_id) for r in rows
    ] == [
        ("seminars.course", "manager", manager.pk, course.pk, org_a.pk),
        ("seminars.course", "person", person.pk, course.pk, org_a.pk),
        ("shadowing.visit", "manager", manager.pk, host.pk, org_a.pk),
        ("shadowing.visit", "person", person.pk, host.pk, org_a.pk),
    ]
    assert {r.subject_id for r in rows if r.subject_kind == "shadowing.visit"} == {visited.pk}
    titles = sorted(
        Notification.unscoped_objects.filter(kind="organisations.follow_up").values_list("title", flat=True)
    )
    assert titles == sorted(
        [
            f"Has Mottagningen (Malmö stad) made a difference for {person.full_name}?",
            f"Has PTSD – grundkurs made a difference for {person.full_name}?",
            "Has Mottagningen (Malmö stad) made a difference in your work?",
            "Has PTSD – grundkurs made a difference in your work?",
        ]
    )


def test_no_follow_ups_when_the_programme_asks_for_none(programme, org_a, today):
    programme.follow_up_months = 0
    programme.save(update_fields=["follow_up_months"])
    person = make_member(programme, org_a, R.STAFF)
    _complete(person, CourseFactory(programme=programme), months_before(today, 3))
    assert _send(today) == 0
    assert FollowUp.unscoped_objects.count() == 0


def test_the_delay_is_set_per_programme(programme, org_a, today):
    programme.follow_up_months = 6
    programme.save(update_fields=["follow_up_months"])
    person = make_member(programme, org_a, R.STAFF)
    course = CourseFactory(programme=programme)
    _complete(person, course, months_before(today, 3))
    assert _send(today) == 0
    assert _send(months_before(today, -3)) == 1


@pytest.fixture
def asked(programme, org_a, today):
    person = make_member(programme, org_a, R.STAFF)
    course = CourseFactory(programme=programme, title="Kartläggningsmetodik")
    _complete(person, course, months_before(today, 3))
    _send(today)
    return FollowUp.unscoped_objects.get(person=person)


ANSWER = {
    "used": "yes",
    "how_used": "I map needs together now.",
    "shared": "yes",
    "rating": "4",
    "comment": "",
}


def test_the_person_answers_their_follow_up(web, asked):
    client = web(asked.respondent)
    assert client.get(f"/organisations/follow-ups/{asked.pk}/").status_code == 200
    assert client.post(f"/organisations/follow-ups/{asked.pk}/", ANSWER).status_code == 302
    asked.refresh_from_db()
    assert (asked.used, asked.shared, asked.rating, asked.how_used) == (
        "yes",
        True,
        4,
        "I map needs together now.",
    )
    assert asked.answered_at is not None


@pytest.mark.parametrize(
    "bad",
    [{"rating": "9"}, {"used": "maybe"}, {"how_used": "x" * 2001}, {"shared": ""}, {"rating": "<script>"}],
)
def test_a_bad_answer_is_refused_and_nothing_saved(web, asked, bad):
    response = web(asked.respondent).post(f"/organisations/follow-ups/{asked.pk}/", {**ANSWER, **bad})
    assert response.status_code == 400
    asked.refresh_from_db()
    assert asked.answered_at is None and asked.rating is None


def test_nobody_else_opens_a_follow_up(web, asked, programme, org_a, coordinator, outsider):
    colleague = make_member(programme, org_a, R.ORGANISATION_ADMIN)
    for other in (colleague, coordinator, outsider):
        assert web(other).get(f"/organisations/follow-ups/{asked.pk}/").status_code in (404, 403)
        web(other).post(f"/organisations/follow-ups/{asked.pk}/", ANSWER)
    asked.refresh_from_db()
    assert asked.answered_at is None


def test_an_expectation_is_recorded_before_a_booked_course(web, programme, org_a):
    person = make_member(programme, org_a, R.STAFF)
    course = CourseFactory(programme=programme, title="PTSD – fördjupning")
    round_ = RoundFactory(course=course)
    SessionFactory(round=round_)
    make_enrolment(round_, person)
    unbooked = CourseFactory(programme=programme)
    client = web(person)
    page = client.get("/organisations/follow-ups/").content.decode()
    assert "PTSD – fördjupning" in page
    url = f"/organisations/follow-ups/expect/seminars.course/{course.pk}/"
    assert client.post(url, {"rating": "4", "text": "Att samtala om trauma."}).status_code == 302
    assert client.post(url, {"rating": "6", "text": ""}).status_code == 400
    with programme_scope([programme.pk]):
        saved = Expectation.objects.get()
    assert (saved.person_id, saved.subject_kind, saved.subject_id, saved.rating) == (
        person.pk,
        "seminars.course",
        course.pk,
        4,
    )
    assert client.get(f"/organisations/follow-ups/expect/seminars.course/{unbooked.pk}/").status_code == 404
    assert client.get(f"/organisations/follow-ups/expect/nonsense/{course.pk}/").status_code == 404


# --- Effect: pooled answers, with small pools hidden ----------------------------------------------------


def _answered(programme, organisation, course, rating, *, expected=None, text="", manager_rating=None):
    person = make_member(programme, organisation, R.STAFF)
    finished = timezone.localdate() - timedelta(days=100)
    row = FollowUp.unscoped_objects.create(
        programme=programme,
        person=person,
        respondent=person,
        respondent_kind="person",
        organisation=organisation,
        subject_kind="seminars.course",
        subject_id=course.pk,
        group_id=course.pk,
        finished_on=finished,
        due_on=finished,
        answered_at=timezone.now(),
        used="yes" if rating >= 3 else "no",
        shared=rating >= 4,
        rating=rating,
        how_used=text,
    )
    if expected is not None:
        Expectation.unscoped_objects.create(
            programme=programme,
            person=person,
            subject_kind="seminars.course",
            subject_id=course.pk,
            rating=expected,
        )
    return person, row


@pytest.fixture
def pools(programme, org_a, org_b):
    """Course A: 6 answers (MV 4, Malmö stad 2); course B: 2 (hidden); course C: 5 (hidden too, so that
    the total does not reveal B)."""
    a = CourseFactory(programme=programme, title="Kurs A")
    b = CourseFactory(programme=programme, title="Kurs B")
    c = CourseFactory(programme=programme, title="Kurs C")
    people = []
    for rating, org in zip([4, 4, 5, 3, 4, 5], [org_a] * 4 + [org_b] * 2, strict=True):
        people.append(
            _answered(programme, org, a, rating, expected=3, text=f"Använder det dagligen {rating}")[0]
        )
    _answered(programme, org_a, b, 1, expected=5, text="SECRET-B one")
    _answered(programme, org_b, b, 2, text="SECRET-B two")
    for rating in (2, 3, 3, 4, 4):
        _answered(programme, org_a, c, rating, text="C text")
    return {"a": a, "b": b, "c": c, "people": people}


def test_effect_report_pools_answers_and_hides_small_pools(web, programme, org_a, pools):
    reader = make_member(programme, org_a, R.STEERING_GROUP)
    response = web(reader).get("/organisations/effect/")
    page = response.content.decode()
    assert response.status_code == 200
    # Course A: 6 people, 25/6 = 4.2, expected 3.0, 6 of 6 used it, 5 of 6 shared.
    assert (
        '<th scope="row">Course: Kurs A</th>\n    \n    <td>6</td><td>3.0</td><td>4.2</td><td>–</td>' in page
    )
    assert "100 %</td><td>83 %" in page
    # Course B (2) and C (5, so that the total does not reveal B); Malmö stad (3 people) and MV (10, the
    # only other organisation, so that the total does not reveal Malmö stad).
    assert page.count("hidden: fewer than 5 people") == 4
    assert "SECRET-B" not in page and "C text" not in page
    assert "Använder det dagligen 5" in page
    for person in pools["people"]:
        assert person.full_name not in page


def test_effect_report_api_gives_hidden_pools_as_null(api, programme, programme_admin, pools):
    response = api(programme_admin).get(f"/api/v1/reports/follow-ups/?programme={programme.pk}")
    assert response.status_code == 200
    by_name = {pool["name"]: pool for pool in response.json()["by_group"]}
    assert by_name["Kurs A"]["respondents"] == 6 and by_name["Kurs A"]["rating"] == "4.2"
    assert by_name["Kurs A"]["comments"] == [f"Använder det dagligen {n}" for n in (3, 4, 4, 4, 5, 5)]
    assert by_name["Kurs B"] == {
        "kind": "seminars.course",
        "id": pools["b"].pk,
        "name": "Kurs B",
        "hidden": True,
        "respondents": None,
        "rating": None,
        "expected": None,
        "manager_rating": None,
        "used_percent": None,
        "shared_percent": None,
        "comments": [],
    }
    assert by_name["Kurs C"]["hidden"] is True
    assert response.json()["total"]["respondents"] == 13


@pytest.mark.parametrize("roles", [(R.STAFF,), (R.LINE_MANAGER,), (R.HOST_CONTACT,)])
def test_staff_do_not_read_the_effect_report(web, api, programme, org_a, pools, roles):
    person = make_member(programme, org_a, *roles)
    assert web(person).get("/organisations/effect/").status_code == 403
    assert api(person).get(f"/api/v1/reports/follow-ups/?programme={programme.pk}").status_code in (400, 403)


def test_another_programme_reads_none_of_the_answers(api, web, programme, outsider, pools):
    assert api(outsider).get(f"/api/v1/reports/follow-ups/?programme={programme.pk}").status_code == 400
    page = web(outsider).get("/organisations/effect/").content.decode()
    assert "Kurs A" not in page and "Använder det" not in page


def test_effect_and_status_pages_read_in_a_fixed_number_of_queries(
    web, programme, org_a, org_b, django_assert_num_queries
):
    reader = make_member(programme, org_a, R.STEERING_GROUP)
    client = web(reader)

    def pool(title, size):
        course = CourseFactory(programme=programme, title=title)
        for index in range(size):
            _answered(
                programme, org_a if index % 2 else org_b, course, 4, expected=3, text=f"{title} {index}"
            )

    pool("Kurs 1", 6)
    client.get("/organisations/effect/")
    # The competences are read with their sources in one query.
    with django_assert_num_queries(13):
        assert client.get("/organisations/effect/").status_code == 200
    pool("Kurs 2", 7)
    pool("Kurs 3", 2)
    with django_assert_num_queries(13):
        assert client.get("/organisations/effect/").status_code == 200
