"""The personal feed answered from the cache under the person's stamp (``coordinator.core.personal``):
the same bytes as the feed built without the cache, one query while nothing it shows has changed, and
every change of a row it shows (whoever writes it) seen by the very next request."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import time, timedelta
from typing import Any

import icalendar
import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.utils import timezone

from coordinator.core.models import CalendarCopy, PersonalStamp
from coordinator.core.personal import stamp_of
from coordinator.core.release import release
from focusgroups.models import AgendaItem, FocusGroup, GroupMembership, Meeting
from organisations.models import (
    Membership,
    Organisation,
    Person,
    PlatformRole,
    Programme,
    calendar_token_digest,
)
from organisations.permissions import actor_for, forget_actor
from organisations.services.people import calendar_token_rotate
from seminars.models import Course, Enrolment, InviteSequence, Round, Session
from shadowing.models import Placement, PlacementDay, ShadowingRequest, Workplace
from tests.factories import OrganisationFactory, make_member
from tests.factories.focusgroups import FocusGroupFactory, MeetingFactory, make_group_member
from tests.factories.seminars import CourseFactory, RoundFactory, SessionFactory, make_enrolment
from tests.factories.shadowing import SlotFactory, WorkplaceFactory, make_request

pytestmark = [pytest.mark.django_db]
User = get_user_model()
World = dict[str, Any]


def feed(client: Client, person: Person) -> Any:
    return client.get(f"/calendar/{person.calendar_token}.ics")


def uncached(client: Client, settings: Any, person: Person) -> bytes:
    """The feed as built without the personal cache (the answer before this cache existed)."""
    settings.CALENDAR_FEED_CACHE = False
    try:
        response = feed(client, person)
    finally:
        settings.CALENDAR_FEED_CACHE = True
    assert response.status_code == 200
    return bytes(response.content)


def uids(content: bytes) -> list[str]:
    return [str(e["UID"]) for e in icalendar.Calendar.from_ical(content).walk("VEVENT")]


@pytest.fixture
def world(
    programme: Programme, org_a: Organisation, org_b: Organisation, staff_a: Person, staff_b: Person
) -> World:
    """Two people of one programme with different bookings, visits and groups (what could leak exists):
    ``staff_a`` visits a workplace of ``org_b`` whose contact is ``host``, is booked on a round of two
    sessions and is in a group with a meeting; ``staff_b`` is booked on another course's round."""
    host = make_member(programme, org_b, PlatformRole.HOST_CONTACT, PlatformRole.STAFF)
    course = CourseFactory(programme=programme, title="Traumamedveten bemötande")
    round_ = RoundFactory(course=course, label="Våren")
    first = SessionFactory(round=round_, title="Grunder")
    second = SessionFactory(round=round_, starts_at=first.starts_at + timedelta(days=1))
    make_enrolment(round_, staff_a)
    other_round = RoundFactory(course=CourseFactory(programme=programme, title="Samtal med barn"))
    other_session = SessionFactory(round=other_round)
    make_enrolment(other_round, staff_b)
    workplace = WorkplaceFactory(programme=programme, organisation=org_b, contact=host, name="Mottagningen")
    slot = SlotFactory(workplace=workplace, date=timezone.localdate() + timedelta(days=20))
    request = make_request(programme, staff_a)
    placement = Placement.unscoped_objects.create(
        programme=programme,
        request=request,
        workplace=workplace,
        status=Placement.Status.CONFIRMED,
        confidentiality_accepted_at=timezone.now(),
    )
    day = PlacementDay.unscoped_objects.create(
        placement=placement, slot=slot, date=slot.date, starts_at=slot.starts_at, ends_at=slot.ends_at
    )
    group = FocusGroupFactory(programme=programme, name="Informationsflöden")
    make_group_member(group, staff_a)
    meeting = MeetingFactory(group=group, title="Uppstart")
    return {
        "host": host,
        "course": course,
        "round": round_,
        "sessions": [first, second],
        "other_session": other_session,
        "workplace": workplace,
        "request": request,
        "placement": placement,
        "day": day,
        "group": group,
        "meeting": meeting,
    }


