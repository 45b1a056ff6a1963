"""Changes of workplaces, their topics and the programme's topics renew their programme's content stamp
(``coordinator.core.content``), in the writer's own transaction. Slots are read live."""

from django.db import migrations

from coordinator.core.content import direct, install, through, uninstall

WATCHES = [
    direct("shadowing_workplace_content", "shadowing_workplace"),
    through("shadowing_workplace_topics_content", "shadowing_workplace_topics", "workplace_id", "shadowing_workplace"),
    direct("shadowing_topic_content", "shadowing_topic"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("shadowing", "0008_placement_costs"),
        ("coordinator", "0004_content_version"),
    ]

    operations = [migrations.RunPython(install(WATCHES), uninstall(WATCHES))]
