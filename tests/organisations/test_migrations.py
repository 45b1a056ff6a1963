from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from organisations.models import Person, calendar_token_digest

BEFORE = [("organisations", "0002_audit_entry_programme")]
OLD_TOKEN = "a-stored-token-from-before-hashing-0123456789abcdef"


@pytest.mark.django_db(transaction=True)
def test_migration_keeps_the_stored_address_working_and_drops_the_plaintext(client):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old_apps = executor.loader.project_state(BEFORE).apps
    user = old_apps.get_model("auth", "User").objects.create(username="before-hashing")
    organisation = old_apps.get_model("organisations", "Organisation").objects.create(
        name="Försäkringskassan", short_name="FK", kind="agency"
    )
    old_apps.get_model("organisations", "Person").objects.create(
        user=user, organisation=organisation, calendar_token=OLD_TOKEN
    )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    person = Person.unscoped_objects.get(user_id=user.pk)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {Person._meta.db_table} WHERE id = %s", [person.pk])  # noqa: S608
        row = cursor.fetchone()
    statuses = (
        client.get(f"/calendar/{OLD_TOKEN}.ics").status_code,
        client.get(f"/calendar/{person.calendar_token}.ics").status_code,
    )
    assert [value for value in row if OLD_TOKEN in str(value) or person.calendar_token in str(value)] == []
    assert (person.legacy_calendar_token_hash, statuses) == (calendar_token_digest(OLD_TOKEN), (200, 200))
