"""Changes of a programme, its participations and its organisations' names renew the programme's content
stamp (``coordinator.core.content``), in the writer's own transaction."""

from django.db import migrations

from coordinator.core.content import Watch, direct, install, uninstall

WATCHES = [
    Watch("organisations_programme_content", "organisations_programme", "SELECT ROW.id AS programme_id"),
    direct("organisations_participation_content", "organisations_participation"),
    Watch(
        "organisations_organisation_content",
        "organisations_organisation",
        "SELECT programme_id FROM organisations_participation WHERE organisation_id = ROW.id",
        ("name",),
    ),
]


class Migration(migrations.Migration):
    dependencies = [
        ("organisations", "0011_programme_visit_day_cost"),
        ("coordinator", "0004_content_version"),
    ]

    operations = [migrations.RunPython(install(WATCHES), uninstall(WATCHES))]
