"""What the calendars of confirmed upcoming visits hold, for the calendar reconciler.

Invites were sent before ``CalendarCopy`` existed; without a row the reconciler would not know that the
shadower and the host contact hold the visit's days, and would send no cancellation when it ends. The
fingerprint is left empty, so the next change sends each of them an update (SEQUENCE + 1)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import migrations
from django.utils import timezone


def forwards(apps, schema_editor):
    Placement = apps.get_model("shadowing", "Placement")
    PlacementDay = apps.get_model("shadowing", "PlacementDay")
    CalendarCopy = apps.get_model("coordinator", "CalendarCopy")
    today = timezone.now().date()
    copies = []
    placements = Placement.objects.filter(status="confirmed").select_related(
        "programme", "request__requester__user", "workplace__contact__user"
    )
    for placement in placements.iterator():
        programme = placement.programme
        zone = ZoneInfo(programme.time_zone)
        organizer = programme.coordinator_email or settings.DEFAULT_ORGANIZER_EMAIL
        people = {p.pk: p for p in (placement.request.requester, placement.workplace.contact)}
        attendees = [[p.user.email, f"{p.user.first_name} {p.user.last_name}".strip()] for p in people.values() if p.user.email]
        for day in PlacementDay.objects.filter(placement=placement, date__gte=today):
            uid = f"shadowing-visit-{placement.pk}-{day.pk}@{settings.CALENDAR_UID_DOMAIN}"
            start = datetime.combine(day.date, day.starts_at, tzinfo=zone)
            end = datetime.combine(day.date, day.ends_at, tzinfo=zone)
            for person in people.values():
                if not person.user.email:
                    continue
                copies.append(
                    CalendarCopy(
                        programme_id=programme.pk,
                        person_id=person.pk,
                        source=f"shadowing.placement:{placement.pk}",
                        key=uid,
                        uid=uid,
                        address=person.user.email,
                        language=person.preferred_language or programme.language or settings.LANGUAGE_CODE,
                        organizer=organizer,
                        fingerprint="",
                        sequence=placement.sequence,
                        method="REQUEST",
                        content={
                            "summary": placement.workplace.name,
                            "start": start.isoformat(),
                            "end": end.isoformat(),
                            "location": placement.workplace.name,
                            "organizer": [organizer, programme.name],
                            "attendees": attendees,
                            "url": "",
                        },
                        ends_at=end,
                        changed_at=placement.updated_at,
                    )
                )
    CalendarCopy.objects.bulk_create(copies, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("shadowing", "0004_drop_workplace_guardian_rows"),
        ("coordinator", "0002_calendar_copies_and_replies"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
