"""Fill the programme key of deep tenant rows from their parent (a round, a session or a group)."""

from django.db import migrations
from django.db.models import OuterRef, Subquery

# (model, the parent model, the field pointing at it, the parent's path to its programme), parents first.
STEPS = (
    ("Session", "Round", "round", "course__programme"),
    ("OrganisationQuota", "Round", "round", "course__programme"),
    ("Enrolment", "Round", "round", "course__programme"),
    ("RoundCost", "Round", "round", "course__programme"),
    ("DiscussionGroup", "Round", "round", "course__programme"),
    ("Attendance", "Session", "session", "programme"),
    ("InviteSequence", "Session", "session", "programme"),
    ("DiscussionGroupMember", "DiscussionGroup", "group", "programme"),
)


def fill_programme(apps, schema_editor):
    for model_name, parent_name, field, path in STEPS:
        model = apps.get_model("seminars", model_name)
        parent = apps.get_model("seminars", parent_name)
        # The plain base manager: a data migration sees every programme.
        programme = parent._base_manager.filter(pk=OuterRef(f"{field}_id")).values(f"{path}_id")[:1]
        model._base_manager.filter(programme__isnull=True).update(programme_id=Subquery(programme))


class Migration(migrations.Migration):
    dependencies = [("seminars", "0002_programme_key_add")]

    operations = [migrations.RunPython(fill_programme, migrations.RunPython.noop)]
