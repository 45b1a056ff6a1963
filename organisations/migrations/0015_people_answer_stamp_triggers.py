"""Every change of what the people list shows renews the ``people`` answer stamp of the programmes it shows
in (``coordinator.core.answers``): a person's row, their user's name, address and active flag, their
memberships, roles and roles at work, the names of their organisation and unit, and the name of the people
they are the line manager of (the list shows each person's line manager by name). The list shows only the
memberships in the reader's own programmes, whose rows are part of every entry's key already."""

from django.db import migrations

from coordinator.core.answers import direct, through, watch
from coordinator.core.content import install, uninstall

# The programmes of the memberships of the people a row reaches (``{}``: a condition on person ``p``).
MEMBERS = (
    "SELECT m.programme_id AS programme_id FROM organisations_membership m "
    "JOIN organisations_person p ON p.id = m.person_id WHERE {}"
)
# A person's own row and those of whom they are the line manager.
PERSON = MEMBERS.format("p.id = ROW.id OR p.line_manager_id = ROW.id")
USER = MEMBERS.format(
    "p.user_id = ROW.id OR p.line_manager_id IN (SELECT id FROM organisations_person WHERE user_id = ROW.id)"
)
WATCHES = [
    watch("people", "organisations_person", PERSON),
    watch("people", "auth_user", USER, columns=("first_name", "last_name", "username", "email", "is_active")),
    direct("people", "organisations_membership"),
    through("people", "organisations_roleassignment", "membership_id", "organisations_membership"),
    direct("people", "organisations_workrole", columns=("programme_id", "name")),
    watch(
        "people",
        "organisations_organisation",
        MEMBERS.format("p.organisation_id = ROW.id"),
        columns=("name", "short_name", "kind"),
    ),
    watch("people", "organisations_unit", MEMBERS.format("p.unit_id = ROW.id"), columns=("name",)),
]


class Migration(migrations.Migration):
    dependencies = [
        ("organisations", "0014_personal_stamp_triggers"),
        ("coordinator", "0006_answer_stamp"),
    ]

    operations = [migrations.RunPython(install(WATCHES), uninstall(WATCHES))]
