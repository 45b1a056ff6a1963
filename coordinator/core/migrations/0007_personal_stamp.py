"""Per-person stamps of what a person's own calendar shows (``coordinator.core.personal``); the calendar
copies (the SEQUENCE and last change the feed shows of each event) renew their person's stamp."""

from django.db import migrations, models

from coordinator.core.content import install, uninstall
from coordinator.core.personal import own

WATCHES = [own("coordinator_calendarcopy")]


class Migration(migrations.Migration):
    dependencies = [
        ("coordinator", "0006_answer_stamp"),
    ]

    operations = [
        migrations.CreateModel(
            name="PersonalStamp",
            fields=[
                ("person_id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("version", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(install(WATCHES), uninstall(WATCHES)),
    ]
