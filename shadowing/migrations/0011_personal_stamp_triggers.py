"""What a person's feed shows of their visits renews the personal stamps of both people of each placement,
the visitor and the workplace's host contact (``coordinator.core.personal``): the placement and its days;
the request's organisation; the workplace's name, address, accessibility, organisation and contact; the
organisations' names; and each other's names, addresses and phones."""

from django.db import migrations

from coordinator.core.content import install, uninstall
from coordinator.core.personal import watch

PLACED = (
    "FROM shadowing_placement p JOIN shadowing_shadowingrequest r ON r.id = p.request_id "
    "JOIN shadowing_workplace w ON w.id = p.workplace_id WHERE {}"
)


def people(where: str) -> str:
    """The visitors and host contacts of the placements that ``where`` selects (``p``, ``r``, ``w``)."""
    placed = PLACED.format(where)
    return f"SELECT r.requester_id AS person_id {placed} UNION ALL SELECT w.contact_id AS person_id {placed}"


HAS_PLACEMENT = "EXISTS (SELECT 1 FROM shadowing_placement WHERE {} = ROW.id)"
OF_USER = "(SELECT id FROM organisations_person WHERE user_id = ROW.id)"
WATCHES = [
    watch(
        "placed",
        "shadowing_placement",
        "SELECT requester_id AS person_id FROM shadowing_shadowingrequest WHERE id = ROW.request_id "
        "UNION ALL SELECT contact_id AS person_id FROM shadowing_workplace WHERE id = ROW.workplace_id",
    ),
    watch("placed", "shadowing_placementday", people("p.id = ROW.placement_id")),
    # A request without a placement (every new one) is in no calendar: its writes renew nothing.
    watch(
        "placed",
        "shadowing_shadowingrequest",
        people("p.request_id = ROW.id")
        + f" UNION ALL SELECT ROW.requester_id AS person_id WHERE {HAS_PLACEMENT.format('request_id')}",
        columns=("requester_id", "organisation_id"),
    ),
    watch(
        "placed",
        "shadowing_workplace",
        people("p.workplace_id = ROW.id")
        + f" UNION ALL SELECT ROW.contact_id AS person_id WHERE {HAS_PLACEMENT.format('workplace_id')}",
        columns=(
            "name",
            "street_address",
            "postal_code",
            "city",
            "accessibility",
            "contact_id",
            "organisation_id",
        ),
    ),
    watch(
        "placed",
        "organisations_organisation",
        people("r.organisation_id = ROW.id OR w.organisation_id = ROW.id"),
        columns=("name",),
    ),
    # Each other's names, addresses and phones (the person's own columns renew their own stamp as well).
    watch(
        "placed",
        "organisations_person",
        people("r.requester_id = ROW.id OR w.contact_id = ROW.id"),
        columns=("user_id", "phone", "erased_at"),
    ),
    watch(
        "placed",
        "auth_user",
        people(f"r.requester_id IN {OF_USER} OR w.contact_id IN {OF_USER}"),
        columns=("first_name", "last_name", "username", "email"),
    ),
]


class Migration(migrations.Migration):
    dependencies = [
        ("shadowing", "0010_answer_stamp_triggers"),
        ("organisations", "0014_personal_stamp_triggers"),
        ("coordinator", "0007_personal_stamp"),
    ]

    operations = [migrations.RunPython(install(WATCHES), uninstall(WATCHES))]
