"""What my page keeps of a person's account renews their personal stamp (``coordinator.core.personal``):
their line manager, and their line manager's name (the manager's account and erasure renew the stamps of
the people who report to them, and only theirs)."""

from django.db import migrations

from coordinator.core.content import install, uninstall
from coordinator.core.personal import watch

REPORTS = "SELECT id AS person_id FROM organisations_person WHERE line_manager_id = ROW.id"
WATCHES = [
    watch("my_page", "organisations_person", "SELECT ROW.id AS person_id", columns=("line_manager_id",)),
    watch("reports", "organisations_person", REPORTS, columns=("user_id", "erased_at")),
    watch(
        "reports",
        "auth_user",
        "SELECT r.id AS person_id FROM organisations_person r JOIN organisations_person m "
        "ON m.id = r.line_manager_id WHERE m.user_id = ROW.id",
        columns=("first_name", "last_name", "username"),
    ),
]


class Migration(migrations.Migration):
    dependencies = [
        ("organisations", "0014_personal_stamp_triggers"),
        ("coordinator", "0007_personal_stamp"),
    ]

    operations = [migrations.RunPython(install(WATCHES), uninstall(WATCHES))]
