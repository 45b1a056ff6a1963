from __future__ import annotations

from decimal import Decimal

import pytest
from django.apps import apps
from django.core.management import call_command

from organisations.models import Funder, Membership, Organisation, Person, PlatformRole, Programme, Unit
from organisations.seed import DEMO_PASSWORD


def _snapshot() -> dict[str, list[tuple]]:
    """Every row of every table the platform owns, as plain values."""
    tables = {}
    for model in apps.get_models():
        if model._meta.app_label not in {
            "organisations",
            "coordinator",
            "shadowing",
            "seminars",
            "focusgroups",
            "auth",
        }:
            continue
        manager = getattr(model, "unscoped_objects", model._base_manager)
        tables[model._meta.label] = sorted(manager.values_list(), key=repr)
    return tables


@pytest.mark.django_db
def test_seed_demo_is_idempotent():
    call_command("seed_demo", "--quiet")
    first = _snapshot()
    call_command("seed_demo", "--quiet")
    assert _snapshot() == first


@pytest.mark.django_db
def test_seed_demo_loads_the_malmo_programme(capsys):
    call_command("seed_demo")
    malmo = Programme.unscoped_objects.get(slug="malmo")
    assert malmo.name == "Lokalt kompetensutvecklingsprogram Malmö"
    assert (malmo.time_zone, malmo.language) == ("Europe/Stockholm", "sv")
    assert sorted(Funder.unscoped_objects.filter(programme=malmo).values_list("name", "share_percent")) == [
        ("Equal (Europeiska socialfonden)", Decimal("25.00")),
        ("Malmö stad", Decimal("75.00")),
    ]
    assert sorted(
        Organisation.unscoped_objects.filter(participations__programme=malmo).values_list("name", flat=True)
    ) == [
        "Arbetsförmedlingen",
        "Malmö stad",
        "Malmö universitet",
        "Migrationsverket",
        "Region Skåne",
        "Röda korset",
    ]
    assert sorted(
        Unit.unscoped_objects.filter(organisation__name="Malmö stad").values_list("name", flat=True)
    ) == [
        "Introduktionsverksamheten Rosengård",
        "Sfi Malmö (Komvux)",
        "Socialtjänsten Södra Innerstaden",
        "Stadskontoret – kompetensutvecklingsprogrammet",
    ]
    members = Person.unscoped_objects.filter(memberships__programme=malmo)
    assert members.count() >= 30
    # A line manager in every unit that has staff, and a coordinator.
    for unit in Unit.unscoped_objects.filter(organisation__participations__programme=malmo):
        staff = members.filter(unit=unit)
        if staff.exists():
            assert staff.filter(memberships__role_assignments__role=PlatformRole.LINE_MANAGER).exists(), (
                unit.name
            )
    assert Membership.unscoped_objects.filter(
        programme=malmo, role_assignments__role=PlatformRole.COORDINATOR
    ).exists()
    out = capsys.readouterr().out
    assert f"password: {DEMO_PASSWORD}" in out
    assert "johan.bergstrom" in out and "amina.hassan" in out and "mette.sorensen" in out


@pytest.mark.django_db
def test_seed_demo_keeps_the_second_programme_apart():
    call_command("seed_demo", "--quiet")
    copenhagen = Programme.unscoped_objects.get(slug="kobenhavn")
    assert copenhagen.language == "da"
    cph_people = set(
        Person.unscoped_objects.filter(memberships__programme=copenhagen).values_list("pk", flat=True)
    )
    malmo_people = set(
        Person.unscoped_objects.filter(memberships__programme__slug="malmo").values_list("pk", flat=True)
    )
    assert cph_people and not cph_people & malmo_people


@pytest.mark.django_db
def test_demo_users_can_sign_in(client):
    call_command("seed_demo", "--quiet")
    response = client.post("/login/", {"username": "amina.hassan", "password": DEMO_PASSWORD})
    assert (response.status_code, response["Location"]) == (302, "/")


@pytest.mark.django_db
def test_seed_demo_sets_targets_a_steering_group_and_follow_up_answers(client):
    from organisations.models import FollowUp, RoleAssignment, Target

    call_command("seed_demo", "--quiet")
    malmo = Programme.unscoped_objects.get(slug="malmo")
    assert sorted(Target.unscoped_objects.filter(programme=malmo).values_list("measure", flat=True)) == [
        "focusgroups.every_organisation",
        "seminars.completed_course",
        "shadowing.days_hosted_and_sent",
    ]
    assert RoleAssignment.unscoped_objects.filter(
        membership__programme=malmo,
        role="steering_group",
        membership__person__user__username="lars.pettersson",
    ).exists()
    assert FollowUp.unscoped_objects.filter(programme=malmo, answered_at__isnull=False).count() > 0
    lars = Person.unscoped_objects.get(user__username="lars.pettersson")
    client.force_login(lars.user, backend="django.contrib.auth.backends.ModelBackend")
    page = client.get("/barometer/").content.decode()
    assert page.count('<svg class="chart"') == 3
