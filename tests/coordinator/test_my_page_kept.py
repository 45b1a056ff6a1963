"""My page's history kept per person under their stamp (``coordinator.core.personal``):
the same bytes as the page built anew, fewer queries while nothing it shows has changed, every change of
a row it keeps (whoever writes it) seen by the very next request, and nothing of one person or programme
in another's page. The pages recorded on the code before the cache: ``test_my_page_output.py``."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from coordinator.core import personal
from coordinator.core.models import Notification, PersonalStamp
from focusgroups.models import FocusGroup, GroupMembership
from organisations.access.middleware import SESSION_PROGRAMME_KEY
from organisations.models import Membership, Organisation, Person, PlatformRole, Programme
from seminars.models import Completion
from shadowing.models import HostFeedback, Placement, PlacementDay, Reflection, Workplace
from tests.factories import OrganisationFactory, make_member
from tests.factories.focusgroups import FocusGroupFactory, make_group_member
from tests.factories.seminars import CourseFactory
from tests.factories.shadowing import WorkplaceFactory, make_request

pytestmark = [pytest.mark.django_db]
User = get_user_model()
World = dict[str, Any]


def main_of(response: Any) -> str:
    """The page's own part, with the per-request CSRF token written as a dash."""
    assert response.status_code == 200
    html = response.content.decode()
    html = html[html.index('<main id="main"') : html.index("</main>")]
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken" value="-"', html)


def page(client: Client) -> str:
    return main_of(client.get("/me/"))


def built(client: Client) -> str:
    """The page built anew: nothing kept in the process or in the shared cache."""
    personal.RECENT.clear()
    cache.clear()
    return page(client)


@pytest.fixture
def world(programme: Programme, org_a: Organisation, org_b: Organisation, staff_b: Person) -> World:
    """``person`` has a line manager, a course completed without a booking, a visit made with a reflection
    and the host's feedback, and a seat in a focus group; ``staff_b`` of the same programme has their own
    of each (what could leak exists)."""
    boss = make_member(programme, org_a, PlatformRole.LINE_MANAGER)
    User.objects.filter(pk=boss.user_id).update(first_name="Karin", last_name="Lund")
    person = make_member(programme, org_a, PlatformRole.STAFF, line_manager=boss)
    course = CourseFactory(programme=programme, title="Asylprocessen")
    completion = Completion.unscoped_objects.create(
        person=person,
        course=course,
        method=Completion.Method.ATTENDANCE,
        completed_on=date(2026, 5, 4),
    )
    hosting = OrganisationFactory(name="Socialförvaltningen", short_name="SF", programmes=[programme])
    host = make_member(programme, hosting, PlatformRole.HOST_CONTACT)
    workplace = WorkplaceFactory(programme=programme, organisation=hosting, contact=host, name="Mottagningen")
    placement = Placement.unscoped_objects.create(
        programme=programme,
        request=make_request(programme, person),
        workplace=workplace,
        status=Placement.Status.REFLECTED,
        confidentiality_accepted_at=timezone.now(),
    )
    day = PlacementDay.unscoped_objects.create(
        placement=placement, date=date(2026, 6, 2), starts_at=time(9), ends_at=time(15)
    )
    reflection = Reflection.unscoped_objects.create(
        placement=placement, learned="Hur mottagningen arbetar", how_used="I samtal"
    )
    feedback = HostFeedback.unscoped_objects.create(
        placement=placement, feedback="Nyfiken och väl förberedd", author=host
    )
    group = FocusGroupFactory(programme=programme, name="Informationsflödet")
    seat = make_group_member(group, person, joined_at=datetime(2026, 3, 9, 23, 30, tzinfo=UTC))
    # The other person's own history, in the same programme.
    secret = CourseFactory(programme=programme, title="Hemlig kurs")
    Completion.unscoped_objects.create(
        person=staff_b,
        course=secret,
        method=Completion.Method.ATTENDANCE,
        completed_on=date(2026, 5, 5),
    )
    make_group_member(FocusGroupFactory(programme=programme, name="Hemlig grupp"), staff_b)
    return {
        "person": person,
        "boss": boss,
        "course": course,
        "completion": completion,
        "host": host,
        "workplace": workplace,
        "placement": placement,
        "day": day,
        "reflection": reflection,
        "feedback": feedback,
        "group": group,
        "seat": seat,
    }


