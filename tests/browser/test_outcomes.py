"""Competences, gaps, targets, the weekly status and follow-ups in a real browser, as their users go through
them, in Swedish and English, on a desktop and at 390 px: an admin defines competences and a role's
profile, a person's profile fills when a completed course is recorded and when their line manager confirms
a competence; the gap heat map has its numbers in a table; a target shows its progress as a chart readable
without JavaScript; the weekly status and its print view; a line manager answers a follow-up. Every page
passes axe-core and fits the screen."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext

from tests.browser.conftest import axe_violations

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
COMBOS = [
    pytest.param("sv", DESKTOP, id="sv-desktop"),
    pytest.param("sv", PHONE, id="sv-phone"),
    pytest.param("en", DESKTOP, id="en-desktop"),
    pytest.param("en", PHONE, id="en-phone"),
]
MAPPING_COURSE = "Kartläggningsmetodik – gemensam syn på kartläggning och handlingsplan"
# Per language and width: a person who has not taken the mapping course, their email, line manager and
# role at work (each run of the journey changes the demo data, so each has its own person).
PEOPLE = {
    ("sv", 1280): (
        "amina.hassan",
        "amina.hassan@malmostad.example",
        "per.olsson",
        "Introduktionssekreterare",
    ),
    ("sv", 390): (
        "erik.sandberg",
        "erik.sandberg@malmostad.example",
        "per.olsson",
        "Introduktionssekreterare",
    ),
    ("en", 1280): ("sara.johansson", "sara.johansson@mv.example", "lars.pettersson", "Handläggare"),
    ("en", 390): ("mikael.stromberg", "mikael.stromberg@mv.example", "birgitta.axelsson", "Handläggare"),
}
# Line managers whom the follow-up job asks about their staff's course.
MANAGERS = {("sv", 1280): "per.olsson", ("sv", 390): "lars.pettersson", ("en", 1280): "birgitta.axelsson"}
MANAGERS[("en", 390)] = "anna.karlsson"


def t(language: str, text: str) -> str:
    with translation.override(language):
        return gettext(text)


def fits_and_passes(page: Any) -> None:
    """No serious axe violation, and nothing wider than the screen."""
    assert axe_violations(page) == [], page.url
    assert (
        page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    ), page.url


def submit(page: Any) -> None:
    with page.expect_navigation():
        page.locator("main form:not([action*='language']) button[type=submit]").last.click()


def profile_row(page: Any, competence: str) -> Any:
    return page.locator("main tr", has=page.locator("th", has_text=competence))


@pytest.mark.parametrize(("language", "size"), COMBOS)
def test_competence_profile_fills_from_a_course_and_a_managers_confirmation(new_page, language, size):
    person, email, manager, role = PEOPLE[(language, size["width"])]
    tag = f"{language}-{size['width']}"
    by_course, by_manager = f"Kartläggning i praktiken {tag}", f"Tolkanvändning i samtal {tag}"

    # The programme admin defines a competence given by the mapping course, and one a manager confirms.
    admin = new_page("eva.lindgren", language=language, **size)
    admin.goto("/organisations/competences/new/")
    fits_and_passes(admin)
    admin.locator("#id_name").fill(by_course)
    admin.get_by_label(MAPPING_COURSE).check()
    admin.locator("#id_manager_sign_off").uncheck()
    submit(admin)
    admin.goto("/organisations/competences/new/")
    admin.locator("#id_name").fill(by_manager)
    submit(admin)
    admin.goto("/organisations/competences/")
    assert admin.locator("main tbody th", has_text=by_course).count() == 1
    fits_and_passes(admin)

    # ... and puts both in the basic profile of the person's role at work.
    admin.locator("main a", has_text=role).first.click()
    admin.wait_for_load_state()
    fits_and_passes(admin)
    admin.get_by_label(by_course, exact=True).select_option("basic")
    admin.get_by_label(by_manager, exact=True).select_option("basic")
    submit(admin)

    # The person lacks both.
    staff = new_page(person, language=language, **size)
    staff.goto("/me/")
    assert t(language, "Lacking") in profile_row(staff, by_course).inner_text()
    assert t(language, "Lacking") in profile_row(staff, by_manager).inner_text()
    fits_and_passes(staff)

    # The coordinator records the completed course (the programme's import of course history) ...
    finished = (timezone.localdate() - timedelta(days=7)).isoformat()
    sheet = f"\ufeffE-post;Kurs;Slutförd\r\n{email};{MAPPING_COURSE};{finished}\r\n".encode()
    admin.goto("/imports/history/seminars.completions/")
    admin.locator("input[type=file]").set_input_files(
        {"name": "kurser.csv", "mimeType": "text/csv", "buffer": sheet}
    )
    admin.get_by_role("button", name=t(language, "Check the file")).click()
    admin.wait_for_load_state()
    fits_and_passes(admin)
    admin.get_by_role("button", name=t(language, "Import these rows")).click()
    admin.wait_for_load_state()

    # ... and the person's profile has filled.
    staff.reload()
    assert t(language, "Have") in profile_row(staff, by_course).inner_text()
    assert t(language, "Lacking") in profile_row(staff, by_manager).inner_text()

    # The line manager confirms the other competence from their team's page.
    boss = new_page(manager, language=language, **size)
    boss.goto("/organisations/competences/team/")
    fits_and_passes(boss)
    assert boss.locator("main table caption").count() == 1
    boss.locator("main tbody th a", has_text=person_name(staff)).click()
    boss.wait_for_load_state()
    boss.locator("#id_competence").select_option(label=by_manager)
    boss.locator("#id_gained_on").fill(finished)
    boss.locator("#id_note").fill("Har lett samtal med tolk i flera år.")
    submit(boss)
    assert t(language, "confirmed by a line manager") in profile_row(boss, by_manager).inner_text()
    fits_and_passes(boss)

    staff.reload()
    assert t(language, "Have") in profile_row(staff, by_manager).inner_text()
    assert t(language, "confirmed by a line manager") in profile_row(staff, by_manager).inner_text()


def person_name(page: Any) -> str:
    """The signed-in person's name, as the header shows it."""
    return str(page.evaluate("document.querySelector('.site-header .who-name').textContent")).strip()


