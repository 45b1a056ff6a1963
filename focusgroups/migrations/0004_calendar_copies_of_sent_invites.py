"""What the members' calendars hold of upcoming meetings, for the calendar reconciler.

Invites were sent before ``CalendarCopy`` existed; without a row the reconciler would not know that a
member holds a meeting, and would send no cancellation when they leave or the meeting is cancelled. The
SEQUENCE is the meeting's (the one sent); the fingerprint is left empty, so the next change sends an
update."""

from __future__ import annotations

from django.conf import settings
from django.db import migrations
from django.utils import timezone


def forwards(apps, schema_editor):
    Meeting = apps.get_model("focusgroups", "Meeting")
    GroupMembership = apps.get_model("focusgroups", "GroupMembership")
    CalendarCopy = apps.get_model("coordinator", "CalendarCopy")
    copies = []
    meetings = Meeting.objects.filter(status="scheduled", ends_at__gt=timezone.now()).select_related(
        "group__programme"
    )
    for meeting in meetings.iterator():
        programme = meeting.group.programme
        organizer = programme.coordinator_email or settings.DEFAULT_ORGANIZER_EMAIL
        members = GroupMembership.objects.filter(group_id=meeting.group_id, is_active=True).select_related(
            "person__user"
        )
        for membership in members:
            person = membership.person
            if not person.user.email:
                continue
            uid = f"focusgroup-meeting-{meeting.pk}-{person.pk}@{settings.CALENDAR_UID_DOMAIN}"
            copies.append(
                CalendarCopy(
                    programme_id=programme.pk,
                    person_id=person.pk,
                    source=f"focusgroups.meeting:{meeting.pk}",
                    key=f"focusgroups.meeting:{meeting.pk}",
                    uid=uid,
                    address=person.user.email,
                    language=person.preferred_language or programme.language or settings.LANGUAGE_CODE,
                    organizer=organizer,
                    fingerprint="",
                    sequence=meeting.sequence,
                    method="REQUEST",
                    content={
                        "summary": f"{meeting.group.name}: {meeting.title}",
                        "start": meeting.starts_at.isoformat(),
                        "end": meeting.ends_at.isoformat(),
                        "location": meeting.place or meeting.online_link,
                        "organizer": [organizer, programme.name],
                        "attendees": [[person.user.email, f"{person.user.first_name} {person.user.last_name}".strip()]],
                        "url": "",
                    },
                    ends_at=meeting.ends_at,
                    changed_at=meeting.updated_at,
                )
            )
    CalendarCopy.objects.bulk_create(copies, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("focusgroups", "0003_programme_on_deep_rows"),
        ("coordinator", "0002_calendar_copies_and_replies"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
