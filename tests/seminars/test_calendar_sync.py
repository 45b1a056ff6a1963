"""A renamed course reaches every booked calendar; a decline read from a calendar asks to confirm it."""

from __future__ import annotations

import icalendar
import pytest

from coordinator.core.models import CalendarCopy, Notification, OutboundEmail
from organisations.permissions import actor_for
from organisations.services import people
from organisations.services.people_import import people_import
from seminars.services import courses, enrolments

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("scope")]


def _events(person):
    rows = OutboundEmail.unscoped_objects.filter(recipient=person).exclude(ics_method="").order_by("pk")
    return [(row, icalendar.Calendar.from_ical(row.ics_content).walk("VEVENT")[0]) for row in rows]


def test_renamed_course_updates_every_booked_calendar(
    course, round_, session, staff_a, coordinator, as_actor, enrol
):
    enrol(staff_a, round_)

    courses.course_update(actor=as_actor(coordinator), course=course, values={"title": "PTSD – bas"})
    courses.course_update(actor=as_actor(coordinator), course=course, values={"description": "Ny text"})

    sent = _events(staff_a)
    assert [(row.ics_method, str(e["SUMMARY"]), int(e["SEQUENCE"])) for row, e in sent] == [
        ("REQUEST", "PTSD – grundkurs: Dag 1", 0),
        ("REQUEST", "PTSD – bas: Dag 1", 1),
    ]
    assert "To cancel your place, use the platform: http" in sent[0][0].body_text


def test_leaving_a_course_is_worded_for_the_person_not_as_a_cancelled_course(
    round_, session, staff_a, staff_b, as_actor, enrol
):
    enrol(staff_b, round_)
    enrolment = enrol(staff_a, round_)

    enrolments.enrolment_cancel(actor=as_actor(staff_a), enrolment=enrolment)

    row, event = _events(staff_a)[-1]
    assert (row.ics_method, int(event["SEQUENCE"])) == ("CANCEL", 1)
    assert row.subject.startswith(f"[{round_.course.programme.name}] No longer in your calendar: PTSD")
    assert [r.ics_method for r, _e in _events(staff_b)] == ["REQUEST"]


def test_decline_in_calendar_asks_the_person_to_confirm_the_cancellation(
    round_, session, staff_a, as_actor, enrol
):
    from coordinator.core.replies import apply_reply
    from tests.factories.calendar import reply_calendar

    enrol(staff_a, round_)
    copy = CalendarCopy.unscoped_objects.get(person=staff_a)

    outcome = apply_reply(
        message_id="<r1@example.org>", calendar=reply_calendar(copy.uid, staff_a.user.email, "DECLINED", 0)
    )

    assert outcome == "declined"
    assert CalendarCopy.unscoped_objects.get(pk=copy.pk).reply == "DECLINED"
    notice = Notification.unscoped_objects.filter(recipient=staff_a).order_by("-pk").first()
    assert (notice.title, notice.url) == (
        "You declined PTSD – grundkurs (Omgång 1) in your calendar",
        "/seminars/mine/",
    )


def test_name_changed_by_the_people_import_updates_the_booked_calendar(
    programme, programme_admin, round_, session, staff_a, staff_b, enrol, django_capture_on_commit_callbacks
):
    enrol(staff_a, round_)
    enrol(staff_b, round_)
    data = (
        "E-post;Förnamn;Efternamn;Organisation\r\n"
        f"{staff_a.user.email};Anna;Lindqvist;MV\r\n"
        f"{staff_b.user.email};{staff_b.user.first_name};{staff_b.user.last_name};Malmö stad\r\n"
    ).encode()

    with django_capture_on_commit_callbacks(execute=True):
        report = people_import(
            actor=actor_for(programme_admin.user), programme=programme, data=data, dry_run=False
        )

    assert [row.outcome for row in report.rows] == ["update", "unchanged"]
    sent = _events(staff_a)
    assert [(row.ics_method, str(e["UID"]), int(e["SEQUENCE"])) for row, e in sent] == [
        ("REQUEST", str(sent[0][1]["UID"]), 0),
        ("REQUEST", str(sent[0][1]["UID"]), 1),
    ]
    assert (str(sent[1][1]["ATTENDEE"]), sent[1][1]["ATTENDEE"].params["CN"]) == (
        f"mailto:{staff_a.user.email}",
        "Anna Lindqvist",
    )
    assert sent[1][0].subject.startswith(f"[{programme.name}] Updated: PTSD – grundkurs: Dag 1")
    assert [int(e["SEQUENCE"]) for _row, e in _events(staff_b)] == [0]


def test_new_phone_is_in_no_session_and_sends_nothing(
    round_, session, staff_a, enrol, as_actor, django_capture_on_commit_callbacks
):
    enrol(staff_a, round_)

    with django_capture_on_commit_callbacks(execute=True):
        people.person_update(actor=as_actor(staff_a), person=staff_a, values={"phone": "040-123 45 67"})

    assert [int(e["SEQUENCE"]) for _row, e in _events(staff_a)] == [0]
