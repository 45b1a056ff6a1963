"""Agenda items, decisions and note versions carry their programme themselves (it was two joins away):
added nullable, filled from the parent meeting or note, then required."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery

# (model, parent model, parent foreign key)
DEEP_ROWS = (
    ("agendaitem", "meeting", "meeting_id"),
    ("decision", "meeting", "meeting_id"),
    ("noteversion", "note", "note_id"),
)


def fill_programme(apps, schema_editor):
    for model_name, parent_name, parent_key in DEEP_ROWS:
        model = apps.get_model("focusgroups", model_name)
        parent = apps.get_model("focusgroups", parent_name)
        # The plain manager: a migration runs with no tenant scope.
        programme_of_parent = parent._base_manager.filter(pk=OuterRef(parent_key)).values(
            "group__programme_id"
        )[:1]
        model._base_manager.filter(programme__isnull=True).update(programme_id=Subquery(programme_of_parent))


def programme_field(null):
    return models.ForeignKey(
        editable=False,
        null=null,
        on_delete=django.db.models.deletion.CASCADE,
        related_name="+",
        to="organisations.programme",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("focusgroups", "0002_drop_group_object_permissions"),
    ]

    operations = [
        *(
            migrations.AddField(model_name=name, name="programme", field=programme_field(null=True))
            for name, _parent, _key in DEEP_ROWS
        ),
        migrations.RunPython(fill_programme, migrations.RunPython.noop),
        *(
            migrations.AlterField(model_name=name, name="programme", field=programme_field(null=False))
            for name, _parent, _key in DEEP_ROWS
        ),
    ]
