"""The audit trail's request context (``coordinator.core.security.AuditlogMiddleware``): a page's write is
recorded with the person, the address and the request's correlation id; the receiver that writes them is
connected once, not around every request, and a write after the request carries nothing of it."""

from __future__ import annotations

from auditlog.context import auditlog_value
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models.signals import pre_save

from organisations.models import Membership, RoleAssignment
from organisations.permissions import actor_for
from organisations.services.people import person_update


def _receivers() -> int:
    return len(pre_save.receivers)


def test_a_page_write_is_recorded_with_person_address_and_request_id(
    web, programme, programme_admin, staff_a, in_programme
):
    with in_programme(programme):
        membership = Membership.objects.get(person=staff_a)
        [staff_role] = RoleAssignment.objects.filter(membership=membership)
    client = web(programme_admin)
    client.get("/organisations/")  # the middleware loaded, its receiver connected
    receivers = _receivers()
    before = LogEntry.objects.count()

    response = client.post(
        f"/admin/organisations/membership/{membership.pk}/change/",
        {
            "programme": programme.pk,
            "person": staff_a.pk,
            "work_role": "",
            "is_active": "on",
            "role_assignments-TOTAL_FORMS": "2",
            "role_assignments-INITIAL_FORMS": "1",
            "role_assignments-MIN_NUM_FORMS": "0",
            "role_assignments-MAX_NUM_FORMS": "1000",
            "role_assignments-0-id": staff_role.pk,
            "role_assignments-0-membership": membership.pk,
            "role_assignments-0-role": "staff",
            "role_assignments-1-membership": membership.pk,
            "role_assignments-1-role": "host_contact",
        },
        HTTP_X_CORRELATION_ID="c-1",
    )

    assert response.status_code == 302
    [granted] = LogEntry.objects.order_by("pk")[before:]
    assert (granted.content_type, granted.actor_id, granted.remote_addr, granted.cid) == (
        ContentType.objects.get_for_model(RoleAssignment),
        programme_admin.user_id,
        "127.0.0.1",
        "c-1",
    )
    assert _receivers() == receivers
    assert auditlog_value.get(None) is None


def test_a_write_after_a_request_carries_nothing_of_it(web, programme, staff_a, in_programme):
    web(staff_a).get("/organisations/")
    before = LogEntry.objects.count()

    with in_programme(programme):
        person_update(actor=actor_for(staff_a.user), person=staff_a, values={"phone": "040-123"})

    [entry] = LogEntry.objects.order_by("pk")[before:]
    assert (entry.actor_id, entry.remote_addr) == (None, None)
