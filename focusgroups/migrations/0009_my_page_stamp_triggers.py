"""What my page keeps of a person's focus groups renews their personal stamp
(``coordinator.core.personal``): the role, the day joined and the day left of each of their seats (the
group, the person and whether the seat is active already renew it: ``0008_personal_stamp_triggers``)."""

from django.db import migrations

from coordinator.core.content import install, uninstall
from coordinator.core.personal import watch

WATCHES = [
    watch(
        "my_page",
        "focusgroups_groupmembership",
        "SELECT ROW.person_id AS person_id",
        columns=("role", "joined_at", "left_at"),
    ),
]


class Migration(migrations.Migration):
    dependencies = [
        ("focusgroups", "0008_personal_stamp_triggers"),
        ("coordinator", "0007_personal_stamp"),
    ]

    operations = [migrations.RunPython(install(WATCHES), uninstall(WATCHES))]
