"""The people import in the browser: upload, see each row's outcome, import; readable at phone width."""

from __future__ import annotations

from tests.browser.conftest import axe_violations

CSV = (
    "\ufeffE-post;Förnamn;Efternamn;Organisation;Enhet;Närmaste chef;Roller\r\n"
    "ny.handlaggare@migrationsverket.example;Nora;Nyström;MV;MV / Mottagningsenheten Malmö;"
    "ny.chef@migrationsverket.example;staff\r\n"
    "ny.chef@migrationsverket.example;Nils;Chefsson;MV;Mottagningsenheten Malmö;;staff, line_manager\r\n"
).encode()


def test_programme_admin_checks_then_imports_people_at_phone_width(new_page):
    page = new_page("eva.lindgren", width=390, height=844)
    page.goto("/imports/")
    page.locator("main a[href='/imports/people/']").first.click()
    page.wait_for_url("**/imports/people/")
    page.locator("#id_file").set_input_files({"name": "personal.csv", "mimeType": "text/csv", "buffer": CSV})
    page.get_by_role("button", name="Check the file").click()

    assert page.locator("main section h2").inner_text() == "Checked: ready to import"
    assert page.locator("main table tbody tr td:nth-child(3)").all_inner_texts() == ["Create", "Create"]
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    assert axe_violations(page) == []

    page.get_by_role("button", name="Import these rows").click()

    assert page.locator("main section h2").inner_text() == "Imported"
    page.goto("/imports/people/")
    page.locator("#id_file").set_input_files({"name": "personal.csv", "mimeType": "text/csv", "buffer": CSV})
    page.get_by_role("button", name="Check the file").click()
    assert page.locator("main table tbody tr td:nth-child(3)").all_inner_texts() == ["Unchanged", "Unchanged"]
