"""What a row of each seminars API list costs: the model instances built for it.

Each test reads a list, adds two rows and reads it again; the difference is what two more rows build. Each
list reads its page as values and writes it by its serializer's plan (``coordinator.core.plans``), so a row
builds no model instance at all (a group's members neither).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db.models.signals import post_init

from seminars.models import Course, Enrolment, Round
from tests.factories.organisations import UnitFactory, WorkRoleFactory
from tests.factories.seminars import (
    CompletionFactory,
    CourseFactory,
    RoundCostFactory,
    RoundFactory,
    SessionFactory,
    make_enrolment,
)

API = "/api/v1/seminars"
S = Enrolment.Status


@contextmanager
def instances_built() -> Iterator[Counter[str]]:
    built: Counter[str] = Counter()

    def count(sender: Any, **kwargs: Any) -> None:
        built[sender._meta.label] += 1

    post_init.connect(count)
    try:
        yield built
    finally:
        post_init.disconnect(count)


def built_for_two_more_rows(client: Any, path: str, add_two_rows: Callable[[], None]) -> dict[str, int]:
    with instances_built() as before:
        first = client.get(f"{API}/{path}/")
    add_two_rows()
    with instances_built() as after:
        second = client.get(f"{API}/{path}/")
    assert second.json()["count"] == first.json()["count"] + 2
    return dict(after - before)


@pytest.mark.parametrize("path", ["enrolments", "waitlist"])
def test_enrolment_lists_build_no_instance_per_row(api, round_, people_a, coordinator, path):
    first, *others = people_a(3)
    make_enrolment(round_, first, status=S.WAITING)
    client = api(coordinator)
    client.get(f"{API}/{path}/")

    built = built_for_two_more_rows(
        client, path, lambda: [make_enrolment(round_, person, status=S.WAITING) for person in others]
    )

    assert built == {}


def test_completion_list_builds_no_instance_per_row(api, course, people_a, coordinator):
    first, *others = people_a(3)
    CompletionFactory(person=first, course=course)
    client = api(coordinator)
    client.get(f"{API}/completions/")

    built = built_for_two_more_rows(
        client, "completions", lambda: [CompletionFactory(person=person, course=course) for person in others]
    )

    assert built == {}


def test_group_list_builds_no_instance_per_group_or_member(api, round_, people_a, people_b, coordinator):
    Round.unscoped_objects.filter(pk=round_.pk).update(capacity=12)
    a_people, b_people = people_a(2), people_b(2)
    for person in (a_people[0], b_people[0]):
        make_enrolment(round_, person)
    client = api(coordinator)

    def form_groups() -> None:
        response = client.post(f"{API}/rounds/{round_.pk}/form-groups/", {"group_size": 2}, format="json")
        assert response.status_code == 201

    form_groups()
    client.get(f"{API}/groups/")

    def two_more_members() -> None:
        for person in (a_people[1], b_people[1]):
            make_enrolment(round_, person)
        form_groups()

    with instances_built() as before:
        one_group = client.get(f"{API}/groups/").json()
    two_more_members()
    with instances_built() as after:
        two_groups = client.get(f"{API}/groups/").json()

    assert [len(group["members"]) for group in one_group["results"]] == [2]
    assert [len(group["members"]) for group in two_groups["results"]] == [2, 2]
    assert dict(after - before) == {}


def test_round_list_builds_no_instance_per_row(api, course, coordinator):
    RoundFactory(course=course)
    client = api(coordinator)
    client.get(f"{API}/rounds/")

    built = built_for_two_more_rows(client, "rounds", lambda: [RoundFactory(course=course) for _ in range(2)])

    assert built == {}


def test_session_list_builds_no_instance_per_row(api, round_, coordinator):
    SessionFactory(round=round_)
    client = api(coordinator)
    client.get(f"{API}/sessions/")

    built = built_for_two_more_rows(
        client, "sessions", lambda: [SessionFactory(round=round_) for _ in range(2)]
    )

    assert built == {}


def test_cost_list_builds_no_instance_per_row(api, round_, coordinator):
    RoundCostFactory(round=round_)
    client = api(coordinator)
    client.get(f"{API}/costs/")

    built = built_for_two_more_rows(
        client, "costs", lambda: [RoundCostFactory(round=round_) for _ in range(2)]
    )

    assert built == {}


def test_course_list_builds_no_instance_per_row_and_shows_its_relations_ids(
    api, programme, course, provider_org, org_a, coordinator, in_programme
):
    role = WorkRoleFactory(programme=programme)
    unit = UnitFactory(organisation=provider_org)
    client = api(coordinator)
    client.get(f"{API}/courses/")
    made: list[Course] = []

    def two_courses() -> None:
        for title in ("B-kurs", "C-kurs"):
            added = CourseFactory(
                programme=programme,
                title=title,
                providers=[provider_org, org_a],
                target_roles=[role],
                prerequisites=[course],
            )
            with in_programme(programme):
                added.provider_units.set([unit])
            made.append(added)

    built = built_for_two_more_rows(client, "courses", two_courses)
    rows = client.get(f"{API}/courses/").json()["results"]

    providers = [org.pk for org in sorted([provider_org, org_a], key=lambda org: (org.name, org.pk))]
    assert built == {}
    assert [
        (
            row["title"],
            row["programme"],
            row["providers"],
            row["provider_units"],
            row["target_roles"],
            row["prerequisites"],
        )
        for row in rows
    ] == [
        ("B-kurs", programme.pk, providers, [unit.pk], [role.pk], [course.pk]),
        ("C-kurs", programme.pk, providers, [unit.pk], [role.pk], [course.pk]),
        ("PTSD – grundkurs", programme.pk, [provider_org.pk], [], [], []),
    ]
