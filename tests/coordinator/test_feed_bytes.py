"""The personal feed's bytes, pinned: the feeds of several people (Swedish, Danish and English; bookings,
visits as shadower and as host, meetings, cancelled bookings and meetings, calendar copies with their own
SEQUENCE, a renewed address, an empty feed) are compared byte for byte with the feeds the code wrote before
the feed was built from kept parts (``tests/coordinator/feeds/``, recorded with that code).

Every row is created with fixed keys, names and times, so the bytes depend on the code alone; only DTSTAMP
(the moment the feed was written) is read from the answer and must be the same in every event. The events
lie in 2029-2030, so the VTIMEZONE (which runs to the year after the later of the last event and today)
is the same until 2031."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.test import Client

from coordinator.core.feed_text import EVENTS
from coordinator.core.models import CalendarCopy
from coordinator.core.tenancy import programme_scope
from focusgroups.models import AgendaItem, GroupMembership, Meeting
from organisations.models import Membership, Person, PlatformRole, Programme, RoleAssignment
from organisations.permissions import actor_for, forget_actor
from organisations.services.people import calendar_token_rotate
from seminars.models import Enrolment, InviteSequence, Session
from shadowing.models import Placement, PlacementDay, Workplace
from tests.factories import OrganisationFactory
from tests.factories.focusgroups import FocusGroupFactory, MeetingFactory, make_group_member
from tests.factories.organisations import PersonFactory, ProgrammeFactory, UserFactory
from tests.factories.seminars import CourseFactory, RoundFactory, SessionFactory, make_enrolment
from tests.factories.shadowing import SlotFactory, WorkplaceFactory, make_request

pytestmark = [pytest.mark.django_db]
User = get_user_model()

FEEDS = Path(__file__).parent / "feeds"
# Set to record the files anew (only with the code whose bytes are the reference).
RECORD = os.environ.get("SAMVERKAN_RECORD_FEEDS") == "1"
CHANGED = datetime(2030, 1, 10, 9, 30, 15, tzinfo=UTC)
DTSTAMP = re.compile(rb"\r\nDTSTAMP:(\d{8}T\d{6}Z)\r\n")


def _person(pk: int, programme: Programme, organisation: Any, first: str, last: str, language: str) -> Person:
    user = UserFactory(
        id=pk, username=f"p{pk}", first_name=first, last_name=last, email=f"{first.lower()}@feed.example"
    )
    person = PersonFactory(id=pk, user=user, organisation=organisation, preferred_language=language, phone="")
    membership = Membership.unscoped_objects.create(id=pk, programme=programme, person=person)
    RoleAssignment.unscoped_objects.create(membership=membership, role=PlatformRole.STAFF)
    return person


def _session(pk: int, round_: Any, day: date, hour: int, **kwargs: Any) -> Session:
    starts = datetime.combine(day, time(hour), tzinfo=UTC)
    session: Session = SessionFactory(
        id=pk, round=round_, starts_at=starts, ends_at=starts.replace(hour=hour + 6), **kwargs
    )
    return session


@pytest.fixture
def people() -> dict[str, Person]:
    """Two programmes (Malmö in Swedish, Copenhagen in Danish); Anna (sv) books, visits and meets, Bo (da)
    hosts Anna's visit and books in Copenhagen too, Cecilia (en) books and renews her address, Dag has
    nothing in his feed."""
    malmo = ProgrammeFactory(id=7101, name="Samverkan Malmö", slug="feed-malmo", language="sv")
    copenhagen = ProgrammeFactory(
        id=7102, name="Samverkan København", slug="feed-kbh", language="da", time_zone="Europe/Copenhagen"
    )
    agency = OrganisationFactory(id=7111, name="Migrationsverket", short_name="MV", programmes=[malmo])
    city = OrganisationFactory(id=7112, name="Malmö stad", short_name="MS", programmes=[malmo, copenhagen])
    anna = _person(7121, malmo, agency, "Anna", "Ek", "sv")
    bo = _person(7122, malmo, city, "Bo", "Lund", "da")
    Membership.unscoped_objects.create(id=7126, programme=copenhagen, person=bo)
    cecilia = _person(7123, malmo, agency, "Cecilia", "Berg", "en")
    dag = _person(7124, malmo, agency, "Dag", "Holm", "sv")

    course = CourseFactory(id=7131, programme=malmo, title="Traumamedvetet bemötande")
    spring = RoundFactory(id=7141, course=course, label="Våren")
    _session(7151, spring, date(2030, 3, 4), 8, title="Grunder")
    _session(7152, spring, date(2030, 3, 5), 8, title="", place="", online_url="https://möte.example/a;b,c")
    autumn = RoundFactory(
        id=7142, label="Hösten", course=CourseFactory(id=7132, programme=malmo, title="Samtal med barn")
    )
    _session(7153, autumn, date(2030, 9, 2), 9, title="Samtal, del 1\nmed övningar")
    make_enrolment(spring, anna)
    make_enrolment(spring, cecilia)
    make_enrolment(autumn, anna, status=Enrolment.Status.CANCELLED)
    make_enrolment(autumn, cecilia)
    danish = RoundFactory(
        id=7143, label="Forår", course=CourseFactory(id=7133, programme=copenhagen, title="Dansk kursus")
    )
    _session(7154, danish, date(2030, 6, 10), 7, place="Rådhuspladsen 1, København")
    make_enrolment(danish, bo)
    InviteSequence.unscoped_objects.create(
        programme=malmo, person=anna, session_id=7151, sequence=3, last_method="REQUEST", last_sent_at=CHANGED
    )

    workplace = WorkplaceFactory(
        id=7161, programme=malmo, organisation=city, contact=bo, name="Mottagningen; Väster"
    )
    slots = [SlotFactory(id=7171 + n, workplace=workplace, date=date(2030, 4, 8 + n)) for n in range(2)]
    request = make_request(malmo, anna, id=7181)
    placement = Placement.unscoped_objects.create(
        id=7191,
        programme=malmo,
        request=request,
        workplace=workplace,
        status=Placement.Status.CONFIRMED,
        confidentiality_accepted_at=CHANGED,
        sequence=2,
    )
    for n, slot in enumerate(slots):
        PlacementDay.unscoped_objects.create(
            id=7201 + n, placement=placement, slot=slot, date=slot.date, starts_at=time(9), ends_at=time(15)
        )

    group = FocusGroupFactory(id=7211, programme=malmo, name="Informationsflöden", code="feed-flow")
    make_group_member(group, anna)
    make_group_member(group, cecilia, is_active=False, left_at=CHANGED)
    held = MeetingFactory(
        id=7221,
        group=group,
        title="Uppstart",
        starts_at=datetime(2030, 2, 1, 12, tzinfo=UTC),
        ends_at=datetime(2030, 2, 1, 14, tzinfo=UTC),
        sequence=1,
    )
    AgendaItem.unscoped_objects.create(programme=malmo, meeting=held, position=1, title="Läget, nu")
    MeetingFactory(
        id=7222,
        group=group,
        title="Inställt",
        starts_at=datetime(2030, 2, 8, 12, tzinfo=UTC),
        ends_at=datetime(2030, 2, 8, 14, tzinfo=UTC),
        status=Meeting.Status.CANCELLED,
    )
    CalendarCopy.unscoped_objects.bulk_create(
        [
            CalendarCopy(
                programme=malmo,
                person=anna,
                source="seminars.round:7141",
                key="seminars.session:7151",
                uid="seminar-session-7151-7121@samverkan.example",
                address=anna.email,
                language="sv",
                organizer="samordnare@samverkan.example",
                fingerprint="x",
                sequence=5,
                method=CalendarCopy.Method.REQUEST,
                ends_at=datetime(2030, 3, 4, 14, tzinfo=UTC),
                changed_at=datetime(2030, 1, 20, 8, tzinfo=UTC),
            ),
            CalendarCopy(
                programme=malmo,
                person=anna,
                source="focusgroups.meeting:7222",
                key="focusgroups.meeting:7222",
                uid="focusgroup-meeting-7222-7121@samverkan.example",
                address=anna.email,
                language="sv",
                organizer="samordnare@samverkan.example",
                fingerprint="y",
                sequence=2,
                method=CalendarCopy.Method.CANCEL,
                ends_at=datetime(2030, 2, 8, 14, tzinfo=UTC),
                changed_at=datetime(2030, 1, 25, 8, tzinfo=UTC),
            ),
        ]
    )
    # What the rows' own clocks would say differs from run to run: fixed, as the feed shows them.
    Session.unscoped_objects.filter(pk__in=[7151, 7152, 7153, 7154]).update(updated_at=CHANGED)
    Placement.unscoped_objects.filter(pk=7191).update(updated_at=CHANGED)
    Meeting.unscoped_objects.filter(pk__in=[7221, 7222]).update(updated_at=CHANGED)
    GroupMembership.unscoped_objects.filter(group=group).update(joined_at=CHANGED)
    return {"anna": anna, "bo": bo, "cecilia": cecilia, "dag": dag}


def _body(response: Any) -> tuple[bytes, str]:
    """The answer with its DTSTAMP written as a fixed moment (every event must carry the same one)."""
    assert response.status_code == 200
    content: bytes = response.content
    stamps = set(DTSTAMP.findall(content))
    assert len(stamps) <= 1
    return DTSTAMP.sub(b"\r\nDTSTAMP:20300101T000000Z\r\n", content), response["ETag"]


def _check(name: str, content: bytes) -> None:
    path = FEEDS / (name if name.endswith(".etag") else f"{name}.ics")
    if RECORD:
        FEEDS.mkdir(exist_ok=True)
        path.write_bytes(content)
    assert content == path.read_bytes()


@pytest.mark.parametrize("cache", [True, False], ids=["cached", "uncached"])
def test_the_feeds_are_byte_for_byte_as_recorded(client: Client, settings: Any, people, cache, in_programme):
    settings.CALENDAR_FEED_CACHE = cache
    cecilia = people["cecilia"]
    with in_programme(Programme.unscoped_objects.get(pk=7101)):
        token = calendar_token_rotate(actor=actor_for(cecilia.user), person=cecilia)

    feeds = {
        name: _body(client.get(f"/calendar/{person.calendar_token}.ics"))
        for name, person in people.items()
        if name != "cecilia"
    }
    feeds["cecilia"] = _body(client.get(f"/calendar/{token}.ics"))
    again = {
        name: _body(client.get(f"/calendar/{p.calendar_token}.ics"))
        for name, p in people.items()
        if name != "cecilia"
    }

    for name, (content, etag) in feeds.items():
        _check(name, content)
        _check(f"{name}.etag", etag.encode())
    assert {name: feeds[name] for name in again} == again
    assert [content.count(b"BEGIN:VEVENT") for content, _etag in feeds.values()] == [5, 3, 0, 3]


# --- A feed written from kept parts after a change is the feed written from nothing ---------------------


def _raw(sql: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _book_through_the_service(people: dict[str, Person]) -> None:
    from seminars.services import enrolments

    malmo = Programme.unscoped_objects.get(pk=7101)
    round_ = RoundFactory(
        id=7144, label="Sommaren", course=CourseFactory(id=7134, programme=malmo, title="Tolk")
    )
    _session(7155, round_, date(2030, 7, 1), 8)
    anna = people["anna"]
    with programme_scope([malmo.pk]):
        forget_actor(anna.user)
        enrolments.enrolment_create(actor=actor_for(anna.user), round=round_)


FEED_WRITES: dict[str, Callable[[dict[str, Person]], object]] = {
    "session renamed (update)": lambda p: Session.unscoped_objects.filter(pk=7151).update(
        title="Fördjupning"
    ),
    "session moved (raw SQL)": lambda p: _raw(
        "UPDATE seminars_session SET starts_at = %s, ends_at = %s WHERE id = %s",
        [datetime(2030, 3, 4, 9, tzinfo=UTC), datetime(2030, 3, 4, 13, tzinfo=UTC), 7152],
    ),
    "session's place (update)": lambda p: Session.unscoped_objects.filter(pk=7151).update(place="Sal 12"),
    "booking cancelled (update)": lambda p: Enrolment.unscoped_objects.filter(
        person=p["anna"], round_id=7141
    ).update(status=Enrolment.Status.CANCELLED),
    "booking through the service": _book_through_the_service,
    "invite sequence raised (update)": lambda p: InviteSequence.unscoped_objects.filter(
        person=p["anna"]
    ).update(sequence=9),
    "calendar copy renewed (update)": lambda p: CalendarCopy.unscoped_objects.filter(
        uid="seminar-session-7151-7121@samverkan.example"
    ).update(sequence=8, changed_at=datetime(2030, 2, 20, 8, tzinfo=UTC)),
    "meeting cancelled (update)": lambda p: Meeting.unscoped_objects.filter(pk=7221).update(
        status=Meeting.Status.CANCELLED
    ),
    "meeting moved (raw SQL)": lambda p: _raw(
        "UPDATE focusgroups_meeting SET place = %s, sequence = %s WHERE id = %s", ["Rum 9", 2, 7221]
    ),
    "visit's sequence (update)": lambda p: Placement.unscoped_objects.filter(pk=7191).update(sequence=3),
    "visit day's hours (update)": lambda p: PlacementDay.unscoped_objects.filter(pk=7202).update(
        ends_at=time(12)
    ),
    "workplace's address (update)": lambda p: Workplace.unscoped_objects.filter(pk=7161).update(
        street_address="Torget 1"
    ),
    "host contact's name (update)": lambda p: User.objects.filter(pk=7122).update(last_name="Strand"),
    "person's language (update)": lambda p: Person.unscoped_objects.filter(pk=7121).update(
        preferred_language="en"
    ),
}


@pytest.mark.parametrize("write", list(FEED_WRITES), ids=list(FEED_WRITES))
def test_a_feed_written_from_kept_parts_is_the_feed_written_from_nothing(client: Client, people, write):
    anna, bo = people["anna"], people["bo"]
    before = [_body(client.get(f"/calendar/{p.calendar_token}.ics"))[0] for p in (anna, bo)]

    FEED_WRITES[write](people)
    after = [_body(client.get(f"/calendar/{p.calendar_token}.ics"))[0] for p in (anna, bo)]
    EVENTS.clear()
    cache.clear()
    from_nothing = [_body(client.get(f"/calendar/{p.calendar_token}.ics"))[0] for p in (anna, bo)]

    assert after == from_nothing
    assert after[0] != before[0]
