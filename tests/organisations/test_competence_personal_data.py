"""Competence data in a person's own download and in the erasure; the demo competences of Malmö."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from organisations.models import (
    Competence,
    CompetenceConfirmation,
    CompetenceSource,
    ProfileCompetence,
    Programme,
)
from organisations.permissions import actor_for
from organisations.services import personal_data
from tests.organisations import competence_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(programme, org_a, org_b):
    return competence_data.build(programme, org_a, org_b)


def test_download_holds_my_confirmations_and_profile(api, data):
    response = api(data.secretaries[3]).get("/api/v1/me/data/")
    body = json.loads(b"".join(response.streaming_content))
    assert body["competence_confirmations"] == [
        {
            "programme": data.programme.name,
            "competence": "Hur Arbetsförmedlingen arbetar",
            "gained_on": "2026-03-08",
            "note": "Arbetade tre år på Arbetsförmedlingen",
            "confirmed_at": body["competence_confirmations"][0]["confirmed_at"],
        }
    ]
    assert "competence_profile" not in body


def test_erasure_blanks_the_note_and_keeps_the_gain(data, programme_admin, in_programme):
    subject = data.secretaries[3]
    with in_programme(data.programme):
        personal_data.person_erase(
            actor=actor_for(programme_admin.user), person=subject, programme=data.programme
        )
    confirmation = CompetenceConfirmation.unscoped_objects.get(person=subject)
    assert (confirmation.note, str(confirmation.gained_on)) == ("", "2026-03-08")


def test_demo_data_gives_malmo_competences_and_profiles():
    call_command("seed_demo", "--quiet")
    malmo = Programme.unscoped_objects.get(slug="malmo")
    competences = Competence.unscoped_objects.filter(programme=malmo)
    assert competences.count() == 6
    trauma = competences.get(name="Traumamedvetet bemötande")
    assert sorted(
        CompetenceSource.unscoped_objects.filter(competence=trauma).values_list("kind", flat=True)
    ) == ["agency_kind", "course"]
    mapping = competences.get(name="Kartläggning och handlingsplan")
    assert sorted(
        CompetenceSource.unscoped_objects.filter(competence=mapping).values_list("kind", flat=True)
    ) == ["course", "focus_group"]
    assert (
        ProfileCompetence.unscoped_objects.filter(
            work_role__programme=malmo, work_role__code="introduction_secretary"
        ).count()
        == 5
    )
