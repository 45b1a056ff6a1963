"""Changes of courses, their providers, target roles and prerequisites, rounds and sessions renew their
programme's content stamp (``coordinator.core.content``), in the writer's own transaction. A round's seats
taken (and when its reserved seats were released) change with every booking and are read live."""

from django.db import migrations

from coordinator.core.content import direct, install, through, uninstall

ROUND_COLUMNS = (
    "course_id",
    "label",
    "information",
    "capacity",
    "registration_opens_at",
    "registration_closes_at",
    "cancellation_deadline",
    "target_role_mode",
    "requires_manager_approval",
    "offer_hold_hours",
    "reserved_seats_release_at",
    "status",
    "starts_at",
    "ends_at",
    "cancelled_reason",
    "created_at",
)
COURSE = "seminars_course"
WATCHES = [
    direct("seminars_course_content", COURSE),
    through("seminars_course_providers_content", "seminars_course_providers", "course_id", COURSE),
    through("seminars_course_target_roles_content", "seminars_course_target_roles", "course_id", COURSE),
    through("seminars_course_prerequisites_content", "seminars_course_prerequisites", "from_course_id", COURSE),
    through("seminars_round_content", "seminars_round", "course_id", COURSE, columns=ROUND_COLUMNS),
    direct("seminars_session_content", "seminars_session"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("seminars", "0006_merge_provider_units_calendar"),
        ("coordinator", "0004_content_version"),
    ]

    operations = [migrations.RunPython(install(WATCHES), uninstall(WATCHES))]
