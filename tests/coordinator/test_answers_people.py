"""The people list's first page kept whole (``answer_topics = ("people",)``): every change of what it shows,
by any writer, is seen on the next request; readers of other rights and other programmes never share an
entry."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from coordinator.core.tenancy import programme_scope
from organisations.models import Membership, Organisation, Person, Programme, RoleAssignment, Unit, WorkRole
from organisations.models import PlatformRole as R
from tests.coordinator import test_answers
from tests.coordinator.test_answers import World, fresh, kept, statement
from tests.factories import UnitFactory, make_member

# The kept answers' fixtures: a programme of two organisations, and clients with API tokens.
world = test_answers.world
api = test_answers.api

PEOPLE = "/api/v1/people/"


def _raw(sql: str, *params: object) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))


def _phone_by_update(w: World) -> None:
    Person.unscoped_objects.filter(pk=w.staff_a.pk).update(phone="+46 40 123 45 67")


def _user_renamed_by_raw_sql(w: World) -> None:
    _raw("UPDATE auth_user SET last_name = %s WHERE id = %s", "Åberg", w.staff_b.user_id)


def _line_manager_renamed_by_update(w: World) -> None:
    # The report's row shows its line manager's name: the manager's user changes, not the report's rows.
    User.objects.filter(pk=w.manager.user_id).update(first_name="Zlatan")


def _line_manager_changed_by_update(w: World) -> None:
    Person.unscoped_objects.filter(pk=w.report.pk).update(line_manager=w.staff_a)


def _membership_ended_by_update(w: World) -> None:
    Membership.unscoped_objects.filter(person=w.staff_b, programme=w.programme).update(is_active=False)


def _role_given_by_create(w: World) -> None:
    membership = Membership.unscoped_objects.get(person=w.staff_a, programme=w.programme)
    RoleAssignment.unscoped_objects.create(membership=membership, role=R.HOST_CONTACT)


def _role_taken_by_delete(w: World) -> None:
    RoleAssignment.unscoped_objects.filter(membership__person=w.coordinator, role=R.STAFF).delete()


def _work_role_given_by_update(w: World) -> None:
    Membership.unscoped_objects.filter(person=w.staff_a).update(work_role=w.roles[0])


def _work_role_renamed_by_raw_sql(w: World) -> None:
    Membership.unscoped_objects.filter(person=w.staff_a).update(work_role=w.roles[0])
    _raw("UPDATE organisations_workrole SET name = %s WHERE id = %s", "Socialsekreterare", w.roles[0].pk)


def _organisation_renamed_by_save(w: World) -> None:
    w.org_b.short_name = "MS"
    w.org_b.save()


def _unit_renamed_by_update(w: World) -> None:
    unit = UnitFactory(organisation=w.org_a, name="Mottagning")
    Person.unscoped_objects.filter(pk=w.staff_a.pk).update(unit=unit)
    Unit.unscoped_objects.filter(pk=unit.pk).update(name="Asylprövning")


def _person_added(w: World) -> None:
    make_member(w.programme, w.org_b, R.STAFF)


def _person_erased_by_update(w: World) -> None:
    Person.unscoped_objects.filter(pk=w.staff_b.pk).update(erased_at="2026-01-01T00:00:00Z")


WRITES: list[Callable[[World], None]] = [
    _phone_by_update,
    _user_renamed_by_raw_sql,
    _line_manager_renamed_by_update,
    _line_manager_changed_by_update,
    _membership_ended_by_update,
    _role_given_by_create,
    _role_taken_by_delete,
    _work_role_given_by_update,
    _work_role_renamed_by_raw_sql,
    _organisation_renamed_by_save,
    _unit_renamed_by_update,
    _person_added,
    _person_erased_by_update,
]


@pytest.mark.parametrize("reader", ["coordinator", "staff_a"])
@pytest.mark.parametrize("write", WRITES, ids=[write.__name__[1:] for write in WRITES])
def test_a_change_of_what_the_people_list_shows_is_seen_on_the_next_request(world, api, reader, write):
    client = api(getattr(world, reader))
    before = kept(client, PEOPLE)

    write(world)

    after = client.get(PEOPLE)
    assert after.status_code == 200
    assert after.content == fresh(client, PEOPLE).content
    assert after.content != before.content


def test_a_login_and_a_feed_token_keep_the_entry(world, api):
    """Columns the list does not show (the last sign-in) leave the stamp alone: the answer stays kept."""
    client = api(world.staff_a)
    before = kept(client, PEOPLE)
    User.objects.filter(pk=world.staff_b.user_id).update(last_login="2026-12-01T08:00:00Z")
    with CaptureQueriesContext(connection) as queries:
        again = client.get(PEOPLE)
    assert again.content == before.content
    assert [statement(q["sql"]) for q in queries] == ["identity with stamps"]


def test_readers_of_other_organisations_never_share_an_entry(world, api):
    """Contact details show to the person's own organisation and to coordinators: each reader's kept page is
    their own, and each is the page built anew for them."""
    Person.unscoped_objects.filter(pk=world.staff_a.pk).update(phone="+46 40 111 11 11")
    pages = {}
    for name in ("staff_a", "staff_b", "coordinator"):
        client = api(getattr(world, name))
        pages[name] = kept(client, PEOPLE).content
        assert pages[name] == fresh(client, PEOPLE).content
    assert b"+46 40 111 11 11" in pages["staff_a"]
    assert b"+46 40 111 11 11" not in pages["staff_b"]
    assert b"+46 40 111 11 11" in pages["coordinator"]


def test_another_programmes_people_are_never_shown_and_their_changes_keep_the_entry(
    world, api, other_programme: Programme, org_other: Organisation
):
    stranger = make_member(other_programme, org_other, R.COORDINATOR, phone="+45 11 22 33 44")
    User.objects.filter(pk=stranger.user_id).update(first_name="Hemmelig")
    client = api(world.staff_a)
    before = kept(client, PEOPLE)
    assert b"Hemmelig" not in before.content
    assert b"+45 11 22 33 44" not in before.content

    User.objects.filter(pk=stranger.user_id).update(first_name="Hemmeligere")
    Person.unscoped_objects.filter(pk=stranger.pk).update(phone="+45 99 88 77 66")
    with CaptureQueriesContext(connection) as queries:
        again = client.get(PEOPLE)
    assert again.content == before.content
    assert [statement(q["sql"]) for q in queries] == ["identity with stamps"]

    theirs = api(stranger)
    page = kept(theirs, PEOPLE).content
    assert b"Hemmeligere" in page
    assert world.staff_a.user.last_name.encode() not in page


def test_a_member_of_two_programmes_sees_the_change_in_either(
    world, api, other_programme: Programme, org_other: Organisation
):
    Membership.unscoped_objects.create(programme=other_programme, person=world.staff_a)
    colleague = make_member(other_programme, org_other, R.STAFF)
    client = api(world.staff_a)
    before = kept(client, PEOPLE)
    User.objects.filter(pk=colleague.user_id).update(last_name="Østergaard")
    after = client.get(PEOPLE)
    assert b"\\u00d8stergaard" in after.content or "Østergaard".encode() in after.content
    assert after.content != before.content
    assert after.content == fresh(client, PEOPLE).content


def test_the_work_roles_of_another_programme_keep_the_entry(world, api, other_programme: Programme):
    role = WorkRole.unscoped_objects.create(programme=other_programme, name="Sagsbehandler")
    client = api(world.staff_a)
    before = kept(client, PEOPLE)
    with programme_scope([other_programme.pk]):
        WorkRole.unscoped_objects.filter(pk=role.pk).update(name="Rådgiver")
    with CaptureQueriesContext(connection) as queries:
        again = client.get(PEOPLE)
    assert again.content == before.content
    assert [statement(q["sql"]) for q in queries] == ["identity with stamps"]