def test_feed_from_the_cache_is_byte_for_byte_the_feed_built_without_it(
    client, settings, world, staff_a, staff_b
):
    people = [staff_a, staff_b, world["host"]]
    built = [uncached(client, settings, person) for person in people]

    first = [feed(client, person) for person in people]
    again = [feed(client, person) for person in people]

    assert [r.content for r in first] == built
    assert [r.content for r in again] == built
    assert [r["ETag"] for r in again] == [r["ETag"] for r in first]
    assert len(uids(built[0])) == 4  # two sessions, the visit day and the meeting
    assert len(uids(built[1])) == 1
    assert len(uids(built[2])) == 1  # the host contact sees the visit


def test_unchanged_feed_costs_one_query(client, world, staff_a, django_assert_num_queries):
    built = feed(client, staff_a)

    with django_assert_num_queries(1):
        again = feed(client, staff_a)
    with django_assert_num_queries(1):
        not_modified = client.get(f"/calendar/{staff_a.calendar_token}.ics", HTTP_IF_NONE_MATCH=built["ETag"])

    assert (again.status_code, again.content) == (200, built.content)
    assert (not_modified.status_code, not_modified["ETag"]) == (304, built["ETag"])
    # a 304 repeats the 200's Cache-Control and Last-Modified (RFC 9110 15.4.5)
    assert not_modified["Cache-Control"] == built["Cache-Control"] == "private, max-age=300"
    assert not_modified["Last-Modified"] == built["Last-Modified"]


def test_feed_built_costs_the_queries_it_cost_without_the_cache(
    client, settings, world, staff_a, django_assert_num_queries
):
    # The person with their stamp, the memberships, four for the sessions, two for the visits, two for the
    # meetings, and the calendar copies.
    with django_assert_num_queries(11):
        feed(client, staff_a)
    settings.CALENDAR_FEED_CACHE = False
    with django_assert_num_queries(11):
        feed(client, staff_a)


def test_a_new_release_never_meets_a_feed_kept_by_the_code_before(
    client, settings, world, staff_a, django_assert_num_queries
):
    release.cache_clear()
    settings.RELEASE = "before"
    try:
        built = feed(client, staff_a)
        with django_assert_num_queries(1):
            feed(client, staff_a)
        release.cache_clear()
        settings.RELEASE = "after"
        with django_assert_num_queries(11):  # built again
            rebuilt = feed(client, staff_a)
        with django_assert_num_queries(1):
            again = feed(client, staff_a)
    finally:
        release.cache_clear()
    assert rebuilt.content == again.content == built.content


def test_people_of_one_programme_never_share_an_entry(client, settings, world, staff_a, staff_b):
    a_first = feed(client, staff_a).content
    b_first = feed(client, staff_b).content

    assert f"-{world['other_session'].pk}-".encode() not in a_first
    assert uids(b_first) == [f"seminar-session-{world['other_session'].pk}-{staff_b.pk}@samverkan.example"]
    assert (feed(client, staff_a).content, feed(client, staff_b).content) == (a_first, b_first)


# --- Every change of what the feed shows is seen by the next request ------------------------------------


def _copy(world: World, person: Person) -> None:
    session = world["sessions"][0]
    CalendarCopy.unscoped_objects.bulk_create(
        [
            CalendarCopy(
                programme_id=session.programme_id,
                person=person,
                source=f"seminars.round:{session.round_id}",
                key=f"seminars.session:{session.pk}",
                uid=f"seminar-session-{session.pk}-{person.pk}@samverkan.example",
                address=person.email,
                language="en",
                organizer="samordnare@samverkan.example",
                fingerprint="x",
                sequence=7,
                method=CalendarCopy.Method.REQUEST,
                ends_at=session.ends_at,
                changed_at=timezone.now() + timedelta(minutes=3),
            )
        ]
    )


def _agenda(world: World) -> None:
    AgendaItem.unscoped_objects.bulk_create(
        [
            AgendaItem(
                programme_id=world["meeting"].group.programme_id,
                meeting=world["meeting"],
                position=1,
                title="Läget",
            )
        ]
    )


