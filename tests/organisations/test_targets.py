"""Targets and their progress: figures on hand-made data (counts, shares, projected dates, who is behind),
suppression of small groups, isolation between programmes, the form pages and the barometer's charts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from coordinator.core.tenancy import programme_scope
from focusgroups.models import GroupMembership
from organisations.models import PlatformRole, Target
from organisations.reports.targets import progress
from organisations.services import targets as target_services
from shadowing.models import Placement
from tests.factories import make_member
from tests.factories.focusgroups import FocusGroupFactory, make_group_member
from tests.factories.outcomes import make_ptsd_data, target_for, visit
from tests.factories.seminars import CourseFactory
from tests.factories.shadowing import WorkplaceFactory

R = PlatformRole


@pytest.fixture
def ptsd(programme, other_programme):
    return make_ptsd_data(programme, other_programme, timezone.localdate())


def _progress(programme, targets, today):
    with programme_scope([programme.pk]):
        return progress(programme, targets, today)


def test_share_target_counts_the_role_per_organisation_and_projects_the_date(programme, ptsd):
    (item,) = _progress(programme, [ptsd.target], ptsd.today)
    # 6 + 3 + 1 + 2 case officers of 26 have the course; the counsellor and the other programme do not count.
    assert (item.done, item.needed, item.percent) == (12, 26, 46)
    # 4 had it four weeks ago: 8 gained in 28 days, 14 to go → 14 × 28 / 8 = 49 days.
    assert item.status == "projected"
    assert item.projected_on == ptsd.today + timedelta(days=49)
    assert item.on_track is True
    rows = {row.name: row for row in item.organisations}
    # RK has 3 case officers (hidden), and MS (6, the smallest other) too, so that the total reveals neither.
    assert {name: row.hidden for name, row in rows.items()} == {
        "AF": False,
        "MS": True,
        "MV": False,
        "RK": True,
    }
    assert (rows["MV"].done, rows["MV"].needed, rows["MV"].percent) == (6, 10, 60)
    assert (rows["AF"].done, rows["AF"].needed, rows["AF"].percent) == (2, 7, 28)
    assert rows["MS"].done is None and rows["MS"].series == []
    # Half the time has passed: AF (29 %) is behind, MV (60 %) is not.
    assert [row.name for row in item.behind] == ["AF"]
    assert len(item.dates) == 10
    assert item.dates[0] == ptsd.today - timedelta(days=60) and item.dates[-1] == ptsd.today
    assert rows["MV"].series[-1] == 0.6 and rows["MV"].series[0] == 0.0


def test_share_target_among_everyone_counts_every_member(programme, ptsd):
    ptsd.target.work_role = None
    (item,) = _progress(programme, [ptsd.target], ptsd.today)
    # The counsellor counts now, among 27 members.
    assert (item.done, item.needed) == (13, 27)


def test_a_share_goal_below_100_needs_fewer(programme, ptsd):
    ptsd.target.goal = 40
    (item,) = _progress(programme, [ptsd.target], ptsd.today)
    # 40 % of 26 is 10.4, so 11 people.
    assert (item.done, item.needed, item.status) == (12, 11, "reached")


def test_everything_is_hidden_when_the_whole_population_is_under_five(programme, org_a, work_role):
    course = CourseFactory(programme=programme)
    for _ in range(4):
        make_member(programme, org_a, R.STAFF, work_role=work_role)
    target = target_for(
        programme, measure="seminars.completed_course", subject_id=course.pk, work_role=work_role, goal=100
    )
    (item,) = _progress(programme, [target], timezone.localdate())
    assert (item.hidden, item.done, item.percent) == (True, None, None)
    assert [row.hidden for row in item.organisations] == [True]


def test_count_target_takes_the_lesser_of_days_hosted_and_sent(
    programme, other_programme, org_a, org_b, org_other, staff_a, staff_b, outsider
):
    today = timezone.localdate()
    host_a = WorkplaceFactory(programme=programme, organisation=org_a, contact=staff_a)
    host_b = WorkplaceFactory(programme=programme, organisation=org_b, contact=staff_b)
    for days_ago in (3, 4, 5):
        visit(programme, host_a, staff_b, today - timedelta(days=days_ago))  # A hosts 3, B sends 3
    visit(programme, host_b, staff_a, today - timedelta(days=6))  # B hosts 1, A sends 1
    visit(programme, host_b, staff_a, today - timedelta(days=7), status=Placement.Status.CANCELLED)
    foreign = WorkplaceFactory(programme=other_programme, organisation=org_other, contact=outsider)
    visit(other_programme, foreign, outsider, today - timedelta(days=3))
    target = target_for(
        programme, goal=2, starts_on=today - timedelta(days=30), deadline=today + timedelta(days=30)
    )
    hosted = target_for(
        programme, measure="shadowing.days_hosted", goal=2, starts_on=today - timedelta(days=30)
    )
    both, only_hosted = _progress(programme, [target, hosted], today)
    assert {row.name: (row.done, row.needed) for row in both.organisations} == {
        "MV": (1, 2),
        "Malmö stad": (1, 2),
    }
    assert (both.done, both.needed, both.percent) == (2, 4, 50)
    # Days hosted, capped at the goal per organisation: MV 3 → 2, Malmö stad 1.
    assert (only_hosted.done, only_hosted.needed) == (3, 4)
    assert only_hosted.status == "reached" or only_hosted.status in ("projected", "stalled")


def test_focus_group_target_counts_groups_with_every_organisation(programme, org_a, org_b, staff_a, staff_b):
    today = timezone.localdate()
    full = FocusGroupFactory(programme=programme, name="Informationsflödet")
    partial = FocusGroupFactory(programme=programme, name="Hälsoperspektivet")
    make_group_member(full, staff_a)
    make_group_member(full, staff_b)
    make_group_member(partial, staff_a)
    make_group_member(partial, staff_b, role=GroupMembership.Role.OBSERVER)  # does not represent
    target = target_for(programme, measure="focusgroups.every_organisation", goal=100)
    (item,) = _progress(programme, [target], today)
    assert (item.done, item.needed) == (1, 2)
    assert {row.name: (row.done, row.needed) for row in item.organisations} == {
        "MV": (2, 2),
        "Malmö stad": (1, 2),
    }


# --- Pages ------------------------------------------------------------------------------------------------


def test_barometer_draws_each_target_as_an_accessible_chart_with_its_numbers(web, programme, ptsd):
    admin = make_member(programme, ptsd.orgs["MV"], R.PROGRAMME_ADMIN)
    response = web(admin).get("/barometer/")
    page = response.content.decode()
    assert response.status_code == 200
    chart = f"target-{ptsd.target.pk}"
    assert f'role="img" aria-labelledby="{chart}-title {chart}-desc"' in page
    assert (
        f'<title id="target-{ptsd.target.pk}-title">Alla handläggare har grundkursen i PTSD</title>' in page
    )
    assert "46 %" in page
    assert "12 of 26 needed." in page
    assert "AF (28 %)" in page
    assert (ptsd.today + timedelta(days=49)).strftime("%-d %b %Y") in page
    # The table beside the chart: the whole programme, MV and AF; the hidden ones are named as hidden.
    assert '<th scope="col">MV</th>' in page and '<th scope="col">AF</th>' in page
    assert '<th scope="col">RK</th>' not in page
    assert "RK: hidden, fewer than 5 people" in page


def test_barometer_shows_no_other_programmes_targets(web, programme, other_programme, ptsd, outsider):
    target_for(other_programme, title="Hemligt mål i København")
    admin = make_member(programme, ptsd.orgs["MV"], R.PROGRAMME_ADMIN)
    assert "Hemligt mål" not in web(admin).get("/barometer/").content.decode()
    assert "Alla handläggare" not in web(outsider).get("/barometer/").content.decode()


def test_barometer_reads_targets_in_a_fixed_number_of_queries(
    web, programme, ptsd, django_assert_num_queries
):
    admin = make_member(programme, ptsd.orgs["MV"], R.PROGRAMME_ADMIN)
    client = web(admin)
    client.get("/barometer/")
    with CaptureQueriesContext(connection) as one:
        assert client.get("/barometer/").status_code == 200
    for index in range(2):
        course = CourseFactory(programme=programme)
        target_for(
            programme,
            title=f"Kurs {index}",
            measure="seminars.completed_course",
            subject_id=course.pk,
            goal=100,
        )
        target_for(programme, title=f"Besök {index}", goal=10)
    target_for(programme, title="Grupper", measure="focusgroups.every_organisation", goal=100)
    with CaptureQueriesContext(connection) as many:
        assert client.get("/barometer/").status_code == 200
    # Visit days hosted and sent (one query for both sides) and focus groups (three) are asked once each,
    # whatever the number of targets; the courses are read in the same two queries for one target or many.
    assert (len(one), len(many)) == (20, 24)
    for index in range(3):
        target_for(programme, title=f"Fler besök {index}", goal=5)
        course = CourseFactory(programme=programme)
        target_for(
            programme,
            title=f"Fler kurser {index}",
            measure="seminars.completed_course",
            subject_id=course.pk,
            goal=50,
        )
    with django_assert_num_queries(24):
        client.get("/barometer/")


@pytest.mark.parametrize(
    ("roles", "status"),
    [((R.STAFF,), 403), ((R.LINE_MANAGER,), 403), ((R.STEERING_GROUP,), 200), ((R.ORGANISATION_ADMIN,), 200)],
)
def test_who_reads_the_barometer_and_targets(web, programme, org_a, roles, status):
    person = make_member(programme, org_a, *roles)
    assert web(person).get("/barometer/").status_code == status
    assert web(person).get("/organisations/targets/").status_code == status


def test_programme_admin_sets_a_target_on_the_form_page(web, programme, programme_admin, work_role):
    course = CourseFactory(programme=programme, title="Kartläggningsmetodik")
    client = web(programme_admin)
    assert client.get("/organisations/targets/new/").status_code == 200
    response = client.post(
        "/organisations/targets/new/",
        {
            "title": "Alla handläggare har kartläggningskursen",
            "measure": "seminars.completed_course",
            "subject_id": str(course.pk),
            "work_role": str(work_role.pk),
            "goal": "100",
            "starts_on": "2026-01-01",
            "deadline": "2026-06-30",
        },
    )
    assert response.status_code == 302
    with programme_scope([programme.pk]):
        saved = Target.objects.get()
    assert (saved.measure, saved.subject_id, saved.work_role_id, saved.goal, str(saved.deadline)) == (
        "seminars.completed_course",
        course.pk,
        work_role.pk,
        100,
        "2026-06-30",
    )


@pytest.mark.parametrize("language", ["da", "sv", "en"])
def test_target_form_offers_its_default_dates_to_the_date_pickers_in_every_language(
    web, programme, programme_admin, language
):
    programme_admin.preferred_language = language
    programme_admin.save(update_fields=["preferred_language"])
    starts_on, deadline = target_services.default_dates(timezone.localdate())

    page = web(programme_admin).get("/organisations/targets/new/").content.decode()

    # (a date input takes only YYYY-MM-DD: "01.01.2026", Danish's first date format, leaves it empty)
    assert f'type="date" name="starts_on" value="{starts_on.isoformat()}"' in page
    assert f'type="date" name="deadline" value="{deadline.isoformat()}"' in page


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"goal": "150"}, "A share is at most 100 per cent."),
        ({"deadline": "2025-12-01"}, "The deadline must be on or after the day the target counts from."),
        ({"measure": "nonsense.measure"}, "Select a valid choice."),
        ({"title": "x" * 201}, "Ensure this value has at most 200 characters"),
        ({"goal": "abc"}, "Enter a whole number."),
        ({"subject_id": "999999"}, "Select a valid choice."),
        ({"starts_on": "0001-01-01"}, "Ensure this value is greater than or equal to 1900-01-01."),
    ],
)
def test_target_form_refuses_bad_input_without_saving(web, programme, programme_admin, change, field):
    course = CourseFactory(programme=programme)
    data = {
        "title": "Mål",
        "measure": "seminars.completed_course",
        "subject_id": str(course.pk),
        "goal": "100",
        "starts_on": "2026-01-01",
        "deadline": "2026-06-30",
        **change,
    }
    response = web(programme_admin).post("/organisations/targets/new/", data)
    assert response.status_code == 400
    assert field in response.content.decode()
    with programme_scope([programme.pk]):
        assert Target.objects.count() == 0


def test_target_form_refuses_another_programmes_course(web, programme, other_programme, programme_admin):
    foreign = CourseFactory(programme=other_programme)
    data = {
        "title": "Mål",
        "measure": "seminars.completed_course",
        "subject_id": str(foreign.pk),
        "goal": "100",
        "starts_on": "2026-01-01",
        "deadline": "2026-06-30",
    }
    assert web(programme_admin).post("/organisations/targets/new/", data).status_code == 400


def test_coordinators_may_not_set_targets(web, coordinator):
    assert web(coordinator).get("/organisations/targets/new/").status_code == 403


def test_another_programmes_target_answers_404_on_its_page(web, programme_admin, other_programme):
    foreign = target_for(other_programme)
    assert web(programme_admin).get(f"/organisations/targets/{foreign.pk}/").status_code == 404
    assert web(programme_admin).post(f"/organisations/targets/{foreign.pk}/delete/").status_code == 404
    assert Target.unscoped_objects.filter(pk=foreign.pk).exists()


def test_programme_admin_changes_and_removes_a_target(web, programme, programme_admin):
    target = target_for(programme, title="Gammalt", goal=5)
    client = web(programme_admin)
    data = {
        "title": "Nytt",
        "measure": "shadowing.days_hosted",
        "goal": "8",
        "starts_on": "2026-01-01",
        "deadline": "2026-12-31",
    }
    assert client.post(f"/organisations/targets/{target.pk}/", data).status_code == 302
    target.refresh_from_db()
    assert (target.title, target.measure, target.goal) == ("Nytt", "shadowing.days_hosted", 8)
    assert client.post(f"/organisations/targets/{target.pk}/delete/").status_code == 302
    assert not Target.unscoped_objects.filter(pk=target.pk).exists()
