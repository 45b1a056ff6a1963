"""The audit trail of workplaces, placements and requests: who changed what, through the API (token or
session) and pages, filed under the programme; services run outside a request record no actor."""

from __future__ import annotations

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models.signals import pre_save
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from coordinator.core.security import AuditlogMiddleware
from organisations.models import AuditEntryProgramme
from organisations.permissions import actor_for
from shadowing.models import MatchingRun, Placement, ShadowingRequest, Workplace
from shadowing.services import workplaces
from tests.factories.shadowing import make_request

BASE = "/api/v1/shadowing"


def audit_receivers() -> list[object]:
    """The keys of ``pre_save``'s receivers for audit entries."""
    return [key[0] for key, *_ in pre_save.receivers if key[1] == id(LogEntry)]


def updates_of(workplace: Workplace) -> list[LogEntry]:
    return list(
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Workplace),
            object_pk=str(workplace.pk),
            action=LogEntry.Action.UPDATE,
        ).order_by("pk")
    )


def programmes_of(entry: LogEntry) -> list[int]:
    return sorted(
        AuditEntryProgramme.unscoped_objects.filter(log_entry=entry).values_list("programme_id", flat=True)
    )


def test_workplace_change_through_the_api_with_a_token_records_the_caller(workplace_a, host_a, programme):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=host_a.user).key}")

    response = client.patch(f"{BASE}/workplaces/{workplace_a.pk}/", {"city": "Lund"}, format="json")

    assert response.status_code == 200
    [entry] = updates_of(workplace_a)
    assert (entry.actor_id, entry.changes_dict, programmes_of(entry)) == (
        host_a.user_id,
        {"city": ["Malmö", "Lund"]},
        [programme.pk],
    )
    # The API leaves no audit receiver connected behind it: the middleware's own, connected once, alone.
    assert audit_receivers() == [AuditlogMiddleware.SIGNAL_DUID]


def test_workplace_change_through_the_api_with_a_session_records_the_caller(api, workplace_a, host_a):
    response = api(host_a).patch(f"{BASE}/workplaces/{workplace_a.pk}/", {"city": "Lund"}, format="json")

    assert response.status_code == 200
    [entry] = updates_of(workplace_a)
    assert (entry.actor_id, entry.changes_dict) == (host_a.user_id, {"city": ["Malmö", "Lund"]})


def test_workplace_change_through_a_page_records_the_person(web, workplace_a, host_a, programme):
    response = web(host_a).post(
        reverse("shadowing:workplace-publish", args=[workplace_a.pk]), {"action": "unpublish"}
    )

    assert response.status_code == 302
    [entry] = updates_of(workplace_a)
    assert (entry.actor_id, entry.changes_dict, programmes_of(entry)) == (
        host_a.user_id,
        {"is_published": ["True", "False"]},
        [programme.pk],
    )


def test_workplace_change_outside_a_request_records_no_actor(workplace_a, host_a, programme, in_programme):
    with in_programme(programme):
        workplaces.workplace_unpublish(actor=actor_for(host_a.user), workplace=workplace_a)

    [entry] = updates_of(workplace_a)
    assert (entry.actor_id, entry.changes_dict, programmes_of(entry)) == (
        None,
        {"is_published": ["True", "False"]},
        [programme.pk],
    )


def status_updates(obj: object) -> list[tuple[int | None, dict[str, list[str]]]]:
    entries = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(type(obj)),
        object_pk=str(obj.pk),  # type: ignore[attr-defined]
        action=LogEntry.Action.UPDATE,
    ).order_by("pk")
    return [(entry.actor_id, entry.changes_dict) for entry in entries]


def test_placement_steps_and_request_decisions_are_on_the_trail(
    api, programme, slot_a, shadower, host_a, manager_b, make_placement
):
    placement = make_placement(make_request(programme, shadower), [slot_a], Placement.Status.AWAITING_HOST)
    pending = make_request(programme, shadower, status=ShadowingRequest.Status.PENDING_APPROVAL)

    accepted = api(host_a).post(f"{BASE}/placements/{placement.pk}/accept/")
    approved = api(manager_b).post(f"{BASE}/requests/{pending.pk}/approve/", {"note": "OK"}, format="json")

    assert (accepted.status_code, approved.status_code) == (200, 200)
    assert status_updates(placement) == [(host_a.user_id, {"status": ["awaiting_host", "host_accepted"]})]
    assert status_updates(pending) == [(manager_b.user_id, {"status": ["pending_approval", "approved"]})]


def test_matching_run_confirm_and_discard_are_on_the_trail(
    api, programme, workplace_a, slot_a, shadower, coordinator
):
    make_request(programme, shadower)
    client = api(coordinator)
    confirmed = client.post(f"{BASE}/matching-runs/", {"programme": programme.pk}, format="json").json()
    client.post(f"{BASE}/matching-runs/{confirmed['id']}/confirm/")
    discarded = client.post(f"{BASE}/matching-runs/", {"programme": programme.pk}, format="json").json()
    client.post(f"{BASE}/matching-runs/{discarded['id']}/discard/")

    runs = [MatchingRun.unscoped_objects.get(pk=run["id"]) for run in (confirmed, discarded)]
    assert [status_updates(run)[-1] for run in runs] == [
        (coordinator.user_id, {"status": ["proposed", "confirmed"]}),
        (coordinator.user_id, {"status": ["proposed", "discarded"]}),
    ]
