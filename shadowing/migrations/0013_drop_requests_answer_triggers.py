"""Requests to decide are built on every request (a manager's own decisions change the list each time, so a
kept copy was met about once in a hundred reads): the triggers that renewed the ``requests`` answer stamp
on every write of a request, its topics, windows and preferences, or its requester, are dropped. The
``slots`` triggers of 0010 stay."""

from django.db import migrations

from coordinator.core.answers import direct, through, watch
from coordinator.core.content import install, uninstall

REQUEST = "shadowing_shadowingrequest"
# The ``requests`` watches of 0010, as they were installed (the reverse installs them again).
WATCHES = [
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


def _forget_stamps(apps, schema_editor):
    apps.get_model("coordinator", "AnswerStamp").objects.filter(topic="requests").delete()


class Migration(migrations.Migration):
    dependencies = [("shadowing", "0012_my_page_stamp_triggers")]

    operations = [
        migrations.RunPython(uninstall(WATCHES), install(WATCHES)),
        migrations.RunPython(_forget_stamps, migrations.RunPython.noop),
    ]
