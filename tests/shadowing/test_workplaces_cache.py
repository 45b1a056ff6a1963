"""The workplaces page's cache: a change through every kind of writer is seen on the very next request, a
booked slot changes the free days without writing the entry again, rights are the viewer's own, and no
programme or language is served another's."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.urls import reverse

from coordinator.core.models import ContentVersion
from coordinator.core.tenancy import programme_scope
from organisations.models import Person
from organisations.models import PlatformRole as R
from shadowing.models import Slot, Topic, Workplace
from shadowing.services import workplaces
from tests.factories.organisations import make_member
from tests.factories.shadowing import SlotFactory, TopicFactory, WorkplaceFactory, future_weekday

WORKPLACES = reverse("shadowing:workplaces")


def page(client: Any, query: str = "") -> str:
    return client.get(WORKPLACES + query).content.decode()


def free_days(html: str) -> str:
    return html.split("<dt>Free days</dt><dd>")[1].split("</dd>")[0]


def test_a_workplace_changed_by_its_service_is_seen_on_the_next_request(
    web, workplace_a, shadower, host_a, programme, as_actor
):
    client = web(shadower)
    assert ">Mottagningsenheten</a>" in page(client)

    with programme_scope([programme.pk]):
        workplaces.workplace_update(
            actor=as_actor(host_a), workplace=workplace_a, values={"name": "Nya enheten"}
        )

    html = page(client)
    assert (">Nya enheten</a>" in html, ">Mottagningsenheten</a>" in html) == (True, False)


def test_unpublishing_by_queryset_update_is_seen_on_the_next_request(web, workplace_a, shadower, programme):
    client = web(shadower)
    assert page(client).count('class="card workplace-card"') == 1

    with programme_scope([programme.pk]):
        Workplace.objects.filter(pk=workplace_a.pk).update(is_published=False)

    assert page(client).count('class="card workplace-card"') == 0


def test_topics_added_by_bulk_create_are_seen_on_the_next_request(web, workplace_a, shadower, programme):
    client = web(shadower)
    assert "Nytt ämne" not in page(client)

    with programme_scope([programme.pk]):
        Topic.objects.bulk_create([Topic(programme=programme, name="Nytt ämne")])

    assert '<option value="' in page(client) and ">Nytt ämne</option>" in page(client)


def test_a_topic_linked_by_raw_sql_is_seen_on_the_next_request(web, workplace_a, shadower, programme):
    extra = TopicFactory(programme=programme, name="Tolkning")
    client = web(shadower)
    assert "Asylprocessen</dd>" in page(client)

    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO shadowing_workplace_topics (workplace_id, topic_id) VALUES (%s, %s)",
            [workplace_a.pk, extra.pk],
        )

    assert "Asylprocessen, Tolkning</dd>" in page(client)
    assert page(client, f"?topic={extra.pk}").count('class="card workplace-card"') == 1


def test_a_booked_slot_changes_the_free_days_live_and_keeps_the_entry(
    web, workplace_a, shadower, programme, django_assert_num_queries
):
    slot = SlotFactory(workplace=workplace_a, date=future_weekday(2), capacity=1)
    client = web(shadower)
    assert free_days(page(client)) == "1 coming slot with a free place"

    Slot.unscoped_objects.filter(pk=slot.pk).update(booked=1)

    with django_assert_num_queries(4):  # the entry is not read again: a booking is no content change
        html = page(client)
    assert free_days(html) == "0 coming slots with a free place"


def test_rights_are_the_viewers_own_from_one_entry(web, workplace_a, shadower, host_a, programme):
    ask = f"/shadowing/requests/new/?workplace={workplace_a.pk}"
    edit = f"/shadowing/host/workplaces/{workplace_a.pk}/edit/"

    visitor, host = page(web(shadower)), page(web(host_a))

    assert (ask in visitor, edit in visitor) == (True, False)
    assert (ask in host, edit in host, "Your own organisation" in host) == (False, True, True)


def test_two_programmes_never_share_an_entry(web, workplace_a, shadower, other_programme, org_other):
    other = make_member(other_programme, org_other, R.HOST_CONTACT, R.STAFF)
    WorkplaceFactory(programme=other_programme, organisation=org_other, contact=other, name="Arbejdsplads")

    # Both at the same stamp, as on data written before the triggers were installed.
    ContentVersion.objects.all().delete()

    mine, theirs = page(web(shadower)), page(web(other))

    assert (">Mottagningsenheten</a>" in mine, "Arbejdsplads" in mine) == (True, False)
    assert (">Mottagningsenheten</a>" in theirs, "Arbejdsplads" in theirs) == (False, True)


def test_two_languages_never_share_an_entry(web, workplace_a, shadower, host_b):
    Person.unscoped_objects.filter(pk=host_b.pk).update(preferred_language="sv")

    english, swedish = page(web(shadower)), page(web(host_b))

    assert ("<dt>Topics</dt>" in english, "<dt>Ämnen</dt>" in english) == (True, False)
    assert ("<dt>Topics</dt>" in swedish, "<dt>Ämnen</dt>" in swedish) == (False, True)


@pytest.mark.parametrize("query", ["?organisation=x", "?topic=99999999999999999999", "?language=%00"])
def test_a_bad_filter_is_a_form_error_not_a_server_error(web, workplace_a, shadower, query):
    response = web(shadower).get(WORKPLACES + query)

    assert response.status_code == 200
    assert "Select a valid choice." in response.content.decode()
