"""The shadowing and focus-group sections of the programme barometer: exact figures for a period, with data
of another programme and outside the period present."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from django.urls import resolve
from django.utils import timezone

from coordinator.core import registry
from coordinator.core.tenancy import programme_scope
from focusgroups import reports as focusgroup_reports
from focusgroups.models import ActionItem, Decision, GroupMembership, Meeting
from organisations.models import PlatformRole
from shadowing import reports as shadowing_reports
from shadowing.models import Placement, PlacementDay, Reflection, ShadowingRequest
from tests.factories import make_member
from tests.factories.focusgroups import ActionFactory, FocusGroupFactory, MeetingFactory, make_group_member
from tests.factories.shadowing import SlotFactory, WorkplaceFactory, make_request

R = PlatformRole
P = Placement.Status


def _figures(section) -> dict[str, object]:
    return {str(label): value for label, value in section.figures}


def _visit(programme, workplace, requester, day: date, status=P.VISITED) -> Placement:
    request = make_request(programme, requester, status=ShadowingRequest.Status.PLACED)
    placement = Placement.unscoped_objects.create(
        programme=programme,
        request=request,
        workplace=workplace,
        status=status,
        confidentiality_accepted_at=timezone.now(),
    )
    slot = SlotFactory(workplace=workplace, date=day)
    PlacementDay.unscoped_objects.create(
        placement=placement, slot=slot, date=day, starts_at=slot.starts_at, ends_at=slot.ends_at
    )
    return placement


@pytest.fixture
def period() -> tuple[date, date]:
    today = timezone.localdate()
    return today - timedelta(days=30), today + timedelta(days=30)


def test_shadowing_section_counts_visits_of_the_period(
    programme, other_programme, org_a, org_b, org_other, staff_a, staff_b, outsider, period
):
    start, end = period
    host = make_member(programme, org_a, R.HOST_CONTACT)
    workplace = WorkplaceFactory(programme=programme, organisation=org_a, contact=host)
    visited = _visit(programme, workplace, staff_b, start + timedelta(days=1))
    Reflection.unscoped_objects.create(placement=visited, learned="Hur mottagningen fungerar.")
    _visit(programme, workplace, staff_b, start + timedelta(days=2), status=P.CONFIRMED)
    _visit(programme, workplace, staff_b, start + timedelta(days=3), status=P.CANCELLED)  # not a visit
    _visit(programme, workplace, staff_b, start - timedelta(days=10))  # before the period
    foreign_host = make_member(other_programme, org_other, R.HOST_CONTACT)
    foreign = WorkplaceFactory(programme=other_programme, organisation=org_other, contact=foreign_host)
    _visit(other_programme, foreign, outsider, start + timedelta(days=1))

    with programme_scope([programme.pk]):
        section = shadowing_reports.report(programme, start, end)

    figures = _figures(section)
    assert (figures["Visits"], figures["Visit days"], figures["Host organisations visited"]) == (2, 2, 1)
    assert figures["Reflections written"] == 1
    [table] = section.tables
    assert table.rows == [["Migrationsverket", 2, 2, 1]]


def test_focusgroup_section_counts_the_period_and_names_missing_organisations(
    programme, other_programme, org_a, org_b, org_other, staff_a, staff_b, outsider, period
):
    start, end = period
    group = FocusGroupFactory(programme=programme, name="Informationsflödet")
    make_group_member(group, staff_a)
    observer = make_member(programme, org_b, R.STAFF)
    make_group_member(group, observer, role=GroupMembership.Role.OBSERVER)  # observers do not represent
    held = MeetingFactory(
        group=group, starts_at=timezone.now() - timedelta(days=3), status=Meeting.Status.HELD
    )
    MeetingFactory(group=group, starts_at=timezone.now() - timedelta(days=60), status=Meeting.Status.HELD)
    MeetingFactory(group=group, starts_at=timezone.now() + timedelta(days=3))  # scheduled, not held
    Decision.unscoped_objects.create(meeting=held, position=1, text="Vi delar kontaktlistor.")
    ActionFactory(group=group, owner=staff_a)
    ActionFactory(group=group, owner=staff_a, status=ActionItem.Status.DONE)
    foreign = FocusGroupFactory(programme=other_programme, name="Fremmed gruppe")
    MeetingFactory(group=foreign, starts_at=timezone.now() - timedelta(days=3), status=Meeting.Status.HELD)

    with programme_scope([programme.pk]):
        section = focusgroup_reports.report(programme, start, end)

    figures = _figures(section)
    assert (figures["Meetings held"], figures["Decisions recorded"]) == (1, 1)
    assert (figures["Actions agreed"], figures["Actions done"], figures["Actions open now"]) == (2, 1, 1)
    [table] = section.tables
    assert table.rows == [["Informationsflödet", 2, 1, org_b.short_name]]


def test_barometer_page_shows_every_section(web, coordinator):
    response = web(coordinator).get("/barometer/")
    assert [str(s.title) for s in response.context["sections"]] == [
        "Organisations and people",
        "Job shadowing",
        "Focus groups",
        "Courses and seminars",
    ]


def test_shadowing_section_counts_days_and_reflections_of_the_periods_visits_in_two_queries(
    programme, org_a, org_b, staff_a, staff_b, period, django_assert_num_queries
):
    start, end = period
    host_a = make_member(programme, org_a, R.HOST_CONTACT)
    host_b = make_member(programme, org_b, R.HOST_CONTACT)
    at_a = WorkplaceFactory(programme=programme, organisation=org_a, contact=host_a)
    at_b = WorkplaceFactory(programme=programme, organisation=org_b, contact=host_b)
    # Three days, the last after the period: the visit belongs to its first day's period, with all its days.
    long_visit = _visit(programme, at_a, staff_b, end - timedelta(days=1))
    for offset in (0, 2):
        slot = SlotFactory(workplace=at_a, date=end + timedelta(days=offset))
        PlacementDay.unscoped_objects.create(
            placement=long_visit, slot=slot, date=slot.date, starts_at=slot.starts_at, ends_at=slot.ends_at
        )
    Reflection.unscoped_objects.create(placement=long_visit, learned="Mottagningen.")
    Reflection.unscoped_objects.create(
        placement=_visit(programme, at_b, staff_a, start + timedelta(days=3)), learned="Handläggningen."
    )
    _visit(programme, at_b, staff_a, start + timedelta(days=4))
    before = _visit(programme, at_b, staff_a, start - timedelta(days=1))  # first day before the period
    Reflection.unscoped_objects.create(placement=before, learned="Tidigare.")
    cancelled = _visit(programme, at_a, staff_b, start + timedelta(days=5), status=P.CANCELLED)
    Reflection.unscoped_objects.create(placement=cancelled, learned="Inställt.")

    with programme_scope([programme.pk]), django_assert_num_queries(2):
        section = shadowing_reports.report(programme, start, end)

    figures = _figures(section)
    assert (figures["Visits"], figures["Visit days"], figures["Reflections written"]) == (3, 5, 2)
    [table] = section.tables
    assert table.rows == [["Malmö stad", 2, 2, 1], ["Migrationsverket", 1, 3, 1]]


def test_visit_days_hosted_and_sent_are_read_in_one_query_and_are_the_lesser_side(
    programme, org_a, org_b, staff_a, staff_b, django_assert_num_queries
):
    from coordinator.core import registry

    today = timezone.localdate()
    host_a = make_member(programme, org_a, R.HOST_CONTACT)
    at_a = WorkplaceFactory(programme=programme, organisation=org_a, contact=host_a)
    first = today - timedelta(days=20)
    for offset in (0, 1, 2):  # org A hosts three days, all sent by org B
        _visit(programme, at_a, staff_b, first + timedelta(days=offset))
    host_b = make_member(programme, org_b, R.HOST_CONTACT)
    at_b = WorkplaceFactory(programme=programme, organisation=org_b, contact=host_b)
    _visit(programme, at_b, staff_a, first + timedelta(days=10))  # org B hosts one day, sent by org A
    ask = registry.MeasureAsk(None, None, first, [first, first + timedelta(days=5), today])

    with programme_scope([programme.pk]), django_assert_num_queries(1):
        [both] = shadowing_reports.days_hosted_and_sent(programme, [ask])
    with programme_scope([programme.pk]):
        [hosted] = shadowing_reports.days_hosted(programme, [ask])
        [sent] = shadowing_reports.days_sent(programme, [ask])

    assert (hosted.by_organisation, hosted.total) == ({org_a.pk: [1, 3, 3], org_b.pk: [0, 0, 1]}, [1, 3, 4])
    assert (sent.by_organisation, sent.total) == ({org_b.pk: [1, 3, 3], org_a.pk: [0, 0, 1]}, [1, 3, 4])
    assert (both.by_organisation, both.total) == ({org_a.pk: [0, 0, 1], org_b.pk: [0, 0, 1]}, [0, 0, 2])


def test_organisations_section_counts_who_joined_by_the_local_day_in_two_queries(
    programme, other_programme, org_a, org_other, django_assert_num_queries
):
    from zoneinfo import ZoneInfo

    from coordinator.core import registry
    from organisations.models import Membership

    utc = ZoneInfo("UTC")
    joined = {
        "just after local midnight on the first day": datetime(2025, 12, 31, 23, 30, tzinfo=utc),
        "the last second of the last local day": datetime(2026, 1, 31, 22, 59, 59, tzinfo=utc),
        "local midnight after the period": datetime(2026, 2, 1, 0, 0, tzinfo=ZoneInfo("Europe/Stockholm")),
        "the last minute before the period": datetime(2025, 12, 31, 22, 59, tzinfo=utc),
    }
    for when in joined.values():
        person = make_member(programme, org_a, R.STAFF)
        Membership.unscoped_objects.filter(person=person).update(joined_at=when)
    stranger = make_member(other_programme, org_other, R.STAFF)
    Membership.unscoped_objects.filter(person=stranger).update(joined_at=datetime(2026, 1, 15, tzinfo=utc))
    provider = dict(registry.report_providers.items())["organisations"]

    with (
        programme_scope([programme.pk]),
        timezone.override(ZoneInfo("Europe/Stockholm")),
        django_assert_num_queries(2),
    ):
        section = provider(programme, date(2026, 1, 1), date(2026, 1, 31))

    figures = _figures(section)
    assert (figures["Active members"], figures["Joined in the period"]) == (4, 2)
    [table] = section.tables
    assert table.rows == [["Migrationsverket", 4, 2]]


def test_targets_on_visit_days_hosted_and_on_hosted_and_sent_share_one_read_of_the_visit_days(
    programme, org_a, org_b, staff_a, staff_b, django_assert_num_queries
):
    from organisations.reports.targets import progress
    from tests.factories.outcomes import target_for

    today = timezone.localdate()
    host_a = make_member(programme, org_a, R.HOST_CONTACT)
    at_a = WorkplaceFactory(programme=programme, organisation=org_a, contact=host_a)
    host_b = make_member(programme, org_b, R.HOST_CONTACT)
    at_b = WorkplaceFactory(programme=programme, organisation=org_b, contact=host_b)
    start = today - timedelta(days=20)
    for offset in (0, 1, 2):  # org A hosts three days, sent by org B
        _visit(programme, at_a, staff_b, start + timedelta(days=offset))
    _visit(programme, at_b, staff_a, start + timedelta(days=3))  # org B hosts one, sent by org A
    since = {"starts_on": today - timedelta(days=30), "deadline": today + timedelta(days=30), "goal": 10}
    hosted = target_for(programme, title="Värdar", measure="shadowing.days_hosted", **since)
    both = target_for(programme, title="Värdar och gäster", measure="shadowing.days_hosted_and_sent", **since)

    with programme_scope([programme.pk]), django_assert_num_queries(2):  # organisations, visit days
        hosted_now, both_now = progress(programme, [hosted, both], today)

    assert [(row.name, row.done, row.needed) for row in hosted_now.organisations] == [
        (org_a.short_name, 3, 10),
        (org_b.short_name, 1, 10),
    ]
    assert (hosted_now.done, hosted_now.needed) == (4, 20)
    assert [(row.done, row.needed) for row in both_now.organisations] == [(1, 10), (1, 10)]
    assert org_a.short_name < org_b.short_name
    assert (both_now.done, both_now.needed) == (2, 20)


def test_each_sections_link_asks_for_the_roles_its_page_requires(programme, period):
    start, end = period
    with programme_scope([programme.pk]):
        sections = [provider(programme, start, end) for _key, provider in registry.report_providers.items()]
    linked = {
        resolve(urlsplit(s.link_url).path).func.view_class: s.link_roles
        for s in sections
        if s is not None and s.link_url
    }
    assert {view.__name__: roles for view, roles in linked.items()} == {
        "OverviewView": frozenset({R.PROGRAMME_ADMIN, R.COORDINATOR}),
        "ReportView": frozenset({R.PROGRAMME_ADMIN, R.COORDINATOR}),
        "GroupListView": frozenset(),
    }
    assert all(frozenset(view.required_roles) == roles for view, roles in linked.items())
