"""The weekly status: sent once a week to the steering group and each organisation's admins in their own
language, and the same as a page and a print view."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from coordinator.core.models import Notification
from coordinator.core.statistics import week_start
from coordinator.core.tenancy import unscoped
from organisations.jobs import weekly_status_send
from organisations.models import PlatformRole, WeeklyStatus
from tests.factories import make_member
from tests.factories.outcomes import make_ptsd_data

R = PlatformRole
ZONE = ZoneInfo("Europe/Stockholm")


def _monday_at(hour: int) -> datetime:
    return datetime.combine(week_start(timezone.localdate()), time(hour, 0), tzinfo=ZONE)


def _send(now):
    with unscoped():
        return weekly_status_send(now=now)


@pytest.fixture
def ptsd(programme, other_programme):
    return make_ptsd_data(programme, other_programme, timezone.localdate())


@pytest.fixture
def ptsd_on_monday(programme, other_programme):
    """The data as it stands on this week's Monday, the day the status below is sent: the status counts
    what was done by then, so data dated later in the week would not be counted yet."""
    return make_ptsd_data(programme, other_programme, week_start(timezone.localdate()))


def test_the_status_goes_out_once_a_week_to_the_steering_group_and_organisation_admins(
    programme, ptsd_on_monday
):
    ptsd = ptsd_on_monday
    steering = make_member(programme, ptsd.orgs["MS"], R.STEERING_GROUP)
    mv_admin = make_member(programme, ptsd.orgs["MV"], R.ORGANISATION_ADMIN)
    make_member(programme, ptsd.orgs["MV"], R.STAFF)  # not told
    assert _send(_monday_at(6)) == 0  # before 07:00 on Monday
    assert _send(_monday_at(8)) == 2
    assert _send(_monday_at(8)) == 0
    assert _send(_monday_at(8) + timedelta(days=3)) == 0
    rows = Notification.unscoped_objects.filter(kind="organisations.weekly_status").order_by("recipient_id")
    assert [row.recipient_id for row in rows] == sorted([steering.pk, mv_admin.pk])
    by_person = {row.recipient_id: row for row in rows}
    assert by_person[steering.pk].title == "Weekly status of Lokalt kompetensutvecklingsprogram Malmö"
    body = by_person[steering.pk].body
    assert "- Alla handläggare har grundkursen i PTSD: 46%" in body
    assert "Needs a decision" in body
    assert "Your organisation" not in body
    assert "Your organisation: 60 %" in by_person[mv_admin.pk].body
    assert by_person[mv_admin.pk].url == f"/organisations/status/?organisation={ptsd.orgs['MV'].pk}"
    assert WeeklyStatus.unscoped_objects.get(programme=programme).recipients == 2


def test_each_reads_the_status_in_their_own_language(programme, ptsd):
    swede = make_member(programme, ptsd.orgs["MS"], R.STEERING_GROUP, preferred_language="sv")
    dane = make_member(programme, ptsd.orgs["MV"], R.STEERING_GROUP, preferred_language="da")
    _send(_monday_at(9))
    titles = dict(
        Notification.unscoped_objects.filter(kind="organisations.weekly_status").values_list(
            "recipient_id", "title"
        )
    )
    assert titles[swede.pk] == "Veckostatus för Lokalt kompetensutvecklingsprogram Malmö"
    assert titles[dane.pk] == "Ugentlig status for Lokalt kompetensutvecklingsprogram Malmö"
    bodies = dict(
        Notification.unscoped_objects.filter(kind="organisations.weekly_status").values_list(
            "recipient_id", "body"
        )
    )
    assert "Framsteg mot målen" in bodies[swede.pk]
    assert "Fremskridt mod målene" in bodies[dane.pk]


def test_without_a_steering_group_the_programme_admins_get_the_status(programme, ptsd):
    admin = make_member(programme, ptsd.orgs["MS"], R.PROGRAMME_ADMIN)
    assert _send(_monday_at(8)) == 1
    assert Notification.unscoped_objects.get(kind="organisations.weekly_status").recipient_id == admin.pk


def test_a_target_behind_near_its_deadline_needs_a_decision(programme, ptsd):
    ptsd.target.deadline = ptsd.today + timedelta(days=10)
    ptsd.target.save(update_fields=["deadline"])
    steering = make_member(programme, ptsd.orgs["MS"], R.STEERING_GROUP)
    _send(datetime.combine(ptsd.today, time(9, 0), tzinfo=ZONE))
    body = Notification.unscoped_objects.get(recipient=steering).body
    # AF's two completions five days ago are this week's change: 10 → 12 of 26, 38 % → 46 %.
    assert "- Alla handläggare har grundkursen i PTSD: 46% (+8 this week); deadline" in body
    assert "Alla handläggare har grundkursen i PTSD: at the current pace reached on" in body
    assert "Alla handläggare har grundkursen i PTSD: behind with 10 days left: AF, MV." in body


def test_status_page_and_print_view(web, programme, ptsd):
    steering = make_member(programme, ptsd.orgs["MS"], R.STEERING_GROUP)
    client = web(steering)
    page = client.get("/organisations/status/").content.decode()
    assert "Alla handläggare har grundkursen i PTSD" in page and "46 %" in page
    printed = client.get(f"/organisations/status/print/?organisation={ptsd.orgs['MV'].pk}")
    text = printed.content.decode()
    assert printed.status_code == 200
    assert '<body class="print-view">' in text and 'class="site-header"' not in text
    assert "With the figures of MV." in text
    assert client.get("/organisations/status/?organisation=abc").status_code == 200


@pytest.mark.parametrize(
    ("roles", "status"), [((R.STAFF,), 403), ((R.LINE_MANAGER,), 403), ((R.COORDINATOR,), 200)]
)
def test_who_reads_the_status_page(web, programme, org_a, roles, status):
    person = make_member(programme, org_a, *roles)
    assert web(person).get("/organisations/status/").status_code == status
    assert web(person).get("/organisations/status/print/").status_code == status
