"""The shadowing and focus-group sections of the programme barometer: exact figures for a period, with data
of another programme and outside the period present."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

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
