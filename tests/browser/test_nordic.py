"""Fit for Swedish and Danish readers in a real browser: dates, amounts and language names as they write
them, the barometer download that Nordic Excel opens, a favicon, titles whose words never break in two on a
phone, and preferences only for organisations with a workplace to visit. Each page passes axe-core."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from tests.browser.conftest import axe_violations

PHONE = {"width": 390, "height": 844}
# A day as each language writes it, with its lower-case (sv, da) month abbreviation.
DAY = {
    "sv": r"\d{1,2} (jan\.|feb\.|mars|apr\.|maj|juni|juli|aug\.|sep\.|okt\.|nov\.|dec\.) \d{4}",
    "da": r"\d{1,2}\. (jan\.|feb\.|mar\.|apr\.|maj|jun\.|jul\.|aug\.|sep\.|okt\.|nov\.|dec\.) \d{4}",
    "en": r"\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sept|Oct|Nov|Dec) \d{4}",
}
ISO_DAY = re.compile(r"\b20\d\d-\d\d-\d\d\b")

# The words of every text node in the elements (a break after "/" or "-" is where a compound may break):
# a word drawn on more than one line was broken in two.
SPLIT_WORDS = """(selector) => {
    const broken = [];
    for (const element of document.querySelectorAll(selector)) {
        if (!element.getClientRects().length) continue;
        const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            for (const match of node.textContent.matchAll(/[^\\s\\/-]+[\\/-]?/g)) {
                const range = document.createRange();
                range.setStart(node, match.index);
                range.setEnd(node, match.index + match[0].length);
                const rects = [...range.getClientRects()].filter((r) => r.width);
                if (new Set(rects.map((r) => Math.round(r.top))).size > 1) broken.push(match[0]);
            }
        }
    }
    return broken;
}"""


@pytest.mark.parametrize(
    ("username", "language"),
    [("johan.bergstrom", "sv"), ("mette.sorensen", "da"), ("johan.bergstrom", "en"), ("eva.lindgren", "sv")],
)
def test_no_word_in_the_header_or_title_breaks_on_a_phone(new_page, username, language):
    page = new_page(username, language=language, **PHONE)
    for path in ("/", "/barometer/", "/shadowing/", "/seminars/", "/focusgroups/", "/me/settings/"):
        response = page.goto(path)
        if response is None or response.status != 200:
            continue
        assert page.evaluate("document.documentElement.lang") == language
        broken = page.evaluate(SPLIT_WORDS, ".site-header .bar, main h1, main h2")
        assert broken == [], f"{path}: {broken}"
    assert axe_violations(page) == []


@pytest.mark.parametrize("language", ["sv", "da", "en"])
def test_dates_on_pages_are_written_as_people_write_them(new_page, language):
    page = new_page("amina.hassan", language=language)
    shown: list[str] = []
    for path in ("/notifications/", "/seminars/mine/", "/shadowing/mine/", "/me/"):
        page.goto(path)
        assert ISO_DAY.findall(page.locator("main").inner_text()) == [], path
        shown += page.locator("main time").all_inner_texts()
    assert shown, "the demo person has dates on her pages"
    assert [when for when in shown if not re.search(DAY[language], when)] == []
    assert axe_violations(page) == []


@pytest.mark.parametrize(
    ("language", "total", "languages", "interface"),
    [
        (
            "sv",
            r"\d{1,3}(\u00a0\d{3})*(,\d\d)?\u00a0kr",
            ["svenska", "danska", "engelska", "arabiska"],
            "svenska",
        ),
        ("en", r"SEK\u00a0\d{1,3}(,\d{3})*(\.\d\d)?", ["Swedish", "Danish", "English", "Arabic"], "svenska"),
    ],
)
def test_amounts_and_language_names_in_the_readers_language(new_page, language, total, languages, interface):
    page = new_page("johan.bergstrom", language=language)
    page.goto("/barometer/")
    figures = page.locator("main dl.figures dd").all_inner_texts()
    assert len([f for f in figures if re.fullmatch(total, f)]) == 1, figures
    page.goto("/me/settings/")
    labels = [label.strip() for label in page.locator("#id_languages label").all_inner_texts()]
    assert [labels[i] for i in (0, 1, 3, 4)] == languages  # sv, da, (no), en, ar
    options = page.locator("#id_preferred_language option").all_inner_texts()
    assert options[1:] == [interface, "dansk", "English"]
    assert axe_violations(page) == []


def test_favicon_is_linked_and_served(new_page):
    page = new_page()
    page.goto("/")
    icons = page.evaluate(
        "[...document.querySelectorAll('link[rel~=icon]')].map(l => [l.type, new URL(l.href).pathname])"
    )
    assert [kind for kind, _path in icons] == ["image/svg+xml", "image/png"]
    for kind, path in icons:
        response = page.request.get(path)
        assert (response.status, response.headers["content-type"]) == (200, kind)
    png = page.request.get(icons[1][1]).body()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_barometer_download_opens_in_nordic_excel(new_page):
    page = new_page("johan.bergstrom", language="sv")
    page.goto("/barometer/")
    with page.expect_download() as download:
        page.get_by_role("button", name="Ladda ner som CSV").click()
    data = Path(download.value.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Avsnitt", "Uppgift", "Värde", "Enhet"]
    costs = [row for row in rows if len(row) == 4 and row[3] == "SEK"]
    assert len(costs) == 1 and re.fullmatch(r"\d+,\d\d", costs[0][2]), costs
    with page.expect_download() as download:
        page.get_by_role("button", name="Ladda ner som Excel-arbetsbok").click()
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).active
    amounts = [row for row in sheet.iter_rows(min_row=2) if row[3].value == "SEK"]
    assert len(amounts) == 1 and amounts[0][2].number_format == '#,##0.00 "SEK"'


def test_preferences_name_only_organisations_with_a_published_workplace(new_page):
    page = new_page("amina.hassan", language="en")
    page.goto("/shadowing/")
    page.goto("/shadowing/requests/new/")
    organisations = page.locator("#id_preference_1 optgroup").first.locator("option").all_inner_texts()
    workplaces = page.locator("#id_preference_1 optgroup").nth(1).locator("option").all_inner_texts()
    owners = {re.sub(r".*\((.*)\)$", r"\1", w) for w in workplaces}
    assert organisations, "the demo has host organisations"
    assert len(organisations) == len(owners), (organisations, owners)
    assert axe_violations(page) == []