def _sequence(world: World, person: Person) -> None:
    InviteSequence.unscoped_objects.create(
        programme_id=world["sessions"][0].programme_id,
        person=person,
        session=world["sessions"][0],
        sequence=4,
        last_method="REQUEST",
        last_sent_at=timezone.now(),
    )


def _raw(sql: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


WRITES: list[tuple[str, Callable[[World, Person], object]]] = [
    ("calendar copy (bulk_create)", _copy),
    (
        "person's language",
        lambda w, p: Person.unscoped_objects.filter(pk=p.pk).update(preferred_language="sv"),
    ),
    ("user's name", lambda w, p: User.objects.filter(pk=p.user_id).update(first_name="Maj")),
    (
        "membership ended",
        lambda w, p: Membership.unscoped_objects.filter(person=p).update(is_active=False),
    ),
    (
        "programme's zone",
        lambda w, p: Programme.unscoped_objects.filter(pk=w["course"].programme_id).update(
            time_zone="Europe/Helsinki"
        ),
    ),
    (
        "enrolment cancelled",
        lambda w, p: Enrolment.unscoped_objects.filter(person=p).update(status=Enrolment.Status.CANCELLED),
    ),
    ("invite sequence", _sequence),
    (
        "session moved (raw SQL)",
        lambda w, p: _raw(
            "UPDATE seminars_session SET starts_at = %s WHERE id = %s",
            [w["sessions"][1].starts_at - timedelta(hours=1), w["sessions"][1].pk],
        ),
    ),
    ("session deleted", lambda w, p: Session.unscoped_objects.filter(pk=w["sessions"][1].pk).delete()),
    ("round renamed", lambda w, p: Round.unscoped_objects.filter(pk=w["round"].pk).update(label="Hösten")),
    (
        "course renamed",
        lambda w, p: Course.unscoped_objects.filter(pk=w["course"].pk).update(title="Bemötande"),
    ),
    (
        "group membership ended",
        lambda w, p: GroupMembership.unscoped_objects.filter(person=p).update(
            is_active=False, left_at=timezone.now()
        ),
    ),
    (
        "group renamed",
        lambda w, p: FocusGroup.unscoped_objects.filter(pk=w["group"].pk).update(name="Flöden"),
    ),
    ("meeting moved", lambda w, p: Meeting.unscoped_objects.filter(pk=w["meeting"].pk).update(place="Rum 9")),
    ("agenda item added (bulk_create)", lambda w, p: _agenda(w)),
    (
        "placement changed",
        lambda w, p: Placement.unscoped_objects.filter(pk=w["placement"].pk).update(sequence=3),
    ),
    (
        "visit day moved",
        lambda w, p: PlacementDay.unscoped_objects.filter(pk=w["day"].pk).update(ends_at=time(16)),
    ),
    (
        "request's organisation",
        lambda w, p: ShadowingRequest.unscoped_objects.filter(pk=w["request"].pk).update(
            organisation=OrganisationFactory(name="Tolkcentralen Syd")
        ),
    ),
    (
        "workplace's address",
        lambda w, p: Workplace.unscoped_objects.filter(pk=w["workplace"].pk).update(
            street_address="Torget 1"
        ),
    ),
    (
        "workplace's organisation renamed",
        lambda w, p: Organisation.unscoped_objects.filter(pk=w["workplace"].organisation_id).update(
            name="Socialtjänsten"
        ),
    ),
    (
        "host contact's phone",
        lambda w, p: Person.unscoped_objects.filter(pk=w["host"].pk).update(phone="040-123"),
    ),
    ("host contact's name", lambda w, p: User.objects.filter(pk=w["host"].user_id).update(last_name="Ek")),
]


@pytest.mark.parametrize(("label", "write"), WRITES, ids=[label for label, _write in WRITES])
def test_a_change_of_what_the_feed_shows_is_seen_by_the_next_request(
    client, settings, world, staff_a, staff_b, label, write
):
    before = feed(client, staff_a).content
    other_before = feed(client, staff_b).content

    write(world, staff_a)
    after = feed(client, staff_a).content

    assert after != before
    assert after == uncached(client, settings, staff_a)
    assert feed(client, staff_a).content == after
    other_after = feed(client, staff_b).content
    assert other_after == uncached(client, settings, staff_b)
    # Only the zone of the programme both are in changes the other person's feed.
    assert (other_after == other_before) == (label != "programme's zone")


def test_a_booking_through_the_service_is_in_the_next_feed(client, settings, world, staff_a, in_programme):
    from seminars.services import enrolments

    before = feed(client, staff_a).content
    new_round = RoundFactory(course=CourseFactory(programme=world["course"].programme), label="Hösten")
    session = SessionFactory(round=new_round)
    assert feed(client, staff_a).content == before  # a round the person is not booked on

    with in_programme(world["course"].programme):
        forget_actor(staff_a.user)
        enrolments.enrolment_create(actor=actor_for(staff_a.user), round=new_round)
    after = feed(client, staff_a).content

    assert f"seminar-session-{session.pk}-{staff_a.pk}@samverkan.example" in uids(after)
    assert after == uncached(client, settings, staff_a)


def _admin_form_data(page: Any) -> dict[str, Any]:
    """What the admin's change form posts back unchanged: its fields and its inlines' management forms."""
    data: dict[str, Any] = {}
    forms = [page.context["adminform"].form]
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        forms.extend(formset.forms)
        management = formset.management_form
        data.update({management.add_prefix(n): management[n].value() for n in management.fields})
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False:
                continue
            data[form.add_prefix(name)] = value
    return data


def test_an_organisation_renamed_in_the_admin_is_in_the_next_feed(
    client, settings, web, world, staff_a, org_a
):
    operator = make_member(world["course"].programme, org_a, PlatformRole.STAFF)
    User.objects.filter(pk=operator.user_id).update(is_superuser=True, is_staff=True)
    address = f"/admin/organisations/organisation/{world['workplace'].organisation_id}/change/"
    before = feed(client, staff_a).content
    admin = web(operator)
    data = _admin_form_data(admin.get(address))

    posted = admin.post(address, {**data, "name": "Socialtjänsten Norr"})
    after = feed(client, staff_a).content

    assert posted.status_code == 302
    assert b"Socialtj\xc3\xa4nsten Norr" in after and b"Norr" not in before
    assert after == uncached(client, settings, staff_a)


def test_a_new_request_without_a_placement_renews_no_stamp(world, staff_a, programme):
    before = stamp_of(staff_a.pk)

    make_request(programme, staff_a)

    assert stamp_of(staff_a.pk) == before


def test_seats_taken_of_a_round_renew_no_stamp(world, staff_a):
    before = stamp_of(staff_a.pk)

    Round.unscoped_objects.filter(pk=world["round"].pk).update(seats_taken=5)

    assert stamp_of(staff_a.pk) == before != 0


def test_a_stamp_is_never_reused_after_a_rollback(world, staff_a):
    from django.db import transaction

    before = stamp_of(staff_a.pk)
    with pytest.raises(RuntimeError), transaction.atomic():
        Round.unscoped_objects.filter(pk=world["round"].pk).update(label="Rullas tillbaka")
        during = stamp_of(staff_a.pk)
        raise RuntimeError
    Round.unscoped_objects.filter(pk=world["round"].pk).update(label="Sparas")

    assert len({before, during, stamp_of(staff_a.pk)}) == 3


# --- The address and the account --------------------------------------------------------------------------


def test_renewed_address_stops_the_cached_feed_at_once(client, world, staff_a, in_programme):
    old_token = staff_a.calendar_token
    assert feed(client, staff_a).status_code == 200

    with in_programme(world["course"].programme):
        new_token = calendar_token_rotate(actor=actor_for(staff_a.user), person=staff_a)

    assert client.get(f"/calendar/{old_token}.ics").status_code == 404
    assert client.get(f"/calendar/{new_token}.ics").status_code == 200


def test_an_address_from_before_hashing_is_served_from_the_cache_too(
    client, settings, world, staff_a, django_assert_num_queries
):
    old_token = "an-address-from-before-tokens-were-hashed-0123456789"
    Person.unscoped_objects.filter(pk=staff_a.pk).update(
        legacy_calendar_token_hash=calendar_token_digest(old_token)
    )
    built = client.get(f"/calendar/{old_token}.ics")

    with django_assert_num_queries(2):  # the current addresses, then the earlier ones
        again = client.get(f"/calendar/{old_token}.ics")
    with django_assert_num_queries(2):
        unknown = client.get("/calendar/not-a-real-token.ics")

    assert (built.status_code, again.status_code, unknown.status_code) == (200, 200, 404)
    assert again.content == built.content == uncached(client, settings, staff_a)


def test_deactivated_account_stops_the_cached_feed_at_once(client, world, staff_a):
    assert feed(client, staff_a).status_code == 200

    User.objects.filter(pk=staff_a.user_id).update(is_active=False)

    assert feed(client, staff_a).status_code == 404


# --- The clock ------------------------------------------------------------------------------------------


def test_a_session_leaves_the_cached_feed_when_it_ages_out(client, settings, programme, staff_a):
    import time as clock

    settings.SEMINARS_FEED_PAST_DAYS = 30
    round_ = RoundFactory(course=CourseFactory(programme=programme))
    ends = timezone.now() - timedelta(days=30) + timedelta(seconds=2)
    session = SessionFactory(round=round_, starts_at=ends - timedelta(hours=2), ends_at=ends)
    kept = SessionFactory(round=round_, starts_at=timezone.now() + timedelta(days=3))
    make_enrolment(round_, staff_a)
    present = uids(feed(client, staff_a).content)
    clock.sleep(max(0.0, (ends + timedelta(days=30) - timezone.now()).total_seconds()) + 0.5)

    later = feed(client, staff_a).content

    assert present == [f"seminar-session-{s.pk}-{staff_a.pk}@samverkan.example" for s in (session, kept)]
    assert uids(later) == [f"seminar-session-{kept.pk}-{staff_a.pk}@samverkan.example"]
    assert later == uncached(client, settings, staff_a)


# --- Another connection (PostgreSQL) --------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_change_committed_by_another_connection_is_seen(client, postgres_only, settings, world, staff_a):
    before = feed(client, staff_a).content

    def write() -> None:
        try:
            Session.unscoped_objects.filter(pk=world["sessions"][0].pk).update(place="Sal 12")
        finally:
            connection.close()

    writer = threading.Thread(target=write)
    writer.start()
    writer.join()
    after = feed(client, staff_a).content

    assert after != before
    assert b"Sal 12" in after
    assert after == uncached(client, settings, staff_a)
    assert PersonalStamp.objects.filter(person_id=staff_a.pk).count() == 1


# --- Every table the feed reads is watched --------------------------------------------------------------

# Read by the feed but never shown in it: the person's unit and organisation (the actor's), their roles.
NOT_SHOWN = {"organisations_unit", "organisations_roleassignment", "coordinator_personalstamp"}
MIGRATIONS = [
    "coordinator.core.migrations.0007_personal_stamp",
    "organisations.migrations.0014_personal_stamp_triggers",
    "seminars.migrations.0009_personal_stamp_triggers",
    "shadowing.migrations.0011_personal_stamp_triggers",
    "focusgroups.migrations.0008_personal_stamp_triggers",
]


def test_every_table_the_feed_reads_renews_the_stamp(client, settings, world, staff_a):
    import importlib
    import re

    from django.test.utils import CaptureQueriesContext

    settings.CALENDAR_FEED_CACHE = False
    with CaptureQueriesContext(connection) as queries:
        feed(client, staff_a)
    read = {name for q in queries for name in re.findall(r'(?:FROM|JOIN) "?(\w+)"?', q["sql"])}
    watched = {w.table for m in MIGRATIONS for w in importlib.import_module(m).WATCHES}

    assert read - NOT_SHOWN == watched
    assert len(watched) == 19
