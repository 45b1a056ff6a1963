"""The personal feed over HTTP: HEAD, Last-Modified, weak and listed ETags, events' LAST-MODIFIED and SEQUENCE
following what the invites say, and a bounded history of visits."""

from __future__ import annotations

from datetime import date, time, timedelta

import icalendar
import pytest
from django.utils import timezone
from django.utils.http import http_date

from coordinator.core.models import CalendarCopy
from shadowing.models import Placement
from shadowing.services import placements, workplaces
from tests.factories.shadowing import SlotFactory, make_request

pytestmark = [pytest.mark.django_db]
P = Placement.Status


@pytest.fixture
def visit(scope, programme, shadower, workplace_a, make_placement, as_actor):
    slot = SlotFactory(workplace=workplace_a, date=date(2030, 3, 12), starts_at=time(9), ends_at=time(15))
    placement = make_placement(make_request(programme, shadower), [slot], P.HOST_ACCEPTED)
    placements.placement_confirm(actor=as_actor(shadower), placement=placement, accept_confidentiality=True)
    return placement


def _feed_event(response):
    [event] = icalendar.Calendar.from_ical(response.content).walk("VEVENT")
    return event


def test_head_answers_like_get_without_a_body(client, visit, shadower):
    url = f"/calendar/{shadower.calendar_token}.ics"
    got = client.get(url)
    head = client.head(url)

    assert (head.status_code, head.content) == (200, b"")
    assert head["Content-Length"] == str(len(got.content))
    assert (head["ETag"], head["Last-Modified"]) == (got["ETag"], got["Last-Modified"])


def test_weak_and_listed_etags_and_if_modified_since_give_304(client, visit, shadower):
    url = f"/calendar/{shadower.calendar_token}.ics"
    response = client.get(url)
    etag = response["ETag"]

    assert client.get(url, HTTP_IF_NONE_MATCH=f"W/{etag}").status_code == 304
    assert client.get(url, HTTP_IF_NONE_MATCH=f'"stale", {etag}').status_code == 304
    assert client.get(url, HTTP_IF_NONE_MATCH='"stale"').status_code == 200
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=response["Last-Modified"]).status_code == 304
    not_modified = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert (not_modified.status_code, not_modified["ETag"]) == (304, etag)


def test_event_last_modified_and_sequence_follow_a_workplace_change(
    client, visit, shadower, host_a, workplace_a, as_actor, scope
):
    url = f"/calendar/{shadower.calendar_token}.ics"
    before = client.get(url)
    later = timezone.now() + timedelta(minutes=5)
    CalendarCopy.unscoped_objects.update(changed_at=timezone.now() - timedelta(days=1))
    placements_before = _feed_event(client.get(url))

    workplaces.workplace_update(
        actor=as_actor(host_a), workplace=workplace_a, values={"street_address": "Nya vägen 1"}
    )
    CalendarCopy.unscoped_objects.filter(person=shadower).update(changed_at=later)
    after = client.get(url)

    event = _feed_event(after)
    assert int(event["SEQUENCE"]) == 1
    assert event.decoded("LAST-MODIFIED") == later.replace(microsecond=0)
    assert event.decoded("LAST-MODIFIED") > placements_before.decoded("LAST-MODIFIED")
    assert after["Last-Modified"] == http_date(int(later.timestamp()))
    assert after["ETag"] != before["ETag"]


def test_old_visits_leave_the_feed_after_the_history_window(
    client, settings, scope, programme, shadower, workplace_a, make_placement
):
    settings.CALENDAR_FEED_PAST_DAYS = 30
    today = timezone.localdate()
    recent = SlotFactory(
        workplace=workplace_a, date=today - timedelta(days=10), starts_at=time(9), ends_at=time(12)
    )
    old = SlotFactory(
        workplace=workplace_a, date=today - timedelta(days=60), starts_at=time(9), ends_at=time(12)
    )
    kept = make_placement(make_request(programme, shadower), [recent], P.VISITED)
    make_placement(make_request(programme, shadower), [old], P.VISITED)

    response = client.get(f"/calendar/{shadower.calendar_token}.ics")

    uids = [str(e["UID"]) for e in icalendar.Calendar.from_ical(response.content).walk("VEVENT")]
    assert uids == [f"shadowing-visit-{kept.pk}-{kept.days.get().pk}@samverkan.example"]
