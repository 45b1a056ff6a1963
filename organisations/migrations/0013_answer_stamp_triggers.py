"""Changes of organisations' and units' names, work roles and participations renew the ``courses`` answer
stamp of their programmes (``coordinator.core.answers``): a course list shows the ids of its providers,
units and target roles in the order of their names, within the programme's participants."""

from django.db import migrations

from coordinator.core.answers import direct, watch
from coordinator.core.content import install, uninstall

PARTICIPATION = "SELECT programme_id FROM organisations_participation WHERE organisation_id = ROW.{}"
WATCHES = [
    direct("courses", "organisations_participation"),
    watch("courses", "organisations_organisation", PARTICIPATION.format("id"), columns=("name",)),
    watch(
        "courses",
        "organisations_unit",
        PARTICIPATION.format("organisation_id"),
        columns=("organisation_id", "name"),
    ),
    direct("courses", "organisations_workrole", columns=("programme_id", "name")),
]


class Migration(migrations.Migration):
    dependencies = [
        ("organisations", "0012_content_version_triggers"),
        ("coordinator", "0006_answer_stamp"),
    ]

    operations = [migrations.RunPython(install(WATCHES), uninstall(WATCHES))]