def test_kept_page_is_byte_for_byte_the_page_built_anew(web, world, staff_b):
    a, b = web(world["person"]), web(staff_b)
    first = [built(a), built(b)]

    kept = [page(a), page(b)]

    assert kept == first
    assert "Asylprocessen" in first[0] and "Mottagningen" in first[0] and "Informationsflödet" in first[0]
    assert "<dt>Line manager</dt><dd>Karin Lund</dd>" in first[0]
    assert "Hur mottagningen arbetar" in first[0] and "Nyfiken och väl förberedd" in first[0]
    assert "Hemlig" not in first[0]
    assert "Hemlig kurs" in first[1] and "Hemlig grupp" in first[1] and "Asylprocessen" not in first[1]


def test_unchanged_page_reads_the_stamp_instead_of_the_history(web, world, django_assert_num_queries):
    client = web(world["person"])
    # Session, user, identity, the person's stamp with the line manager; the visits, their reflections, the
    # hosts' feedback and the visits' days; the completions; the group seats; the programme's competences.
    with django_assert_num_queries(11):
        first = built(client)
    # Session, user, identity, the person's stamp with the line manager, the programme's competences (the
    # line manager and the competences are shown live).
    with django_assert_num_queries(5):
        again = page(client)

    assert again == first


def test_without_a_stamp_nothing_is_kept(web, world, django_assert_num_queries):
    client = web(world["person"])
    first = built(client)
    PersonalStamp.objects.filter(person_id=world["person"].pk).delete()

    with django_assert_num_queries(11):
        again = page(client)
    with django_assert_num_queries(11):
        third = page(client)

    assert again == third == first


def test_the_kept_part_holds_nothing_of_the_request(web, world):
    client = web(world["person"])
    built(client)

    entries = list(personal.RECENT._entries.values())

    assert len(entries) == 1
    kept = entries[0]
    assert kept.startswith('<section aria-labelledby="history-heading">') and kept.endswith("</section>")
    assert "csrf" not in kept and "/calendar/" not in kept and "Karin" not in kept
    assert "Mottagningen" in kept


# --- Every change of what the page keeps is seen by the next request ------------------------------------


