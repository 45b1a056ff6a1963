"""A course session on a public holiday or day off of the programme's country is allowed (a course abroad,
a chosen weekend) but the coordinator is warned."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from organisations.models import Programme
from seminars.models import Session

pytestmark = [pytest.mark.django_db]

NEXT = timezone.localdate().year + 1


@pytest.mark.parametrize(("country", "warned"), [("SE", True), ("", False)])
def test_a_session_on_a_day_off_is_saved_with_a_warning(web, programme, round_, coordinator, country, warned):
    Programme.unscoped_objects.filter(pk=programme.pk).update(country=country)
    response = web(coordinator).post(
        reverse("seminars:session-create", args=[round_.pk]),
        {
            "title": "Dag 1",
            "starts_at": f"{NEXT}-12-25T09:00",
            "ends_at": f"{NEXT}-12-25T16:00",
            "place": "Sal 2",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert Session.unscoped_objects.filter(round=round_, starts_at__date=date(NEXT, 12, 25)).count() == 1
    text = response.content.decode()
    assert ("Christmas Day: a day off for most participants" in text) is warned
