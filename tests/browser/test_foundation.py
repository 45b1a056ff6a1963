"""Signing in as each demo role, the shared layout, the language switch and accessibility."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.browser.conftest import axe_violations

DEMO_ROLES = [
    ("eva.lindgren", "Projektledare"),
    ("johan.bergstrom", "Samordnare"),
    ("amina.hassan", "Introduktionssekreterare"),
    ("per.olsson", "Enhetschef"),
    ("karin.nystrom", "Handläggare"),
    ("sofia.ek", "Psykoterapeut"),
    ("lina.bjork", "Arbetsförmedlare"),
    ("anna.karlsson", "Sektionschef"),
    ("mette.sorensen", "Udviklingskonsulent"),
]


def test_landing_page_for_visitors_is_accessible(new_page):
    page = new_page()
    page.goto("/")
    assert page.locator("h1").count() == 1
    assert axe_violations(page) == []


def test_login_page_is_accessible_and_shows_errors_next_to_the_form(new_page):
    page = new_page()
    page.goto("/login/")
    assert axe_violations(page) == []
    page.locator("#id_username").fill("amina.hassan")
    page.locator("#id_password").fill("fel lösenord")
    page.locator("main form button[type=submit]").click()
    assert page.locator("#login-errors").is_visible()
    assert page.locator("#id_username").input_value() == "amina.hassan"


@pytest.mark.parametrize(("username", "job_title"), DEMO_ROLES)
def test_each_demo_role_signs_in_to_an_accessible_start_page(new_page, username, job_title):
    language = "da" if username == "mette.sorensen" else "sv"
    page = new_page(username, language=language)
    assert page.evaluate("document.documentElement.lang") == language
    assert page.url.endswith("/")
    header = page.locator("header.site-header")
    assert header.locator(".who-name").is_visible()
    assert page.locator("main h1").count() == 1
    assert axe_violations(page) == []


def test_language_switch_changes_the_interface_and_is_remembered(new_page):
    page = new_page("amina.hassan", language="sv")
    page.goto("/me/")
    assert page.evaluate("document.documentElement.lang") == "sv"
    assert page.locator("main h1").inner_text() == "Min sida"
    page.select_option("#language-switch", "en")
    page.locator("#language-form button").click()
    page.wait_for_function("document.documentElement.lang === 'en'")
    assert page.locator("main h1").inner_text() == "My page"
    again = new_page("amina.hassan", language=None)  # a new browser session: the profile remembers the choice
    again.goto("/me/")
    assert again.evaluate("document.documentElement.lang") == "en"
    page.select_option("#language-switch", "da")
    page.locator("#language-form button").click()
    page.wait_for_function("document.documentElement.lang === 'da'")
    assert page.locator("main h1").inner_text() == "Min side"


def test_keyboard_user_can_skip_to_content(new_page):
    page = new_page("amina.hassan")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.className")
    assert focused == "skip-link"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_phone_width_has_no_horizontal_scroll(new_page):
    page = new_page("johan.bergstrom", width=390, height=844)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0


def test_controls_keep_their_size_on_a_narrow_phone(new_page):
    page = new_page("amina.hassan", width=360, height=640)
    page.goto("/me/settings/")
    # every box beside a label, however the label wraps, at the browser's own size (13 px)
    widths = page.evaluate(
        "[...document.querySelectorAll('.checkbox > input[type=checkbox]')]"
        ".map(box => box.getBoundingClientRect().width)"
    )
    assert len(widths) >= 5
    assert min(widths) >= 13
    page.goto("/focusgroups/1/actions/")
    # a row's status choice shows its value, however narrow its cell (7rem = 112 px)
    selects = page.evaluate(
        "[...document.querySelectorAll('main .inline-form select')].map(s => s.getBoundingClientRect().width)"
    )
    assert len(selects) >= 1
    assert min(selects) >= 112


def test_other_programme_is_invisible_in_the_browser(new_page):
    page = new_page("mette.sorensen")
    page.goto("/organisations/")
    names = page.locator("main h2").all_inner_texts()
    assert sorted(names) == ["Kriminalforsorgen", "Københavns Kommune, Jobcenter København"]
    assert not re.search("Migrationsverket", page.content())


def test_coordinator_reads_the_barometer_and_a_bad_period_is_explained(new_page):
    page = new_page("johan.bergstrom")
    page.locator("nav a[href='/barometer/']").click()
    page.wait_for_url("**/barometer/")
    headings = page.locator("main section h2").all_inner_texts()
    # The programme's targets come first, then the period's figures.
    assert headings[0] == "Targets" and "Organisations and people" in headings
    assert axe_violations(page) == []
    page.locator("#id_start").fill("2026-06-01")
    page.locator("#id_end").fill("2026-01-01")
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url("**/barometer/?*")
    assert "The period must end on or after its start." in page.locator("main form").inner_text()
    assert page.locator("#id_start").input_value() == "2026-06-01"
    assert axe_violations(page) == []


def test_my_data_page_lists_my_data_and_downloads_it_as_json(new_page):
    page = new_page("amina.hassan")
    page.goto("/me/")
    page.get_by_role("link", name="My data: see and download what is held about me").click()
    assert page.locator("main h1").inner_text() == "My data"
    profile = page.locator("#section-profile")
    assert "amina.hassan" in profile.inner_text()
    assert page.locator("main section").count() >= 10
    assert axe_violations(page) == []
    with page.expect_download() as download:
        page.get_by_role("link", name="Download all as JSON").click()
    data = json.loads(Path(download.value.path()).read_text())
    assert data["profile"][0]["username"] == "amina.hassan"
    phone = new_page("amina.hassan", width=390, height=844)
    phone.goto("/me/data/")
    assert phone.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") == 0


def test_erase_confirmation_says_what_happens_and_insists_on_the_tick(new_page):
    page = new_page("eva.lindgren")
    page.goto("/organisations/")
    page.locator("main a", has_text="Arbetsförmedlingen").first.click()
    row = page.locator("main tbody tr", has_text="Lina Björk")
    row.get_by_role("link", name="Erase…").click()
    assert page.locator("main h1").inner_text() == "Erase personal data"
    assert page.locator("#erase-effect").get_attribute("data-outcome") == "erased"
    assert axe_violations(page) == []
    page.get_by_role("button", name="Erase personal data").click()
    assert page.locator(".form-errors").is_visible()
    assert "Tick the box to confirm the erasure." in page.locator("main form").inner_text()
    page.goto("/me/")  # nothing was erased: Lina still signs in
    other = new_page("lina.bjork")
    assert other.locator("header.site-header .who-name").is_visible()
