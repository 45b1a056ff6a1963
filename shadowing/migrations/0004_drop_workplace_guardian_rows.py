"""Who edits a workplace is derived from the roles (``shadowing.permissions``): guardian's direct
permission tables for workplaces, which cached that rule, go."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("shadowing", "0003_request_unplaced_code"),
    ]

    operations = [
        migrations.DeleteModel(name="WorkplaceGroupObjectPermission"),
        migrations.DeleteModel(name="WorkplaceUserObjectPermission"),
    ]
