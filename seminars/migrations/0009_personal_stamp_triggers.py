"""What a person's feed shows of their course sessions renews their personal stamp
(``coordinator.core.personal``): their enrolments and invite sequences, and for everyone booked on a round
(whatever the booking's status) its sessions, its name, information and status, and its course's title."""

from django.db import migrations

from coordinator.core.content import install, uninstall
from coordinator.core.personal import own, watch

BOOKED = "SELECT person_id FROM seminars_enrolment WHERE round_id = ROW.{}"
WATCHES = [
    # Not the booking's other columns (offers' holds, approvals): the feed shows confirmed bookings only.
    own("seminars_enrolment", columns=("person_id", "round_id", "status")),
    own("seminars_invitesequence"),
    watch("booked", "seminars_session", BOOKED.format("round_id")),
    # Not the seats taken: every booking sets them, and the feed does not show them.
    watch(
        "booked",
        "seminars_round",
        BOOKED.format("id"),
        columns=("course_id", "label", "information", "status"),
    ),
    watch(
        "booked",
        "seminars_course",
        "SELECT e.person_id FROM seminars_enrolment e JOIN seminars_round r ON r.id = e.round_id "
        "WHERE r.course_id = ROW.id",
        columns=("programme_id", "title"),
    ),
]


class Migration(migrations.Migration):
    dependencies = [
        ("seminars", "0008_answer_stamp_triggers"),
        ("coordinator", "0007_personal_stamp"),
    ]

    operations = [migrations.RunPython(install(WATCHES), uninstall(WATCHES))]
