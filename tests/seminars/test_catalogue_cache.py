"""The catalogue's cache: a change through every kind of writer is seen on the very next request, a booking
changes the seats without writing the entry again, and no programme or language is served another's."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from coordinator.core.models import ContentVersion
from coordinator.core.tenancy import programme_scope
from organisations.models import Person
from organisations.models import PlatformRole as R
from seminars.models import Course, Round, Session
from seminars.services import courses
from tests.factories.organisations import make_member
from tests.factories.seminars import CourseFactory, RoundFactory, SessionFactory, make_enrolment

CATALOGUE = reverse("seminars:catalogue")


@pytest.fixture
def listed(programme, provider_org, staff_a):
    course = CourseFactory(programme=programme, title="Bemötande", providers=[provider_org])
    round_ = RoundFactory(course=course, label="Vår", capacity=5)
    SessionFactory(round=round_)
    return course, round_


def page(client: Any) -> str:
    return client.get(CATALOGUE).content.decode()


def seats(html: str, round_: Round) -> str:
    row = html[html.index(f'href="/seminars/rounds/{round_.pk}/"') :]
    return re.search(r"<td>(\d+ free|<span class=\"tag warn\">[^<]*</span>) <span", row).group(1)


def test_a_course_changed_by_its_service_is_seen_on_the_next_request(
    web, listed, staff_a, coordinator, as_actor, programme
):
    course, _round = listed
    client = web(staff_a)
    assert ">Bemötande</a>" in page(client)

    with programme_scope([programme.pk]):
        courses.course_update(actor=as_actor(coordinator), course=course, values={"title": "Bemötande 2"})

    html = page(client)
    assert (">Bemötande 2</a>" in html, ">Bemötande</a>" in html) == (True, False)


def test_a_title_set_by_queryset_update_is_seen_on_the_next_request(web, listed, staff_a, programme):
    course, _round = listed
    client = web(staff_a)
    page(client)

    with programme_scope([programme.pk]):
        Course.objects.filter(pk=course.pk).update(title="Uppdaterad")

    assert ">Uppdaterad</a>" in page(client)


def test_sessions_added_by_bulk_create_are_seen_on_the_next_request(web, listed, staff_a, programme):
    _course, round_ = listed
    client = web(staff_a)
    assert "(2 sessions)" not in page(client)
    start = (timezone.now() + timedelta(days=31)).replace(hour=8, minute=0, second=0, microsecond=0)

    extra = Session(round=round_, starts_at=start, ends_at=start + timedelta(hours=7), place="Rum 2")
    extra.fill_programme()
    with programme_scope([programme.pk]):
        Session.objects.bulk_create([extra])

    assert "(2 sessions)" in page(client)


def test_a_round_inserted_by_raw_sql_is_seen_on_the_next_request(web, listed, staff_a):
    course, round_ = listed
    client = web(staff_a)
    page(client)

    with connection.cursor() as cursor:
        cursor.execute("UPDATE seminars_round SET label = %s WHERE id = %s", ["Rå höst", round_.pk])

    assert ">Rå höst</a>" in page(client)


class _Form(HTMLParser):
    """The fields of an admin change form as the browser would post them."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, Any] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in {"submit", "checkbox"}:
            self.data[name] = a.get("value") or ""
        elif tag == "input" and name and "checked" in a:
            self.data[name] = "on"
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in a:
            self.data[self._select] = a.get("value") or ""
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.data[self._textarea] += data


def test_a_provider_renamed_on_the_admin_site_is_seen_on_the_next_request(
    web, listed, staff_a, programme_admin, provider_org
):
    client = web(staff_a)
    assert "Given by Röda korset ·" in page(client)
    admin = web(programme_admin)
    address = f"/admin/organisations/organisation/{provider_org.pk}/change/"
    form = _Form()
    form.feed(admin.get(address).content.decode())
    form.data["name"] = "Röda korset Syd"

    posted = admin.post(address, form.data)

    assert posted.status_code == 302
    assert "Given by Röda korset Syd ·" in page(client)


