"""Calendar feed tokens are no longer stored: each person gets a nonce and the digest of its token.

The address a person subscribed with keeps working: its digest moves to `legacy_calendar_token_hash`
until they renew their address. The plaintext column is dropped.
"""

from django.db import migrations, models


def hash_tokens(apps, schema_editor):  # noqa: ANN001, ARG001 - the migration signature
    from organisations.models import calendar_token_digest, calendar_token_for, new_calendar_nonce

    Person = apps.get_model("organisations", "Person")
    people = list(Person._base_manager.only("pk", "calendar_token"))
    for person in people:
        person.calendar_nonce = new_calendar_nonce()
        person.calendar_token_hash = calendar_token_digest(calendar_token_for(person.calendar_nonce))
        person.legacy_calendar_token_hash = calendar_token_digest(person.calendar_token)
    Person._base_manager.bulk_update(
        people, ["calendar_nonce", "calendar_token_hash", "legacy_calendar_token_hash"], batch_size=500
    )


class Migration(migrations.Migration):
    dependencies = [
        ("organisations", "0002_audit_entry_programme"),
    ]

    operations = [
        migrations.AddField(
            model_name="person",
            name="calendar_nonce",
            field=models.CharField(default="", editable=False, max_length=32),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="person",
            name="calendar_token_hash",
            field=models.CharField(editable=False, max_length=64, null=True),
        ),
        migrations.AddField(
            model_name="person",
            name="legacy_calendar_token_hash",
            field=models.CharField(editable=False, max_length=64, null=True, unique=True),
        ),
        migrations.RunPython(hash_tokens, migrations.RunPython.noop),
    ]
