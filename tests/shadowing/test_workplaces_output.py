"""The workplaces page's HTML, kept byte for byte: a visitor, a host, a coordinator and a person without
the right to ask, in the three languages and through each filter (an unknown choice included), compared
with pages recorded in ``tests/shadowing/pages/``. Keys are written as names, so the pages hold across
runs."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.urls import reverse

from organisations.models import Person
from organisations.models import PlatformRole as R
from tests.factories.organisations import make_member
from tests.factories.shadowing import SlotFactory, TopicFactory, WorkplaceFactory, future_weekday

PAGES = Path(__file__).parent / "pages"
# Record the pages again (on code whose output is known to be right): RECORD_PAGES=1 pytest this_file
RECORD = os.environ.get("RECORD_PAGES") == "1"


@pytest.fixture
def workplaces_world(programme, org_a, org_b, host_a, shadower, coordinator):
    reception = TopicFactory(programme=programme, name="Mottagning")
    cases = TopicFactory(programme=programme, name="Ärenden <&>")
    TopicFactory(programme=programme, name="Oanvänd")
    first = WorkplaceFactory(
        programme=programme,
        organisation=org_a,
        contact=host_a,
        name="Kontor <Väst> & co",
        topics=[reception, cases],
        description="Ett " + "långt ord " * 60,
    )
    second = WorkplaceFactory(
        programme=programme, organisation=org_b, contact=host_a, name="Rosengård", languages=["ar"], topics=[]
    )
    WorkplaceFactory(programme=programme, organisation=org_b, contact=host_a, name="Tyst", languages=[])
    WorkplaceFactory(
        programme=programme, organisation=org_a, contact=host_a, name="Opublicerad", is_published=False
    )
    SlotFactory(workplace=first)
    SlotFactory(workplace=first, date=future_weekday(2, weeks_ahead=3))
    SlotFactory(workplace=first, date=future_weekday(3, weeks_ahead=3), capacity=1, booked=1)
    SlotFactory(workplace=second, date=future_weekday(4, weeks_ahead=4), capacity=2)
    observer = make_member(programme, org_b, R.COURSE_PROVIDER)
    return {
        "people": {"host": host_a, "visitor": shadower, "coordinator": coordinator, "observer": observer},
        "ids": {"org_a": org_a.pk, "org_b": org_b.pk, "reception": reception.pk, "cases": cases.pk},
    }


def main_of(html: str) -> str:
    return html[html.index('<main id="main"') : html.index("</main>")]


def named(html: str) -> str:
    """The page with each workplace's key written as its name, and each option's as its label."""
    from shadowing.models import Workplace

    names = {str(w.pk): w.name for w in Workplace.unscoped_objects.all()}
    html = re.sub(
        r"(/shadowing/workplaces/|/shadowing/host/workplaces/|wp-|workplace=)(\d+)",
        lambda m: f"{m.group(1)}{{{names.get(m.group(2), m.group(2))}}}",
        html,
    )
    return re.sub(
        r'<option value="(\d+)"([^>]*)>([^<]*)</option>', r'<option value="{\3}"\2>\3</option>', html
    )


VIEWS = [
    ("visitor", "en", ""),
    ("visitor", "sv", "?organisation={org_a}"),
    ("visitor", "da", "?topic={cases}&language=sv"),
    ("host", "en", "?language=ar"),
    ("host", "sv", ""),
    ("coordinator", "da", "?organisation={org_b}&topic={reception}"),
    ("observer", "en", ""),
    ("visitor", "en", "?organisation=987654321&topic=x&language=zz"),
]


@pytest.mark.parametrize(("who", "language", "query"), VIEWS)
def test_workplaces_page_is_written_as_recorded(workplaces_world, web, who, language, query):
    person = workplaces_world["people"][who]
    Person.unscoped_objects.filter(pk=person.pk).update(preferred_language=language)
    client = web(person)
    address = reverse("shadowing:workplaces") + query.format(**workplaces_world["ids"])

    first = client.get(address).content.decode()
    again = client.get(address).content.decode()

    page = named(main_of(first))
    slug = re.sub(r"[^a-z]+", "-", query.format(**{k: "" for k in workplaces_world["ids"]})).strip("-")
    recorded = PAGES / f"workplaces-{who}-{language}{'-' + slug if slug else ''}.html"
    if RECORD:
        recorded.write_text(page)
    assert page == recorded.read_text()
    assert main_of(again) == main_of(first)  # the second, from the cache, as the first
