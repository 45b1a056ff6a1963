"""A round's seats taken and its enrolments (the queue) renew the ``seats`` answer stamp of their programme
instead of ``rounds``: a kept rounds list reads those values anew after a booking and keeps the rest
(``coordinator.core.answers.Live``). Every other column of a round, its insertion and deletion still renew
``rounds``."""

from django.db import migrations

from coordinator.core.answers import direct, through
from coordinator.core.content import install, uninstall

COURSE = "seminars_course"
ENROLMENT_COLUMNS = ("programme_id", "round_id", "status")
# Every column of seminars_round but its id and seats_taken (a test holds this list to the model's columns).
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
    "reserved_seats_released_at",
    "status",
    "starts_at",
    "ends_at",
    "cancelled_reason",
    "created_at",
)
BEFORE = [
    through("rounds", "seminars_round", "course_id", COURSE),
    direct("rounds", "seminars_enrolment", columns=ENROLMENT_COLUMNS),
]
AFTER = [
    through("rounds", "seminars_round", "course_id", COURSE, columns=ROUND_COLUMNS),
    through("seats", "seminars_round", "course_id", COURSE, columns=("seats_taken",)),
    direct("seats", "seminars_enrolment", columns=ENROLMENT_COLUMNS),
]


def forwards(apps: object, schema_editor: object) -> None:
    uninstall(BEFORE)(apps, schema_editor)  # type: ignore[arg-type]
    install(AFTER)(apps, schema_editor)  # type: ignore[arg-type]


def backwards(apps: object, schema_editor: object) -> None:
    uninstall(AFTER)(apps, schema_editor)  # type: ignore[arg-type]
    install(BEFORE)(apps, schema_editor)  # type: ignore[arg-type]


class Migration(migrations.Migration):
    dependencies = [("seminars", "0009_personal_stamp_triggers")]

    operations = [migrations.RunPython(forwards, backwards)]
