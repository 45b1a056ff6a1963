"""Changes of slots (places booked too) and of workplaces' visibility renew the ``slots`` answer stamp of
their programme; changes of requests, their topics, windows and preferences, the topics' names and their
requesters' names, organisations and line managers renew the ``requests`` stamp (``coordinator.core.answers``),
in the writer's own transaction."""

from django.db import migrations

from coordinator.core.answers import direct, through, watch
from coordinator.core.content import install, uninstall

WORKPLACE = "shadowing_workplace"
REQUEST = "shadowing_shadowingrequest"
WATCHES = [
    through("slots", "shadowing_slot", "workplace_id", WORKPLACE),
    direct("slots", WORKPLACE, columns=("programme_id", "organisation_id", "is_published")),
    direct("requests", REQUEST),
    through("requests", "shadowing_shadowingrequest_topics", "shadowingrequest_id", REQUEST),
    direct("requests", "shadowing_topic", columns=("programme_id", "name")),
    through("requests", "shadowing_availabilitywindow", "request_id", REQUEST),
    through("requests", "shadowing_preference", "request_id", REQUEST),
    watch(
        "requests",
        "organisations_person",
        f"SELECT programme_id FROM {REQUEST} WHERE requester_id = ROW.id",
        columns=("user_id", "organisation_id", "unit_id", "line_manager_id", "erased_at"),
    ),
    watch(
        "requests",
        "auth_user",
        f"SELECT r.programme_id FROM {REQUEST} r JOIN organisations_person p ON p.id = r.requester_id "
        "WHERE p.user_id = ROW.id",
        columns=("first_name", "last_name", "username"),
    ),
]


class Migration(migrations.Migration):
    dependencies = [
        ("shadowing", "0009_content_version_triggers"),
        ("coordinator", "0006_answer_stamp"),
    ]

    operations = [migrations.RunPython(install(WATCHES), uninstall(WATCHES))]
