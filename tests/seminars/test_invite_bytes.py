"""A booking's invites, updates and cancellations byte for byte: the outbox rows (subject, text, calendar)
and the calendar copies written, in Swedish, Danish and English, for a round of several sessions, compared
with a recorded copy (``recorded/invites.json``).

Only what differs from run to run is written as a name: the row ids (session, person, round) and the
moments of sending (DTSTAMP, LAST-MODIFIED, the copies' time of change), and the copies' fingerprints
(hashes over text with ids in it: equal ones keep one name). Calendar lines are compared
unfolded, since an id's number of digits moves the folds; every line is checked to be folded.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from coordinator.core.models import CalendarCopy, OutboundEmail
from organisations.models import Person
from seminars import invites
from seminars.models import Enrolment, InviteSequence, Round, Session
from seminars.services.enrolments import _booking_invites
from tests.factories.seminars import SessionFactory, make_enrolment

pytestmark = pytest.mark.usefixtures("scope")
RECORDED = Path(__file__).parent / "recorded" / "invites.json"
STOCKHOLM = ZoneInfo("Europe/Stockholm")
_MOMENT_LINE = re.compile(rb"^(DTSTAMP|LAST-MODIFIED):\d{8}T\d{6}Z$")


@pytest.fixture
def setting(programme: Any, round_: Round, people_a: Any) -> tuple[Round, list[Session], list[Person]]:
    type(programme).objects.filter(pk=programme.pk).update(
        coordinator_email="Kurs.Samordnare@Programme.example"
    )
    round_.information = "Ta med: anteckningsblock; penna, och frågor\nRad två"
    round_.save()
    start = datetime(2030, 3, 12, 9, 0, tzinfo=STOCKHOLM)
    sessions = [
        SessionFactory(round=round_, title="Dag 1", starts_at=start, ends_at=start + timedelta(hours=7)),
        SessionFactory(
            round=round_,
            title="",
            starts_at=start + timedelta(days=1),
            ends_at=start + timedelta(days=1, hours=3, minutes=30),
            place="",
            online_url="https://meet.example/abc?x=1",
        ),
        SessionFactory(
            round=round_,
            title="Uppföljning",
            starts_at=datetime(2030, 10, 29, 13, 0, tzinfo=STOCKHOLM),  # after the change to winter time
            ends_at=datetime(2030, 10, 29, 16, 0, tzinfo=STOCKHOLM),
        ),
    ]
    names = [("Åsa", "Öberg", "sv"), ("Søren", "Kierkegård", "da"), ("Mary", "O'Neil, Jr.", "en")]
    people = people_a(3)
    for n, (person, (first, last, language)) in enumerate(zip(people, names, strict=True)):
        get_user_model().objects.filter(pk=person.user_id).update(
            first_name=first, last_name=last, email=f"Person.{n}@Region-Skåne.example"
        )
        Person.unscoped_objects.filter(pk=person.pk).update(preferred_language=language)
        make_enrolment(round_, person)
    # A SEQUENCE sent before the reconciler: the floor of the Danish person's first message of day 1.
    InviteSequence.objects.create(
        person=people[1], session=sessions[0], sequence=4, last_method="REQUEST", last_sent_at=start
    )
    fresh = [Person.unscoped_objects.select_related("user").get(pk=p.pk) for p in people]
    return round_, sessions, fresh


def _names(round_: Round, sessions: list[Session], people: list[Person]) -> dict[bytes, bytes]:
    names = {
        f"seminar-session-{s.pk}-{p.pk}@".encode(): f"seminar-session-S{i}-P{j}@".encode()
        for i, s in enumerate(sessions)
        for j, p in enumerate(people)
    }
    path = reverse("seminars:round-detail", kwargs={"pk": round_.pk}).encode()
    names[path] = path.replace(str(round_.pk).encode(), b"ROUND")
    names[f"seminars.session:{sessions[0].pk}".encode()] = b"seminars.session:S0"
    names[f"seminars.session:{sessions[1].pk}".encode()] = b"seminars.session:S1"
    names[f"seminars.session:{sessions[2].pk}".encode()] = b"seminars.session:S2"
    names[f"seminars.round:{round_.pk}".encode()] = b"seminars.round:ROUND"
    return names


def _named(text: str, names: dict[bytes, bytes]) -> str:
    raw = text.encode()
    for value, name in names.items():
        raw = raw.replace(value, name)
    return raw.decode()


def _calendar_lines(ics: str, names: dict[bytes, bytes]) -> list[str]:
    raw = ics.encode()
    assert raw.endswith(b"\r\n") and raw.count(b"\r\n") == raw.count(b"\n")
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))
    unfolded = raw.replace(b"\r\n ", b"")
    lines = []
    for line in unfolded.split(b"\r\n")[:-1]:
        match = _MOMENT_LINE.match(line)
        lines.append(match.group(1).decode() + ":MOMENT" if match else _named(line.decode(), names))
    return lines


def _written(
    round_: Round, sessions: list[Session], people: list[Person], since: int, prints: dict[str, str]
) -> dict[str, Any]:
    names = _names(round_, sessions, people)
    order = {p.pk: j for j, p in enumerate(people)}
    mails = [
        {
            "to": row.to_address,
            "person": order[row.recipient_id],
            "kind": row.kind,
            "subject": _named(row.subject, names),
            "body_text": _named(row.body_text, names),
            "body_html": _named(row.body_html, names),
            "method": row.ics_method,
            "calendar": _calendar_lines(row.ics_content, names),
        }
        for row in OutboundEmail.unscoped_objects.filter(pk__gt=since).order_by("pk")
    ]
    copies = [
        {
            "person": order[c.person_id],
            "uid": _named(c.uid, names),
            "source": _named(c.source, names),
            "key": _named(c.key, names),
            "organizer": c.organizer,
            "address": c.address,
            "language": c.language,
            # A hash over text with ids in it: named in the order first seen, so equal stays equal.
            "fingerprint": c.fingerprint,
            "sequence": c.sequence,
            "method": c.method,
            "content": json.loads(_named(json.dumps(c.content, sort_keys=True), names)),
            "ends_at": c.ends_at.isoformat(),
            "reply": c.reply,
        }
        for c in CalendarCopy.objects.all()
    ]
    copies.sort(key=lambda c: (c["person"], c["uid"]))
    for copy in copies:
        # A hash over text with ids in it: named in the order first seen, so equal ones keep one name.
        copy["fingerprint"] = prints.setdefault(copy["fingerprint"], f"F{len(prints)}")
    return {"mails": mails, "copies": copies}


def _last_mail() -> int:
    return OutboundEmail.unscoped_objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def test_booking_invites_updates_and_cancellations_are_the_recorded_bytes(setting: Any) -> None:
    round_, sessions, people = setting
    steps: dict[str, Any] = {}
    prints: dict[str, str] = {}

    mark = _last_mail()
    assert _booking_invites(round_.pk, [p.pk for p in people]) == 9
    steps["invites"] = _written(round_, sessions, people, mark, prints)

    mark = _last_mail()
    Session.objects.filter(pk=sessions[2].pk).update(place="Nya lokalen, Storgatan 1; Lund")
    assert invites.reconcile_round(Round.objects.get(pk=round_.pk)) == 3
    steps["moved"] = _written(round_, sessions, people, mark, prints)

    mark = _last_mail()
    Enrolment.objects.filter(person=people[2], round=round_).update(status=Enrolment.Status.CANCELLED)
    assert _booking_invites(round_.pk, [people[2].pk]) == 3
    steps["cancelled booking"] = _written(round_, sessions, people, mark, prints)

    mark = _last_mail()
    Session.objects.filter(pk=sessions[1].pk).delete()
    assert invites.reconcile_round(Round.objects.get(pk=round_.pk)) == 6
    steps["removed session"] = _written(round_, sessions, people, mark, prints)

    assert steps == json.loads(RECORDED.read_text(encoding="utf-8"))
