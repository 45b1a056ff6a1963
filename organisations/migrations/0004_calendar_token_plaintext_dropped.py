"""The calendar token columns take their final shape; the plaintext token column goes.

A migration of its own: on PostgreSQL the rows rewritten by 0003 are committed before the table is altered.
"""

from django.db import migrations, models

import organisations.models


class Migration(migrations.Migration):
    dependencies = [
        ("organisations", "0003_calendar_token_hashed"),
    ]

    operations = [
        migrations.AlterField(
            model_name="person",
            name="calendar_nonce",
            field=models.CharField(default=organisations.models.new_calendar_nonce, editable=False, max_length=32),
        ),
        migrations.AlterField(
            model_name="person",
            name="calendar_token_hash",
            field=models.CharField(editable=False, max_length=64, unique=True),
        ),
        migrations.RemoveField(model_name="person", name="calendar_token"),
    ]
