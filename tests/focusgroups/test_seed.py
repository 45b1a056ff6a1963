from __future__ import annotations

from django.core.management import call_command
from django.utils import timezone

from coordinator.core.tenancy import programme_scope
from focusgroups import permissions
from focusgroups.models import (
    ActionItem,
    Concept,
    ConceptComment,
    ConceptTerm,
    Decision,
    FocusGroup,
    GroupMembership,
    Meeting,
    Note,
    NoteVersion,
)
from organisations.models import Organisation, Person
from organisations.permissions import actor_for

MODELS = (
    FocusGroup,
    GroupMembership,
    Meeting,
    Decision,
    Note,
    NoteVersion,
    ActionItem,
    Concept,
    ConceptTerm,
    ConceptComment,
)


def _snapshot():
    return {
        model.__name__: sorted(model.unscoped_objects.values_list("pk", flat=True)) for model in MODELS
    } | {
        "notes": sorted(Note.unscoped_objects.values_list("pk", "version", "body")),
        "conveners": sorted(FocusGroup.unscoped_objects.values_list("pk", "convener_id")),
    }


def _person(username):
    return Person.unscoped_objects.select_related("user").get(user__username=username)


def test_demo_focus_groups_are_true_to_the_programme_and_idempotent(db):
    call_command("seed_demo", "--quiet")
    first = _snapshot()
    call_command("seed_demo", "--quiet")

    assert _snapshot() == first
    malmo = FocusGroup.unscoped_objects.filter(programme__slug="malmo")
    assert sorted(malmo.values_list("name", flat=True)) == [
        "Hälsoperspektivet/empowerment",
        "Informationsflödet",
        "Kartläggningsmetodik",
        "Målgruppskännedom",
        "Organisationskännedom",
        "Samarbete/samverkan",
    ]
    assert FocusGroup.unscoped_objects.filter(programme__slug="kobenhavn", is_default=True).count() == 6

    # Every group has a convener and members from several organisations, each with a mandate; exactly one
    # group lacks an organisation of the programme (Migrationsverket in the health group).
    organisations = set(
        Organisation.unscoped_objects.filter(participations__programme__slug="malmo").values_list(
            "pk", flat=True
        )
    )
    lacking = {}
    for group in malmo:
        seats = GroupMembership.unscoped_objects.filter(group=group, is_active=True)
        assert group.convener_id is not None
        assert seats.filter(role="convener").get().person_id == group.convener_id
        assert not seats.filter(mandate="").exists() and not seats.filter(sent_by="").exists()
        represented = set(seats.exclude(role="observer").values_list("organisation_id", flat=True))
        assert len(represented) >= 4
        if organisations - represented:
            lacking[group.name] = sorted(
                Organisation.unscoped_objects.filter(pk__in=organisations - represented).values_list(
                    "name", flat=True
                )
            )
    assert lacking == {"Hälsoperspektivet/empowerment": ["Migrationsverket"]}

    lina, amina = _person("lina.bjork"), _person("amina.hassan")
    org_group = malmo.get(code="organisationskannedom")
    assert org_group.convener_id == lina.pk
    assert list(
        GroupMembership.unscoped_objects.filter(person=amina, is_active=True).values_list(
            "group__name", "role"
        )
    ) == [("Organisationskännedom", "member")]
    with programme_scope([org_group.programme_id]):  # rights follow the memberships
        assert permissions.group_rights(actor_for(amina.user), org_group) == {
            permissions.VIEW,
            permissions.EDIT_NOTES,
        }
        assert permissions.group_rights(actor_for(lina.user), org_group) == set(permissions.ALL_GROUP_RIGHTS)

    now = timezone.now()
    past = Meeting.unscoped_objects.get(group=org_group, ends_at__lt=now)
    assert past.status == "held" and past.minutes
    assert Decision.unscoped_objects.filter(meeting=past).count() == 2
    assert (
        Meeting.unscoped_objects.filter(group=org_group, starts_at__gt=now, status="scheduled").count() == 1
    )

    work_note = Note.unscoped_objects.get(group=org_group, visibility="group")
    versions = NoteVersion.unscoped_objects.filter(note=work_note).order_by("version")
    assert work_note.version == versions.count() == 3
    assert [v.author.user.username for v in versions] == ["lina.bjork", "amina.hassan", "karin.nystrom"]
    assert versions.last().body == work_note.body
    assert Note.unscoped_objects.filter(group__programme__slug="malmo", visibility="public").count() == 1

    open_actions = ActionItem.unscoped_objects.filter(status__in=ActionItem.OPEN_STATUSES)
    assert open_actions.filter(owner=amina).count() == 1
    assert open_actions.count() >= 3

    concepts = Concept.unscoped_objects.filter(programme__slug="malmo")
    assert sorted(concepts.values_list("name", flat=True)) == [
        "Elev/studerande",
        "Klient",
        "Kund",
        "Medborgare",
        "Patient",
    ]
    for concept in concepts:
        terms = ConceptTerm.unscoped_objects.filter(concept=concept)
        assert terms.count() >= 3
        assert not terms.filter(definition="").exists()
    assert ConceptComment.unscoped_objects.filter(concept__name="Kund").count() == 2