@pytest.mark.parametrize(("language", "size"), COMBOS)
def test_gap_heat_map_has_its_numbers_in_a_table(new_page, language, size):
    page = new_page("johan.bergstrom", language=language, **size)
    page.goto("/organisations/competences/gaps/")
    heat_map = page.locator("main svg.heat-map[role=img]")
    assert heat_map.count() == 1
    assert (heat_map.locator("title").first.text_content() or "").strip() != ""
    # its text is drawn at its own size (12 units: 12 px) on a phone too, the figure scrolling sideways
    drawn = heat_map.evaluate("svg => svg.getBoundingClientRect().width / svg.viewBox.baseVal.width")
    assert drawn == 1
    table = page.locator("main table").first
    assert table.locator("caption").inner_text() == t(
        language, "People lacking each competence, of those whose profile asks for it"
    )
    assert table.locator("tbody tr").count() >= 1
    fits_and_passes(page)
    # The same table for one organisation's units.
    page.locator("main select").first.select_option(index=1)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state()
    fits_and_passes(page)


@pytest.mark.parametrize(("language", "size"), COMBOS)
def test_a_target_is_set_and_its_progress_shows_on_the_barometer(new_page, language, size):
    title = f"Tio besöksdagar per organisation {language}-{size['width']}"
    today = timezone.localdate()
    page = new_page("eva.lindgren", language=language, **size)
    page.goto("/organisations/targets/new/")
    fits_and_passes(page)
    page.locator("#id_title").fill(title)
    page.locator("#id_measure").select_option("shadowing.days_hosted_and_sent")
    page.locator("#id_goal").fill("10")
    page.locator("#id_starts_on").fill((today - timedelta(days=180)).isoformat())
    page.locator("#id_deadline").fill((today + timedelta(days=120)).isoformat())
    submit(page)
    assert page.locator("main", has_text=title).count() == 1
    fits_and_passes(page)

    page.goto("/barometer/")
    panel = page.locator("article.target", has=page.locator("h3", has_text=title))
    assert panel.count() == 1
    assert panel.locator("dd").first.inner_text().endswith("%")
    chart = panel.locator("svg.chart[role=img]")
    assert chart.count() == 1
    assert chart.locator("title").first.text_content() == title
    panel.locator("summary").click()
    numbers = panel.locator("table")
    assert numbers.locator("caption").inner_text() == t(
        language, "Progress towards %(title)s, per cent of the goal"
    ) % {"title": title}
    assert numbers.locator("tbody tr").count() >= 2
    fits_and_passes(page)
    # The chart is in the page the server sends: readable without JavaScript.
    served = page.request.get("/barometer/").text()
    assert served.count('<svg class="chart"') >= 1 and title in served


@pytest.mark.parametrize(("language", "size"), COMBOS)
def test_weekly_status_page_and_print_view(new_page, language, size):
    page = new_page("lars.pettersson", language=language, **size)
    page.goto("/organisations/status/")
    assert page.locator("main h1").inner_text() != ""
    assert page.locator("main table").count() >= 1
    fits_and_passes(page)
    page.goto("/organisations/status/print/")
    assert page.locator("main h1, h1").first.inner_text() != ""
    fits_and_passes(page)
    page.emulate_media(media="print")
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0


@pytest.mark.parametrize(("language", "size"), COMBOS)
def test_a_line_manager_answers_a_follow_up_on_the_page(new_page, language, size):
    page = new_page(MANAGERS[(language, size["width"])], language=language, **size)
    answer = page.locator("main a", has_text=t(language, "Answer"))
    # The follow-up job runs on the task worker once the site starts; its questions appear when it is done.
    for _ in range(60):
        page.goto("/organisations/follow-ups/")
        if answer.count():
            break
        page.wait_for_timeout(1000)
    waiting = answer.count()
    assert waiting >= 1
    fits_and_passes(page)
    answer.first.click()
    page.wait_for_load_state()
    fits_and_passes(page)
    page.locator("input[name=used]").first.check()
    page.locator("#id_how_used").fill("Vi använder samma mall för kartläggning i hela enheten nu.")
    page.locator("input[name=shared][value=yes]").check()
    page.locator("input[name=rating][value='4']").check()
    submit(page)
    page.goto("/organisations/follow-ups/")
    assert answer.count() == waiting - 1
    expected = t(language, "%(rating)s of 5; change") % {"rating": 4}
    assert page.locator("main a", has_text=expected).count() >= 1
    fits_and_passes(page)


@pytest.mark.parametrize(("language", "size"), COMBOS)
def test_effect_and_cost_page(new_page, language, size):
    page = new_page("eva.lindgren", language=language, **size)
    page.goto("/organisations/effect/")
    assert page.locator("main h1").inner_text() == t(language, "Effect and cost")
    fits_and_passes(page)
