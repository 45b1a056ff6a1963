"""Changes of courses and their relations renew the ``courses`` answer stamp of their programme; changes
of rounds (seats taken too), their courses' titles and their enrolments (the queue) renew the ``rounds``
stamp (``coordinator.core.answers``), in the writer's own transaction."""

from django.db import migrations

from coordinator.core.answers import direct, through
from coordinator.core.content import install, uninstall

COURSE = "seminars_course"
WATCHES = [
    direct("courses", COURSE),
    through("courses", "seminars_course_providers", "course_id", COURSE),
    through("courses", "seminars_course_provider_units", "course_id", COURSE),
    through("courses", "seminars_course_target_roles", "course_id", COURSE),
    through("courses", "seminars_course_prerequisites", "from_course_id", COURSE),
    direct("rounds", COURSE, columns=("programme_id", "title")),
    through("rounds", "seminars_round", "course_id", COURSE),
    direct("rounds", "seminars_enrolment", columns=("programme_id", "round_id", "status")),
]


class Migration(migrations.Migration):
    dependencies = [
        ("seminars", "0007_content_version_triggers"),
        ("coordinator", "0006_answer_stamp"),
    ]

    operations = [migrations.RunPython(install(WATCHES), uninstall(WATCHES))]
