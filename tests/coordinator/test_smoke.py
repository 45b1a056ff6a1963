from __future__ import annotations

import pytest


@pytest.mark.django_db
def test_home_answers_for_anonymous(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"Samverkan" in response.content


def test_people_me_for_member(api, staff_a):
    response = api(staff_a).get("/api/v1/people/me/")
    assert response.status_code == 200
    assert response.json()["id"] == staff_a.pk
