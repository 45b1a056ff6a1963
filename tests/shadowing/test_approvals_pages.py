"""The approvals page in pages of 20 waiting requests, oldest first: the number waiting and links to the
other pages, a fixed number of queries however many wait, bad page numbers answered with a page (never an
error), and only the line manager's own requests counted and shown."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from coordinator.core.tenancy import unscoped
from organisations.models import Person, PlatformRole
from shadowing.models import ShadowingRequest
from tests.factories import make_member
from tests.factories.shadowing import make_request

R = PlatformRole
RS = ShadowingRequest.Status
APPROVALS = "/shadowing/approvals/"
SUBMITTED = datetime(2027, 1, 11, 9, 0, tzinfo=timezone.get_fixed_timezone(60))


def waiting(programme, requester, n, *, start=0, status=RS.PENDING_APPROVAL):
    """``n`` requests of ``requester``, submitted a minute apart from ``start`` minutes on; their keys."""
    keys = []
    with unscoped():
        for i in range(n):
            request = make_request(programme, requester, status=status)
            ShadowingRequest.unscoped_objects.filter(pk=request.pk).update(
                submitted_at=SUBMITTED + timedelta(minutes=start + i)
            )
            keys.append(request.pk)
    return keys


def shown(response):
    """The keys of the requests on the page, in order."""
    cards = re.findall(r'<article class="card request-card" aria-labelledby="req-(\d+)"', main(response))
    return [int(key) for key in cards]


def main(response):
    html = response.content.decode()
    return html[html.index('<main id="main"') : html.index("</main>")]


def nav(response):
    html = response.content.decode()
    found = re.findall(r'<nav aria-label="[^"]+" class="pages">.*?</nav>', html, re.S)
    return re.sub(r"\s+", " ", found[0]) if found else None


@pytest.fixture
def report(programme, org_b, unit_b, manager_b):
    return make_member(programme, org_b, R.STAFF, unit=unit_b, line_manager=manager_b)


def test_first_page_shows_the_oldest_twenty_with_the_number_waiting(web, programme, manager_b, report):
    keys = waiting(programme, report, 45)

    response = web(manager_b).get(APPROVALS)

    assert response.status_code == 200
    assert shown(response) == keys[:20]
    assert nav(response) == (
        '<nav aria-label="Pages" class="pages"> <p>45 requests wait for your decision. Page 1 of 3</p> '
        '<a href="?page=2" rel="next">Next page</a> </nav>'
    )
    assert main(response).count('<input type="hidden" name="next" value="/shadowing/approvals/">') == 40


def test_later_pages_link_both_ways_and_decisions_come_back_to_them(web, programme, manager_b, report):
    keys = waiting(programme, report, 45)
    client = web(manager_b)

    second = client.get(APPROVALS, {"page": "2"})
    third = client.get(APPROVALS, {"page": "3"})
    approved = client.post(
        f"/shadowing/requests/{keys[20]}/approve/", {"next": "/shadowing/approvals/?page=2"}
    )

    assert shown(second) == keys[20:40]
    assert nav(second) == (
        '<nav aria-label="Pages" class="pages"> <p>45 requests wait for your decision. Page 2 of 3</p> '
        '<a href="?page=1" rel="prev">Previous page</a> <a href="?page=3" rel="next">Next page</a> </nav>'
    )
    assert main(second).count('name="next" value="/shadowing/approvals/?page=2">') == 40
    assert shown(third) == keys[40:]
    assert nav(third) == (
        '<nav aria-label="Pages" class="pages"> <p>45 requests wait for your decision. Page 3 of 3</p> '
        '<a href="?page=2" rel="prev">Previous page</a> </nav>'
    )
    assert (approved.status_code, approved["Location"]) == (302, "/shadowing/approvals/?page=2")
    assert ShadowingRequest.unscoped_objects.get(pk=keys[20]).status == RS.APPROVED


def test_twenty_or_fewer_need_no_page_links(web, programme, manager_b, report):
    keys = waiting(programme, report, 20)

    response = web(manager_b).get(APPROVALS)

    assert (shown(response), nav(response)) == (keys, None)


@pytest.mark.parametrize(
    ("number", "page"),
    [
        ("abc", 1),
        ("0", 1),
        ("-1", 1),
        ("", 1),
        ("1.5", 1),
        ("4", 3),  # past the end: the last page (requests leave as they are decided)
        ("9223372036854775807", 3),
        ("99999999999999999999999999", 1),  # not a number the database could hold
    ],
)
def test_bad_page_numbers_answer_the_first_or_last_page(web, programme, manager_b, report, number, page):
    keys = waiting(programme, report, 45)

    response = web(manager_b).get(APPROVALS, {"page": number})

    assert response.status_code == 200
    assert shown(response) == keys[(page - 1) * 20 : page * 20]


def test_a_page_number_with_nothing_waiting_answers_the_empty_page(web, manager_b):
    response = web(manager_b).get(APPROVALS, {"page": "7"})

    assert response.status_code == 200
    assert b"No shadowing request waits for your approval." in response.content
    assert nav(response) is None


def test_only_the_managers_own_requests_are_counted_and_shown(
    web, programme, other_programme, org_a, org_b, org_other, unit_b, manager_b, report
):
    other_manager = make_member(programme, org_a, R.LINE_MANAGER, R.STAFF)
    elsewhere = make_member(programme, org_a, R.STAFF, line_manager=other_manager)
    abroad = make_member(other_programme, org_other, R.STAFF, line_manager=manager_b)
    # Older than the manager's own: on the first pages, were they not filtered out.
    theirs = waiting(programme, elsewhere, 25, start=-100)
    foreign = waiting(other_programme, abroad, 25, start=-50)
    own = waiting(programme, manager_b, 3, start=-10)
    decided = waiting(programme, report, 2, start=-5, status=RS.APPROVED)
    mine = waiting(programme, report, 21)

    first = web(manager_b).get(APPROVALS)
    second = web(manager_b).get(APPROVALS, {"page": "2"})
    other = web(other_manager).get(APPROVALS)

    assert (shown(first), shown(second)) == (mine[:20], mine[20:])
    assert "21 requests wait for your decision. Page 1 of 2" in nav(first)
    assert shown(other) == theirs[:20]
    assert "25 requests wait for your decision. Page 1 of 2" in nav(other)
    assert not set(shown(first) + shown(second) + shown(other)) & set(foreign + own + decided)


def test_the_number_waiting_in_the_managers_language(web, programme, manager_b, report):
    waiting(programme, report, 21)
    Person.unscoped_objects.filter(pk=manager_b.pk).update(preferred_language="sv")

    response = web(manager_b).get(APPROVALS, {"page": "2"})

    assert nav(response) == (
        '<nav aria-label="Sidor" class="pages"> <p>21 förfrågningar väntar på ditt beslut. Sida 2 av 2</p> '
        '<a href="?page=1" rel="prev">Föregående sida</a> </nav>'
    )


@pytest.mark.parametrize("n", [0, 1, 3, 45])
def test_first_page_queries_do_not_grow_with_the_requests_waiting(
    web, programme, manager_b, report, n, django_assert_num_queries
):
    waiting(programme, report, n)
    client = web(manager_b)
    client.get(APPROVALS)

    # The session and the identity (person, memberships, unread count); the page with the number waiting
    # and each request's topics, windows and wishes, in one query; the decided ones.
    with django_assert_num_queries(5):
        response = client.get(APPROVALS)

    assert len(shown(response)) == min(n, 20)


@pytest.mark.parametrize("n", [25, 60])
def test_later_page_queries_do_not_grow_with_the_requests_waiting(
    web, programme, manager_b, report, n, django_assert_num_queries
):
    waiting(programme, report, n)
    client = web(manager_b)
    client.get(APPROVALS, {"page": "2"})

    # As the first page: the page with the number waiting in one query.
    with django_assert_num_queries(5):
        response = client.get(APPROVALS, {"page": "2"})

    assert len(shown(response)) == min(n - 20, 20)
