"""What my page keeps of a person's visits renews the visitor's personal stamp
(``coordinator.core.personal``): what they wrote of each visit and the host's feedback on it (the
placements, their days, workplaces and organisations already renew it: ``0011_personal_stamp_triggers``)."""

from django.db import migrations

from coordinator.core.content import install, uninstall
from coordinator.core.personal import watch

VISITOR = (
    "SELECT r.requester_id AS person_id FROM shadowing_placement p "
    "JOIN shadowing_shadowingrequest r ON r.id = p.request_id WHERE p.id = ROW.placement_id"
)
WATCHES = [
    watch("visitor", "shadowing_reflection", VISITOR),
    watch("visitor", "shadowing_hostfeedback", VISITOR),
]


class Migration(migrations.Migration):
    dependencies = [
        ("shadowing", "0011_personal_stamp_triggers"),
        ("coordinator", "0007_personal_stamp"),
    ]

    operations = [migrations.RunPython(install(WATCHES), uninstall(WATCHES))]
