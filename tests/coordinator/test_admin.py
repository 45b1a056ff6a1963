"""The admin site follows the rules of the pages and the API, for every model registered on it.

``programme B rows``: one row of every registered model in the other programme; a model registered on the
site without a row here fails the walk, so a new model admin cannot skip the isolation check.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db.models import Model
from django.utils import timezone

from coordinator.core.tenancy import programme_scope
from focusgroups.models import GroupMembership, Note
from organisations.access.admin import site
from organisations.models import Membership, Organisation, PlatformRole
from seminars.models import Enrolment
from shadowing.models import MatchingRun, Placement, PlacementCost, ShadowingRequest
from tests.factories import OrganisationFactory, UnitFactory, make_member
from tests.factories.focusgroups import (
    ActionFactory,
    ConceptFactory,
    FocusGroupFactory,
    MeetingFactory,
    make_group_member,
    make_note,
)
from tests.factories.seminars import (
    CompletionFactory,
    CourseFactory,
    RoundCostFactory,
    RoundFactory,
    make_enrolment,
)
from tests.factories.shadowing import SlotFactory, TopicFactory, WorkplaceFactory, make_request

REFUSED = {302, 403, 404}  # the admin answers a row it may not show like a missing one: a redirect


def _programme_b_rows(other_programme: Any, org_other: Any, outsider: Any) -> dict[str, Model]:
    """One row of each registered model in programme B, keyed by ``app_label.model_name``."""
    group = FocusGroupFactory(programme=other_programme, name="Gruppen i Köpenhamn")
    course = CourseFactory(programme=other_programme)
    round_ = RoundFactory(course=course)
    workplace = WorkplaceFactory(programme=other_programme, organisation=org_other, contact=outsider)
    request = make_request(other_programme, outsider, status=ShadowingRequest.Status.PLACED)
    placement = Placement.unscoped_objects.create(
        programme=other_programme,
        request=request,
        workplace=workplace,
        status=Placement.Status.VISITED,
        confidentiality_accepted_at=timezone.now(),
    )
    return {
        "organisations.programme": other_programme,
        "organisations.organisation": org_other,
        "organisations.unit": UnitFactory(organisation=org_other, name="Enhed"),
        "organisations.person": outsider,
        "organisations.membership": Membership.unscoped_objects.get(person=outsider),
        "focusgroups.focusgroup": group,
        "focusgroups.groupmembership": make_group_member(group, outsider),
        "focusgroups.meeting": MeetingFactory(group=group),
        "focusgroups.note": make_note(
            group, title="B title", body="B body", visibility=Note.Visibility.PROGRAMME
        ),
        "focusgroups.actionitem": ActionFactory(group=group, owner=outsider),
        "focusgroups.concept": ConceptFactory(programme=other_programme),
        "seminars.course": course,
        "seminars.round": round_,
        "seminars.enrolment": make_enrolment(round_, outsider, status=Enrolment.Status.CONFIRMED),
        "seminars.completion": CompletionFactory(person=outsider, course=course),
        "seminars.roundcost": RoundCostFactory(round=round_),
        "shadowing.topic": TopicFactory(programme=other_programme),
        "shadowing.workplace": workplace,
        "shadowing.slot": SlotFactory(workplace=workplace),
        "shadowing.shadowingrequest": request,
        "shadowing.matchingrun": MatchingRun.unscoped_objects.create(programme=other_programme),
        "shadowing.placement": placement,
        "shadowing.placementcost": PlacementCost.unscoped_objects.create(
            programme=other_programme, placement=placement, kind=PlacementCost.Kind.TRAVEL, amount=640
        ),
    }


def _label(model: type[Model]) -> str:
    return f"{model._meta.app_label}.{model._meta.model_name}"


def test_admin_every_registered_model_hides_other_programme_rows(
    web, programme_admin, other_programme, org_other, outsider, group_notes
):
    rows = _programme_b_rows(other_programme, org_other, outsider)
    client = web(programme_admin)
    for model in site._registry:
        label = _label(model)
        assert label in rows, (
            f"{label} is registered on the admin site but has no programme B row in this test"
        )
        foreign = rows[label]
        changelist = client.get(f"/admin/{model._meta.app_label}/{model._meta.model_name}/")
        assert changelist.status_code == 200, label
        shown = [row.pk for row in changelist.context["cl"].result_list]
        assert foreign.pk not in shown, label
        change = client.get(f"/admin/{model._meta.app_label}/{model._meta.model_name}/{foreign.pk}/change/")
        assert change.status_code in REFUSED, label
        # The group-only note of a group the admin is not in appears on no list and no change page.
        for page in [changelist] + [
            client.get(f"/admin/{model._meta.app_label}/{model._meta.model_name}/{pk}/change/")
            for pk in shown
        ]:
            text = page.content.decode()
            assert ("Hemlig rubrik" in text, "Hemlig text om ärendet" in text) == (False, False), label


@pytest.fixture
def group_notes(programme: Any, programme_admin: Any, staff_a: Any) -> dict[str, Note]:
    """A group the admin is not in (its group-only and shared notes) and a group the admin belongs to."""
    closed = FocusGroupFactory(programme=programme, name="Stängd grupp")
    make_group_member(closed, staff_a)
    own = FocusGroupFactory(programme=programme, name="Adminens grupp")
    make_group_member(own, programme_admin)
    return {
        "secret": make_note(closed, title="Hemlig rubrik", body="Hemlig text om ärendet"),
        "shared": make_note(
            closed, title="Delad rubrik", body="Delad text", visibility=Note.Visibility.PROGRAMME
        ),
        "own": make_note(own, title="Egen rubrik", body="Egen text"),
    }


def test_admin_note_changelist_hides_group_only_notes_of_other_groups(web, programme_admin, group_notes):
    response = web(programme_admin).get("/admin/focusgroups/note/")
    shown = {note.pk for note in response.context["cl"].result_list}
    assert shown == {group_notes["shared"].pk, group_notes["own"].pk}
    assert "Hemlig rubrik" not in response.content.decode()
    searched = web(programme_admin).get("/admin/focusgroups/note/", {"q": "Hemlig"})
    assert list(searched.context["cl"].result_list) == []


def test_admin_note_change_page_refuses_group_only_notes_of_other_groups(web, programme_admin, group_notes):
    client = web(programme_admin)
    secret = client.get(f"/admin/focusgroups/note/{group_notes['secret'].pk}/change/")
    own = client.get(f"/admin/focusgroups/note/{group_notes['own'].pk}/change/")
    history = client.get(f"/admin/focusgroups/note/{group_notes['secret'].pk}/history/")
    assert (secret.status_code, history.status_code) == (302, 302)
    assert "Hemlig" not in client.get(secret["Location"]).content.decode()
    assert own.status_code == 200
    assert "Egen text" in own.content.decode()


def test_admin_note_pages_for_a_superuser_show_every_note(web, group_notes, programme, org_a):
    operator = make_member(programme, org_a, PlatformRole.STAFF)
    User.objects.filter(pk=operator.user_id).update(is_superuser=True, is_staff=True)
    client = web(operator)
    response = client.get("/admin/focusgroups/note/")
    assert {note.pk for note in response.context["cl"].result_list} == {n.pk for n in group_notes.values()}
    assert client.get(f"/admin/focusgroups/note/{group_notes['secret'].pk}/change/").status_code == 200


def test_admin_group_membership_ended_loses_group_only_notes(web, programme_admin, group_notes):
    GroupMembership.unscoped_objects.filter(person=programme_admin).update(
        is_active=False, left_at=timezone.now()
    )
    response = web(programme_admin).get("/admin/focusgroups/note/")
    assert {note.pk for note in response.context["cl"].result_list} == {group_notes["shared"].pk}


def test_admin_programme_admin_may_not_delete_an_organisation_of_two_programmes(
    web, programme_admin, programme, other_programme, outsider
):
    shared = OrganisationFactory(name="Försäkringskassan", programmes=[programme, other_programme])
    client = web(programme_admin)
    page = client.get(f"/admin/organisations/organisation/{shared.pk}/delete/")
    posted = client.post(f"/admin/organisations/organisation/{shared.pk}/delete/", {"post": "yes"})
    assert (page.status_code, posted.status_code) == (403, 403)
    with programme_scope([other_programme.pk]):
        assert list(Organisation.objects.filter(pk=shared.pk).values_list("name", flat=True)) == [
            "Försäkringskassan"
        ]


@pytest.mark.parametrize("model", ["organisation", "person", "membership"])
def test_admin_delete_of_rows_the_pages_never_delete_is_refused(web, programme_admin, staff_a, org_a, model):
    row = {
        "organisation": org_a,
        "person": staff_a,
        "membership": Membership.unscoped_objects.get(person=staff_a),
    }
    response = web(programme_admin).post(
        f"/admin/organisations/{model}/{row[model].pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 403
    assert type(row[model]).unscoped_objects.filter(pk=row[model].pk).count() == 1
