"""What a person's feed shows of their focus groups renews their personal stamp
(``coordinator.core.personal``): their group memberships, and for every member of a group (active or not)
its name, its meetings and the meetings' agendas."""

from django.db import migrations

from coordinator.core.content import install, uninstall
from coordinator.core.personal import own, watch

MEMBERS = "SELECT person_id FROM focusgroups_groupmembership WHERE group_id = ROW.{}"
WATCHES = [
    own("focusgroups_groupmembership", columns=("group_id", "person_id", "is_active")),
    watch("members", "focusgroups_focusgroup", MEMBERS.format("id"), columns=("programme_id", "name")),
    watch("members", "focusgroups_meeting", MEMBERS.format("group_id")),
    watch(
        "members",
        "focusgroups_agendaitem",
        "SELECT g.person_id FROM focusgroups_groupmembership g JOIN focusgroups_meeting m "
        "ON m.group_id = g.group_id WHERE m.id = ROW.meeting_id",
    ),
]


class Migration(migrations.Migration):
    dependencies = [
        ("focusgroups", "0007_meeting_minutes_live_note"),
        ("coordinator", "0007_personal_stamp"),
    ]

    operations = [migrations.RunPython(install(WATCHES), uninstall(WATCHES))]
