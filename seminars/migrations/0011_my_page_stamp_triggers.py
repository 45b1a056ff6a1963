"""What my page keeps of a person's courses renews their personal stamp (``coordinator.core.personal``):
their course completions, and the titles and programmes of the courses they completed (a completion recorded without a
booking too, as an imported one is)."""

from django.db import migrations

from coordinator.core.content import install, uninstall
from coordinator.core.personal import own, watch

WATCHES = [
    own("seminars_completion"),
    watch(
        "completed",
        "seminars_course",
        "SELECT person_id FROM seminars_completion WHERE course_id = ROW.id",
        columns=("programme_id", "title"),
    ),
]


class Migration(migrations.Migration):
    dependencies = [
        ("seminars", "0010_answer_seats_topic"),
        ("coordinator", "0007_personal_stamp"),
    ]

    operations = [migrations.RunPython(install(WATCHES), uninstall(WATCHES))]