def test_a_booking_changes_the_seats_live_and_keeps_the_entry(
    web, listed, staff_a, staff_b, django_assert_num_queries
):
    _course, round_ = listed
    client = web(staff_a)
    assert seats(page(client), round_) == "5 free"

    make_enrolment(round_, staff_b)

    with django_assert_num_queries(4):  # the entry is not read again: a booking is no content change
        html = page(client)
    assert seats(html, round_) == "4 free"


def test_the_viewers_own_booking_is_never_from_the_cache(web, listed, staff_a, staff_b):
    _course, round_ = listed
    client_a, client_b = web(staff_a), web(staff_b)
    page(client_a)

    make_enrolment(round_, staff_b)

    assert '<span class="tag">Confirmed</span>' in page(client_b)
    assert '<span class="tag">Confirmed</span>' not in page(client_a)


def test_two_programmes_never_share_an_entry(web, listed, staff_a, other_programme, org_other):
    CourseFactory(programme=other_programme, title="Kursus i København", providers=[org_other])
    RoundFactory(course=Course.unscoped_objects.get(title="Kursus i København"))
    other = make_member(other_programme, org_other, R.STAFF)

    # Both at the same stamp, as on data written before the triggers were installed.
    ContentVersion.objects.all().delete()

    mine, theirs = page(web(staff_a)), page(web(other))

    assert (">Bemötande</a>" in mine, "Kursus i København" in mine) == (True, False)
    assert (">Bemötande</a>" in theirs, "Kursus i København" in theirs) == (False, True)


def test_two_languages_never_share_an_entry(web, listed, staff_a, staff_b):
    Person.unscoped_objects.filter(pk=staff_b.pk).update(preferred_language="sv")

    english, swedish = page(web(staff_a)), page(web(staff_b))

    assert ("Rounds of Bemötande" in english, "Omgångar av Bemötande" in english) == (True, False)
    assert ("Rounds of Bemötande" in swedish, "Omgångar av Bemötande" in swedish) == (False, True)


def _rename_in_another_connection(course_id: int, title: str) -> None:
    from django.db import connections

    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("UPDATE seminars_course SET title = %s WHERE id = %s", [title, course_id])
    finally:
        connections.close_all()


@pytest.mark.django_db(transaction=True)
def test_a_change_committed_by_another_connection_is_seen_on_the_next_request(
    postgres_only, web, listed, staff_a
):
    import threading

    course, _round = listed
    client = web(staff_a)
    assert ">Bemötande</a>" in page(client)

    writer = threading.Thread(target=_rename_in_another_connection, args=(course.pk, "Från en annan process"))
    writer.start()
    writer.join()

    assert ">Från en annan process</a>" in page(client)


UNREACHABLE = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:9/0"}
}


def test_an_unreachable_cache_costs_speed_not_the_page(web, listed, staff_a, settings):
    client = web(staff_a)
    settings.CACHES = UNREACHABLE

    response = client.get(CATALOGUE)

    assert response.status_code == 200
    assert ">Bemötande</a>" in response.content.decode()


def test_the_entry_is_unpickled_once_per_process_and_a_change_still_seen(
    web, listed, staff_a, monkeypatch, programme
):
    from coordinator.core import content

    course, _round = listed
    client = web(staff_a)
    content.RECENT.clear()
    reads: list[str] = []
    shared_get = content.django_cache.get

    def counted(key: str, *args: Any, **kwargs: Any) -> Any:
        reads.append(key.split(":")[1])
        return shared_get(key, *args, **kwargs)

    monkeypatch.setattr(content.django_cache, "get", counted)

    first, second = page(client), page(client)
    Course.unscoped_objects.filter(pk=course.pk).update(title="Bemötande 3")
    third = page(client)

    def main(html: str) -> str:
        return html[html.index("<main") : html.index("</main>")]

    assert main(first) == main(second)
    assert (">Bemötande 3</a>" in third, ">Bemötande</a>" in third) == (True, False)
    # Once for the first stamp, once for the stamp the change wrote; never for the second request.
    assert reads == ["catalogue", "catalogue"]
