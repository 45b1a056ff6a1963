"""The content stamp (``coordinator.core.content``): renewed by the database on every change of what the
cached pages show, in the writer's transaction; kept when only a live counter moves; never reused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from coordinator.core.models import ContentVersion
from organisations.models import Organisation, Participation, Programme
from seminars.models import Course, Round, Session
from shadowing.models import Slot, Topic, Workplace
from tests.factories.organisations import OrganisationFactory, WorkRoleFactory
from tests.factories.seminars import CourseFactory, RoundFactory, SessionFactory
from tests.factories.shadowing import SlotFactory, TopicFactory, WorkplaceFactory


def stamp(programme: Programme) -> int | None:
    row = ContentVersion.objects.filter(programme_id=programme.pk).first()
    return row.version if row else None


def test_round_watches_every_column_but_the_live_counters() -> None:
    import importlib

    migration = importlib.import_module("seminars.migrations.0007_content_version_triggers")
    columns = {field.column for field in Round._meta.concrete_fields}

    assert columns - set(migration.ROUND_COLUMNS) == {"id", "seats_taken", "reserved_seats_released_at"}
    assert set(migration.ROUND_COLUMNS) <= columns


@pytest.fixture
def world(programme, org_a, host_a_person):
    course = CourseFactory(programme=programme, title="Kurs")
    round_ = RoundFactory(course=course)
    session = SessionFactory(round=round_)
    topic = TopicFactory(programme=programme, name="Ämne")
    workplace = WorkplaceFactory(
        programme=programme, organisation=org_a, contact=host_a_person, topics=[topic]
    )
    return {"course": course, "round": round_, "session": session, "topic": topic, "workplace": workplace}


@pytest.fixture
def host_a_person(programme, org_a, member):
    return member(programme, org_a)


def _writes(programme: Programme, org_a: Organisation) -> list[tuple[str, Callable[[dict[str, Any]], None]]]:
    return [
        (
            "programme",
            lambda w: Programme.unscoped_objects.filter(pk=programme.pk).update(time_zone="Europe/Oslo"),
        ),
        (
            "organisation name",
            lambda w: Organisation.unscoped_objects.filter(pk=org_a.pk).update(name="Nytt namn"),
        ),
        (
            "participation",
            lambda w: Participation.unscoped_objects.create(
                programme=programme, organisation=OrganisationFactory(name="Ny")
            ),
        ),
        ("course", lambda w: Course.unscoped_objects.filter(pk=w["course"].pk).update(description="Ny")),
        ("course providers", lambda w: w["course"].providers.add(org_a)),
        ("course target roles", lambda w: w["course"].target_roles.add(WorkRoleFactory(programme=programme))),
        ("course prerequisites", lambda w: w["course"].prerequisites.add(CourseFactory(programme=programme))),
        ("round", lambda w: Round.unscoped_objects.filter(pk=w["round"].pk).update(capacity=99)),
        ("session", lambda w: Session.unscoped_objects.filter(pk=w["session"].pk).update(title="Dag 1")),
        ("session deleted", lambda w: Session.unscoped_objects.filter(pk=w["session"].pk).delete()),
        ("workplace", lambda w: Workplace.unscoped_objects.filter(pk=w["workplace"].pk).update(city="Lund")),
        (
            "workplace topics",
            lambda w: Workplace.topics.through.objects.filter(workplace_id=w["workplace"].pk).delete(),
        ),
        ("topic", lambda w: Topic.unscoped_objects.filter(pk=w["topic"].pk).update(name="Annat")),
        ("course deleted", lambda w: Course.unscoped_objects.filter(pk=w["course"].pk).delete()),
    ]


def test_every_watched_write_renews_the_stamp(world, programme, org_a):
    seen = [stamp(programme)]

    for name, write in _writes(programme, org_a):
        write(world)
        seen.append(stamp(programme))
        assert seen[-1] not in seen[:-1], name

    assert None not in seen


def test_live_counters_and_other_programmes_keep_the_stamp(
    world, programme, other_programme, org_other, member
):
    round_, workplace = world["round"], world["workplace"]
    slot = SlotFactory(workplace=workplace)
    before, other_before = stamp(programme), stamp(other_programme)

    Round.unscoped_objects.filter(pk=round_.pk).update(
        seats_taken=3, reserved_seats_released_at=timezone.now()
    )
    Slot.unscoped_objects.filter(pk=slot.pk).update(booked=1)
    SlotFactory(workplace=workplace, date=slot.date + timedelta(days=7))
    CourseFactory(programme=other_programme)

    assert stamp(programme) == before
    assert stamp(other_programme) != other_before


def test_a_stamp_of_a_rolled_back_change_never_comes_again(world, programme):
    course = world["course"]
    with pytest.raises(RuntimeError), transaction.atomic():
        Course.unscoped_objects.filter(pk=course.pk).update(title="Ångras")
        rolled_back = stamp(programme)
        raise RuntimeError

    Course.unscoped_objects.filter(pk=course.pk).update(title="Ångras")

    assert stamp(programme) not in {rolled_back, None}


def test_the_triggers_are_in_the_database(world):
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%_content_%'"
            )
            assert cursor.fetchone()[0] == 12 * 3
        else:
            cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgname LIKE '%\\_content'")
            assert cursor.fetchone()[0] == 12
