"""The programme's audit trail: memberships and roles granted through the API are recorded with the
person who granted them, and each programme's admins read their own programme's trail only."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from organisations.models import (
    AuditEntryProgramme,
    Membership,
    Organisation,
    PlatformRole,
    RoleAssignment,
    Target,
    WorkRole,
)
from organisations.permissions import actor_for
from organisations.services.agencies import organisation_update
from organisations.services.people import calendar_token_rotate, person_update
from tests.factories import make_member
from tests.factories.organisations import OrganisationFactory, WorkRoleFactory

AUDIT = reverse("organisations:audit")


def entries_of(model: type) -> list[LogEntry]:
    return list(LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(model)).order_by("pk"))


def programmes_of(entry: LogEntry) -> list[int]:
    return sorted(
        AuditEntryProgramme.unscoped_objects.filter(log_entry=entry).values_list("programme_id", flat=True)
    )


def shown(response) -> list[int]:
    return [row["entry"].pk for row in response.context["rows"]]


def test_membership_and_roles_granted_through_the_api_are_recorded_with_the_granting_admin(
    api, programme, programme_admin, org_a, work_role
):
    before = {model: len(entries_of(model)) for model in (Membership, RoleAssignment)}
    response = api(programme_admin).post(
        "/api/v1/people/",
        {
            "programme": programme.pk,
            "organisation": org_a.pk,
            "username": "ny.handlaggare",
            "email": "ny@mv.example",
            "first_name": "Nils",
            "last_name": "Nyberg",
            "work_role": work_role.pk,
            "roles": ["staff", "host_contact"],
        },
        format="json",
    )

    assert response.status_code == 201
    memberships = entries_of(Membership)[before[Membership] :]
    roles = entries_of(RoleAssignment)[before[RoleAssignment] :]
    assert [(e.action, e.actor_id, programmes_of(e)) for e in memberships] == [
        (LogEntry.Action.CREATE, programme_admin.user_id, [programme.pk]),
        (LogEntry.Action.UPDATE, programme_admin.user_id, [programme.pk]),
    ]
    assert memberships[1].changes_dict == {"work_role": ["None", str(work_role.pk)]}
    assert [(e.action, e.actor_id, e.changes_dict["role"][1], programmes_of(e)) for e in roles] == [
        (LogEntry.Action.CREATE, programme_admin.user_id, "host_contact", [programme.pk]),
        (LogEntry.Action.CREATE, programme_admin.user_id, "staff", [programme.pk]),
    ]


def test_trail_shows_only_the_admins_programme(web, programme, other_programme, programme_admin, outsider):
    ours = WorkRoleFactory(programme=programme, name="Handläggare")
    theirs = WorkRoleFactory(programme=other_programme, name="Sagsbehandler")
    [ours_entry, theirs_entry] = entries_of(WorkRole)

    response = web(programme_admin).get(AUDIT, {"object_type": "organisations.workrole"})

    assert response.status_code == 200
    assert shown(response) == [ours_entry.pk]
    assert (ours.name in response.content.decode(), theirs.name in response.content.decode()) == (True, False)
    assert shown(web(outsider).get(AUDIT, {"object_type": "organisations.workrole"})) == [theirs_entry.pk]
    # Unfiltered, every entry shown is filed under the admin's programme and B's are absent.
    everything = shown(web(programme_admin).get(AUDIT))
    filed = set(
        AuditEntryProgramme.unscoped_objects.filter(programme=programme).values_list("log_entry", flat=True)
    )
    assert (set(everything) <= filed, theirs_entry.pk in everything, ours_entry.pk in everything) == (
        True,
        False,
        True,
    )


def test_change_to_a_shared_organisation_is_shown_to_each_programme_it_takes_part_in(
    web, programme, other_programme, programme_admin, outsider, in_programme
):
    shared = OrganisationFactory(name="Skatteverket", programmes=[programme, other_programme])
    alone = OrganisationFactory(name="Kommunen", programmes=[other_programme])
    # The shared agency is changed by its own admin (no programme's admin may change a shared agency).
    shared_admin = make_member(other_programme, shared, PlatformRole.ORGANISATION_ADMIN)
    with in_programme(programme, other_programme):
        organisation_update(actor=actor_for(shared_admin.user), organisation=shared, values={"name": "SKV"})
        organisation_update(actor=actor_for(outsider.user), organisation=alone, values={"name": "Kommun"})
    [shared_update, alone_update] = [
        e for e in entries_of(Organisation) if e.action == LogEntry.Action.UPDATE
    ]

    filters = {"object_type": "organisations.organisation"}

    seen_by_a = shown(web(programme_admin).get(AUDIT, filters))
    seen_by_b = shown(web(outsider).get(AUDIT, filters))

    # An organisation's creation names no programme yet (it takes part in none); its participations do.
    assert seen_by_a == [shared_update.pk]
    assert seen_by_b == [alone_update.pk, shared_update.pk]


def test_trail_filters_by_the_person_who_acted(api, web, programme, programme_admin, coordinator, staff_a):
    for person, city in ((programme_admin, "Lund"), (coordinator, "Ystad")):
        api(person).patch(f"/api/v1/people/{staff_a.pk}/", {"phone": city}, format="json")
    mine = shown(web(programme_admin).get(AUDIT, {"person": programme_admin.pk}))
    assert [LogEntry.objects.get(pk=pk).changes_dict for pk in mine] == [{"phone": ["", "Lund"]}]


def test_trail_refuses_members_who_are_not_programme_admins(web, staff_a, coordinator):
    assert (web(staff_a).get(AUDIT).status_code, web(coordinator).get(AUDIT).status_code) == (403, 403)


def test_trail_refuses_a_filter_it_does_not_know(web, programme_admin):
    response = web(programme_admin).get(AUDIT, {"object_type": "auth.user", "person": "x"})
    assert (response.status_code, sorted(response.context["form"].errors)) == (400, ["object_type", "person"])


def test_trail_query_count_is_fixed(web, programme, programme_admin, django_assert_num_queries):
    client = web(programme_admin)
    WorkRoleFactory(programme=programme)
    with django_assert_num_queries(6):
        one = client.get(AUDIT, {"object_type": "organisations.workrole"})
    WorkRoleFactory.create_batch(2, programme=programme)
    with django_assert_num_queries(6):
        three = client.get(AUDIT, {"object_type": "organisations.workrole"})
    assert (len(shown(one)), len(shown(three))) == (1, 3)


def test_membership_and_role_changed_through_the_admin_pages_are_recorded(
    web, programme, programme_admin, staff_a, in_programme
):
    with in_programme(programme):
        membership = Membership.objects.get(person=staff_a)
        [staff_role] = RoleAssignment.objects.filter(membership=membership)
    before = {model: len(entries_of(model)) for model in (Membership, RoleAssignment)}

    response = web(programme_admin).post(
        f"/admin/organisations/membership/{membership.pk}/change/",
        {
            "programme": programme.pk,
            "person": staff_a.pk,
            "work_role": "",
            "role_assignments-TOTAL_FORMS": "2",
            "role_assignments-INITIAL_FORMS": "1",
            "role_assignments-MIN_NUM_FORMS": "0",
            "role_assignments-MAX_NUM_FORMS": "1000",
            "role_assignments-0-id": staff_role.pk,
            "role_assignments-0-membership": membership.pk,
            "role_assignments-0-role": "staff",
            "role_assignments-1-membership": membership.pk,
            "role_assignments-1-role": "host_contact",
        },
    )

    assert response.status_code == 302
    [deactivated] = entries_of(Membership)[before[Membership] :]
    [granted] = entries_of(RoleAssignment)[before[RoleAssignment] :]
    assert (deactivated.actor_id, deactivated.changes_dict, programmes_of(deactivated)) == (
        programme_admin.user_id,
        {"is_active": ["True", "False"]},
        [programme.pk],
    )
    assert (granted.action, granted.actor_id, granted.changes_dict["role"], programmes_of(granted)) == (
        LogEntry.Action.CREATE,
        programme_admin.user_id,
        ["None", "host_contact"],
        [programme.pk],
    )


def test_calendar_token_never_reaches_the_trail(programme, staff_a, in_programme):
    old_token = staff_a.calendar_token
    with in_programme(programme):
        new_token = calendar_token_rotate(actor=actor_for(staff_a.user), person=staff_a)
        person_update(actor=actor_for(staff_a.user), person=staff_a, values={"phone": "040-123"})

    dumped = repr(
        [(e.changes, e.changes_text, e.serialized_data, e.object_repr) for e in LogEntry.objects.all()]
    )
    assert (old_token in dumped, new_token in dumped, "040-123" in dumped) == (False, False, True)


def test_calendar_nonce_and_token_digest_never_reach_the_trail(programme, staff_a, in_programme):
    first = (staff_a.calendar_nonce, staff_a.calendar_token_hash)
    with in_programme(programme):
        calendar_token_rotate(actor=actor_for(staff_a.user), person=staff_a)
    second = (staff_a.calendar_nonce, staff_a.calendar_token_hash)

    dumped = repr(
        [(e.changes, e.changes_text, e.serialized_data, e.object_repr) for e in LogEntry.objects.all()]
    )
    assert [value for value in first + second if value in dumped] == []
    assert "calendar" not in dumped


def _changes(response) -> list[str]:
    return re.findall(r"<li>(.*?)</li>", response.content.decode().split("<tbody>")[1])


def test_trail_shows_a_creation_in_the_readers_language(web, programme, programme_admin, in_programme):
    programme_admin.preferred_language = "sv"
    programme_admin.save(update_fields=["preferred_language"])
    target = Target.unscoped_objects.create(
        programme=programme,
        title="Alla grupper",
        measure="focusgroups.every_organisation",
        goal=80,
        starts_on=date(2026, 1, 1),
        deadline=date(2026, 12, 31),
        created_by=programme_admin,
    )
    Target.unscoped_objects.filter(pk=target.pk).update(
        created_at=datetime(2026, 3, 2, 8, 5, 30, 123456, UTC)
    )
    [entry] = entries_of(Target)
    entry.changes = {**entry.changes, "created_at": ["None", "2026-03-02 08:05:30.123456"]}
    entry.save(update_fields=["changes"])

    response = web(programme_admin).get(AUDIT, {"object_type": "organisations.target"})

    assert _changes(response) == [  # (in the order of the fields' names, on every database)
        f"ID: {target.pk}",
        "mål: 80",
        f"program: {programme.pk}",
        "räknas från: 1 jan. 2026",
        "skapad: 2 mars 2026 09:05",
        f"skapad av: {programme_admin.pk}",
        "slutdatum: 31 dec. 2026",
        "titel: Alla grupper",
        "vad som mäts: Fokusgrupper med en representant från varje organisation",
    ]


def test_a_group_seat_is_named_in_the_active_language(programme, staff_a, in_programme):
    from django.utils import translation

    from tests.factories.focusgroups import FocusGroupFactory, make_group_member

    seat = make_group_member(FocusGroupFactory(programme=programme, name="Hälsa"), staff_a)
    with translation.override("da"):
        assert str(seat) == f"{staff_a} i Hälsa (Medlem)"
