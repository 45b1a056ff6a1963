import django.db.models.deletion
from django.db import migrations, models
from django.utils import translation
from django.utils.translation import gettext


def minutes_to_notes(apps, schema_editor):
    """Each meeting's minutes become its live minutes note (read by the whole programme, as the meeting
    is), with the text as version 1; the live document is built from the text when it is first opened."""
    Meeting = apps.get_model("focusgroups", "Meeting")
    Note = apps.get_model("focusgroups", "Note")
    NoteVersion = apps.get_model("focusgroups", "NoteVersion")
    Through = NoteVersion.authors.through
    meetings = Meeting._base_manager.select_related("group__programme").order_by("pk")
    for meeting in meetings.iterator():
        with translation.override(meeting.group.programme.language or None):
            title = (gettext("Minutes: %(title)s") % {"title": meeting.title})[:200]
        changed = meeting.updated_at
        note = Note._base_manager.create(
            group_id=meeting.group_id,
            meeting_id=meeting.pk,
            title=title,
            visibility="programme",
            body=meeting.minutes,
            version=1,
            updated_by_id=meeting.created_by_id,
            updated_at=changed,
        )
        version = NoteVersion._base_manager.create(
            note_id=note.pk,
            programme_id=meeting.group.programme_id,
            version=1,
            title=title,
            body=meeting.minutes,
            author_id=meeting.created_by_id,
            created_at=changed,
        )
        if meeting.created_by_id is not None:
            Through.objects.create(noteversion_id=version.pk, person_id=meeting.created_by_id)


def notes_to_minutes(apps, schema_editor):
    Meeting = apps.get_model("focusgroups", "Meeting")
    Note = apps.get_model("focusgroups", "Note")
    minutes = Note._base_manager.filter(meeting__isnull=False)
    for meeting_id, body in minutes.values_list("meeting_id", "body").iterator():
        Meeting._base_manager.filter(pk=meeting_id).update(minutes=body[:20000])
    minutes.delete()


class Migration(migrations.Migration):

    dependencies = [
        ("focusgroups", "0006_action_from_note_line"),
    ]

    operations = [
        migrations.AddField(
            model_name="note",
            name="meeting",
            field=models.OneToOneField(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="minutes_note",
                to="focusgroups.meeting",
            ),
        ),
        migrations.RunPython(minutes_to_notes, notes_to_minutes),
        migrations.RemoveField(
            model_name="meeting",
            name="minutes",
        ),
    ]
