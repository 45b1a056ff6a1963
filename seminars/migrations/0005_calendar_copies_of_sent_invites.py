"""What the calendars of confirmed participants hold of upcoming sessions, for the calendar reconciler.

Invites were sent before ``CalendarCopy`` existed; without a row the reconciler would not know that a
participant holds a session, and would send no cancellation when their booking or the session ends. The
SEQUENCE is the one sent (``InviteSequence``); the fingerprint is left empty, so the next change sends an
update."""

from __future__ import annotations

from django.conf import settings
from django.db import migrations
from django.utils import timezone


def forwards(apps, schema_editor):
    Enrolment = apps.get_model("seminars", "Enrolment")
    Session = apps.get_model("seminars", "Session")
    InviteSequence = apps.get_model("seminars", "InviteSequence")
    CalendarCopy = apps.get_model("coordinator", "CalendarCopy")
    now = timezone.now()
    copies = []
    enrolments = Enrolment.objects.filter(status="confirmed", round__status="published").select_related(
        "person__user", "round__course__programme"
    )
    for enrolment in enrolments.iterator():
        round_ = enrolment.round
        programme = round_.course.programme
        person = enrolment.person
        if not person.user.email:
            continue
        organizer = programme.coordinator_email or settings.DEFAULT_ORGANIZER_EMAIL
        sent = {
            row.session_id: row
            for row in InviteSequence.objects.filter(person_id=person.pk, session__round_id=round_.pk)
        }
        for session in Session.objects.filter(round_id=round_.pk, ends_at__gt=now):
            row = sent.get(session.pk)
            if row is not None and row.last_method == "CANCEL":
                continue
            uid = f"seminar-session-{session.pk}-{person.pk}@{settings.CALENDAR_UID_DOMAIN}"
            copies.append(
                CalendarCopy(
                    programme_id=programme.pk,
                    person_id=person.pk,
                    source=f"seminars.round:{round_.pk}",
                    key=f"seminars.session:{session.pk}",
                    uid=uid,
                    address=person.user.email,
                    language=person.preferred_language or programme.language or settings.LANGUAGE_CODE,
                    organizer=organizer,
                    fingerprint="",
                    sequence=row.sequence if row is not None else 0,
                    method="REQUEST",
                    content={
                        "summary": round_.course.title,
                        "start": session.starts_at.isoformat(),
                        "end": session.ends_at.isoformat(),
                        "location": session.place or session.online_url,
                        "organizer": [organizer, programme.name],
                        "attendees": [[person.user.email, f"{person.user.first_name} {person.user.last_name}".strip()]],
                        "url": "",
                    },
                    ends_at=session.ends_at,
                    changed_at=session.updated_at,
                )
            )
    CalendarCopy.objects.bulk_create(copies, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("seminars", "0004_programme_key_required"),
        ("coordinator", "0002_calendar_copies_and_replies"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
