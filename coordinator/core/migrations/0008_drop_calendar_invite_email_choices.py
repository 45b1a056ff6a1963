"""Calendar invites are always mailed (``coordinator.core.notifications``): they are no longer a choice on the
settings page, so the choices people stored for them, which never changed anything, are dropped."""

from django.db import migrations

INVITE_KIND = "calendar.invite"


def drop_invite_choices(apps, schema_editor):
    preference = apps.get_model("coordinator", "NotificationPreference")
    # The plain manager: a migration runs with no tenant scope.
    preference._base_manager.filter(kind=INVITE_KIND).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("coordinator", "0007_personal_stamp"),
    ]

    operations = [migrations.RunPython(drop_invite_choices, migrations.RunPython.noop)]