def _raw(sql: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _completion_added(world: World) -> None:
    Completion.unscoped_objects.bulk_create(
        [
            Completion(
                person=world["person"],
                course=CourseFactory(programme_id=world["course"].programme_id, title="Samtal med barn"),
                method=Completion.Method.ASSESSMENT,
                completed_on=date(2026, 2, 1),
            )
        ]
    )


def _other_line_manager(world: World) -> None:
    other = make_member(
        Programme.unscoped_objects.get(pk=world["course"].programme_id),
        world["boss"].organisation,
        PlatformRole.LINE_MANAGER,
    )
    User.objects.filter(pk=other.user_id).update(first_name="Per", last_name="Holm")
    Person.unscoped_objects.filter(pk=world["person"].pk).update(line_manager=other)


WRITES: list[tuple[str, Callable[[World], object]]] = [
    ("completion added (bulk_create)", _completion_added),
    (
        "completion's note (update())",
        lambda w: Completion.unscoped_objects.filter(pk=w["completion"].pk).update(note="Med intyg"),
    ),
    ("completion deleted", lambda w: Completion.unscoped_objects.filter(pk=w["completion"].pk).delete()),
    (
        "completed course renamed (raw SQL)",
        lambda w: _raw("UPDATE seminars_course SET title = %s WHERE id = %s", ["Asylrätt", w["course"].pk]),
    ),
    (
        "reflection (update())",
        lambda w: Reflection.unscoped_objects.filter(pk=w["reflection"].pk).update(how_shared="På APT"),
    ),
    (
        "host's feedback (raw SQL)",
        lambda w: _raw(
            "UPDATE shadowing_hostfeedback SET feedback = %s WHERE id = %s",
            ["Välkommen åter", w["feedback"].pk],
        ),
    ),
    ("host's feedback deleted", lambda w: HostFeedback.unscoped_objects.filter(pk=w["feedback"].pk).delete()),
    (
        "visit cancelled",
        lambda w: Placement.unscoped_objects.filter(pk=w["placement"].pk).update(
            status=Placement.Status.CANCELLED
        ),
    ),
    (
        "visit day moved",
        lambda w: PlacementDay.unscoped_objects.filter(pk=w["day"].pk).update(date=date(2026, 6, 3)),
    ),
    (
        "workplace renamed",
        lambda w: Workplace.unscoped_objects.filter(pk=w["workplace"].pk).update(name="Öppenvården"),
    ),
    (
        "workplace's organisation renamed",
        lambda w: Organisation.unscoped_objects.filter(pk=w["workplace"].organisation_id).update(
            name="Socialtjänsten Syd"
        ),
    ),
    (
        "group seat's role",
        lambda w: GroupMembership.unscoped_objects.filter(pk=w["seat"].pk).update(
            role=GroupMembership.Role.OBSERVER
        ),
    ),
    (
        "group seat left",
        lambda w: GroupMembership.unscoped_objects.filter(pk=w["seat"].pk).update(
            left_at=datetime(2026, 9, 1, 12, tzinfo=UTC)
        ),
    ),
    ("group seat deleted", lambda w: GroupMembership.unscoped_objects.filter(pk=w["seat"].pk).delete()),
    (
        "group renamed",
        lambda w: FocusGroup.unscoped_objects.filter(pk=w["group"].pk).update(name="Flödet"),
    ),
    ("another line manager", _other_line_manager),
    (
        "line manager removed",
        lambda w: Person.unscoped_objects.filter(pk=w["person"].pk).update(line_manager=None),
    ),
    (
        "line manager's name (raw SQL)",
        lambda w: _raw("UPDATE auth_user SET last_name = %s WHERE id = %s", ["Ek", w["boss"].user_id]),
    ),
    (
        "line manager erased",
        lambda w: Person.unscoped_objects.filter(pk=w["boss"].pk).update(erased_at=timezone.now()),
    ),
    ("line manager deleted", lambda w: Person.unscoped_objects.filter(pk=w["boss"].pk).delete()),
    (
        "programme's zone",
        lambda w: Programme.unscoped_objects.filter(pk=w["course"].programme_id).update(
            time_zone="Atlantic/Reykjavik"
        ),
    ),
]


@pytest.mark.parametrize(("label", "write"), WRITES, ids=[label for label, _write in WRITES])
def test_a_change_of_what_the_page_keeps_is_seen_by_the_next_request(web, world, staff_b, label, write):
    a, b = web(world["person"]), web(staff_b)
    before, other_before = page(a), page(b)
    assert page(a) == before  # kept

    write(world)
    after = page(a)
    other_after = page(b)

    assert after != before
    assert page(a) == after == built(a)
    assert other_after == built(b)
    # Only the zone of the programme both are in changes the other person's page.
    assert (other_after == other_before) == (label != "programme's zone")


def test_a_change_is_read_once_then_kept_again(web, world, django_assert_num_queries):
    client = web(world["person"])
    page(client)
    Completion.unscoped_objects.filter(pk=world["completion"].pk).update(note="Med intyg")

    with django_assert_num_queries(11):
        after = page(client)
    with django_assert_num_queries(5):
        again = page(client)

    assert "Med intyg" in after and again == after


def test_the_line_manager_is_read_live_beside_the_kept_history(web, world, django_assert_num_queries):
    client = web(world["person"])
    page(client)
    stamp = personal.stamp_of(world["person"].pk)

    User.objects.filter(pk=world["boss"].user_id).update(first_name="Kajsa")
    with django_assert_num_queries(5):
        renamed = page(client)

    assert personal.stamp_of(world["person"].pk) == stamp
    assert "<dt>Line manager</dt><dd>Kajsa Lund</dd>" in renamed
    assert renamed == built(client)


def test_the_unread_count_is_live_on_a_kept_page(web, world, programme):
    client = web(world["person"])
    first = client.get("/me/").content.decode()
    Notification.unscoped_objects.create(
        programme=programme, recipient=world["person"], kind="test", title="Ny"
    )

    html = client.get("/me/").content.decode()

    assert 'id="notification-count" data-count="1">1</span>' in html
    assert 'data-count="1"' not in first
    assert main_of_text(html) == main_of_text(first)


def main_of_text(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html[html.index('<main id="main"') :])


def test_the_renewed_address_and_its_message_are_shown_once(web, world):
    from django.urls import reverse

    client = web(world["person"])
    before = page(client)

    response = client.post(reverse("calendar-rotate"), follow=True)
    shown = response.content.decode()
    later = client.get("/me/").content.decode()

    feed = re.compile(r"/calendar/[^\"<]+\.ics")
    assert "Your calendar address was renewed" in shown
    assert "Your calendar address was renewed" not in later
    assert feed.findall(before)[0] != feed.findall(later)[0]
    assert feed.findall(later)[0] == feed.findall(shown)[0]


def test_the_language_is_part_of_the_key(web, world):
    Person.unscoped_objects.filter(pk=world["person"].pk).update(preferred_language="")
    client = web(world["person"])
    client.cookies["samverkan_language"] = "sv"
    swedish = page(client)
    client.cookies["samverkan_language"] = "en"
    english = page(client)
    english_built = built(client)
    client.cookies["samverkan_language"] = "sv"

    assert "Min historik" in swedish and "My history" in english
    assert english == english_built
    assert page(client) == swedish


# --- Isolation between programmes ---------------------------------------------------------------------


def test_one_persons_pages_in_two_programmes_never_share_an_entry(web, world, other_programme, org_other):
    person = world["person"]
    Membership.unscoped_objects.create(programme=other_programme, person=person)
    there = CourseFactory(programme=other_programme, title="Kurs i Köpenhamn")
    Completion.unscoped_objects.create(
        person=person,
        course=there,
        method=Completion.Method.ATTENDANCE,
        completed_on=date(2026, 4, 1),
    )
    client = web(person)

    def in_programme(programme: Programme) -> str:
        session = client.session
        session[SESSION_PROGRAMME_KEY] = programme.pk
        session.save()
        return page(client)

    here = in_programme(Programme.unscoped_objects.get(pk=world["course"].programme_id))
    away = in_programme(other_programme)

    assert "Asylprocessen" in here and "Kurs i Köpenhamn" not in here
    assert "Kurs i Köpenhamn" in away and "Asylprocessen" not in away
    assert in_programme(Programme.unscoped_objects.get(pk=world["course"].programme_id)) == here
    assert in_programme(other_programme) == away == built(client)


# --- Every table the kept part reads is watched -----------------------------------------------------------

FEED_MIGRATIONS = [
    "coordinator.core.migrations.0007_personal_stamp",
    "organisations.migrations.0014_personal_stamp_triggers",
    "seminars.migrations.0009_personal_stamp_triggers",
    "shadowing.migrations.0011_personal_stamp_triggers",
    "focusgroups.migrations.0008_personal_stamp_triggers",
]
KEPT_TABLES = {
    "shadowing_placement",
    "shadowing_shadowingrequest",
    "shadowing_workplace",
    "organisations_organisation",
    "shadowing_reflection",
    "shadowing_hostfeedback",
    "shadowing_placementday",
    "seminars_completion",
    "seminars_course",
    "focusgroups_groupmembership",
    "focusgroups_focusgroup",
}


def test_every_table_the_kept_part_reads_renews_the_stamp(web, world):
    import importlib

    client = web(world["person"])
    page(client)
    with CaptureQueriesContext(connection) as kept_queries:
        page(client)
    personal.RECENT.clear()
    cache.clear()
    with CaptureQueriesContext(connection) as built_queries:
        page(client)
    kept_sql = {q["sql"] for q in kept_queries}
    # The session's row is read again because the shared cache was emptied.
    read = {
        name
        for q in built_queries
        if q["sql"] not in kept_sql
        for name in re.findall(r'(?:FROM|JOIN) "?(\w+)"?', q["sql"])
    } - {"django_session"}
    watches = [
        w
        for m in FEED_MIGRATIONS + list(personal.MY_PAGE_MIGRATIONS)
        for w in importlib.import_module(m).WATCHES
    ]

    assert read == KEPT_TABLES
    assert read <= {w.table for w in watches}
    assert {w.table for m in personal.MY_PAGE_MIGRATIONS for w in importlib.import_module(m).WATCHES} == {
        "seminars_completion",
        "seminars_course",
        "shadowing_reflection",
        "shadowing_hostfeedback",
        "focusgroups_groupmembership",
    }


# --- Another connection (PostgreSQL) --------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_change_committed_by_another_connection_is_seen(web, postgres_only, world):
    client = web(world["person"])
    before = page(client)

    def write() -> None:
        try:
            Reflection.unscoped_objects.filter(pk=world["reflection"].pk).update(learned="Allt om tolkning")
        finally:
            connection.close()

    writer = threading.Thread(target=write)
    writer.start()
    writer.join()
    after = page(client)

    assert after != before
    assert "Allt om tolkning" in after
    assert after == built(client)


def test_an_unreachable_cache_costs_speed_never_the_page(web, world, settings):
    client = web(world["person"])
    expected = built(client)
    personal.RECENT.clear()
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
        }
    }

    assert page(client) == expected
    assert page(client) == expected
