"""What a person's feed shows of their own account and programmes renews their personal stamp
(``coordinator.core.personal``): their name, address, phone, language, feed address and active flag, their
memberships (which programmes they see) and their programmes' names, zones and languages."""

from django.db import migrations

from coordinator.core.content import install, uninstall
from coordinator.core.personal import own, watch

# What of a person's row a feed shows: the name (with the user and ``erased_at``), the phone (a host
# contact's, in their visitors' feeds), the language, and the feed address.
PERSON_COLUMNS = (
    "user_id",
    "phone",
    "preferred_language",
    "calendar_token_hash",
    "legacy_calendar_token_hash",
    "erased_at",
)
USER_COLUMNS = ("first_name", "last_name", "username", "email", "is_active")
WATCHES = [
    own("organisations_person", "id", columns=PERSON_COLUMNS),
    watch(
        "own",
        "auth_user",
        "SELECT id AS person_id FROM organisations_person WHERE user_id = ROW.id",
        columns=USER_COLUMNS,
    ),
    own("organisations_membership", columns=("person_id", "programme_id", "is_active")),
    watch(
        "members",
        "organisations_programme",
        "SELECT person_id FROM organisations_membership WHERE programme_id = ROW.id",
    ),
]


class Migration(migrations.Migration):
    dependencies = [
        ("organisations", "0013_answer_stamp_triggers"),
        ("coordinator", "0007_personal_stamp"),
    ]

    operations = [migrations.RunPython(install(WATCHES), uninstall(WATCHES))]
