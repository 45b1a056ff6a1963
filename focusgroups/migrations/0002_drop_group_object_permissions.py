"""Rights in a group are derived from the memberships at every check (``focusgroups.permissions``); the
guardian tables that stored a copy of them go."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("focusgroups", "0001_initial"),
    ]

    operations = [
        migrations.DeleteModel(name="FocusGroupGroupObjectPermission"),
        migrations.DeleteModel(name="FocusGroupUserObjectPermission"),
    ]
