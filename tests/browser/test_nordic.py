"""Fit for Swedish and Danish readers in a real browser: dates, amounts and language names as they write
them, the barometer download that Nordic Excel opens, a favicon, titles whose words never break in two on a
phone, and preferences only for organisations with a workplace to visit. Each page passes axe-core."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from tests.browser.conftest import axe_violations


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

    sheet = load_workbook(download.value.path()).active
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
