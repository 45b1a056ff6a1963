"""Focus groups in the browser: two members edit the same shared note live, a conflict shows both texts, and
the focus-group pages are accessible."""

from __future__ import annotations

from tests.browser.conftest import axe_violations

GROUP = "Organisationskännedom"
NOTE = "Studiebesök och presentationer – arbetsanteckningar"


def _open_note(page):
    page.goto("/focusgroups/")
    page.get_by_role("link", name=GROUP, exact=True).click()
    page.get_by_role("link", name=NOTE, exact=True).first.click()
    page.wait_for_selector("#note-form")
    # Marks this page load: if the page reloaded, the marker would be gone.
    page.evaluate("window.__sameLoad = true")


def _wait_for_presence(page, *names):
    for name in names:
        page.locator("#presence-list li", has_text=name).wait_for()


def test_two_members_see_each_others_edits_and_presence_live(new_page):
    lina = new_page("lina.bjork")
    amina = new_page("amina.hassan")
    _open_note(lina)
    _open_note(amina)

    _wait_for_presence(lina, "Lina Björk", "Amina Hassan")
    _wait_for_presence(amina, "Lina Björk", "Amina Hassan")
    version = int(amina.locator("#note-version").inner_text())

    added = "Ny rad från Lina: presentationerna spelas in."
    body = lina.locator("#id_body")
    body.fill(body.input_value() + added + "\n")
    lina.locator("#note-form button[type=submit]").click()

    amina.wait_for_function("text => document.getElementById('id_body').value.includes(text)", arg=added)
    assert int(amina.locator("#note-version").inner_text()) == version + 1
    assert amina.evaluate("window.__sameLoad") is True
    assert lina.evaluate("window.__sameLoad") is True  # saved over the socket, not by a form POST
    lina.wait_for_function(
        "v => document.getElementById('note-version').textContent === String(v)", arg=version + 1
    )

    # Amina leaves: Lina's presence list drops her without a reload.
    amina.goto("/")
    lina.wait_for_function(
        "() => !Array.from(document.querySelectorAll('#presence-list li'))"
        ".some(li => li.textContent.includes('Amina'))"
    )


def test_reader_outside_the_group_follows_a_shared_note_live(new_page):
    shared = "Schema för organisationspresentationer"
    lina = new_page("lina.bjork")  # the group's convener
    per = new_page("per.olsson")  # a line manager, not in the group
    for page, ready in ((lina, "#note-form"), (per, "#note-body-view")):
        page.goto("/focusgroups/")
        page.get_by_role("link", name=GROUP, exact=True).click()
        page.get_by_role("link", name=shared, exact=True).first.click()
        page.wait_for_selector(ready)
        page.evaluate("window.__sameLoad = true")
    assert per.locator("#presence-list").count() == 0
    _wait_for_presence(lina, "Lina Björk")
    per.wait_for_function("() => document.getElementById('note-status').textContent !== ''")

    added = "Ny punkt: Röda korset presenterar i maj."
    body = lina.locator("#id_body")
    body.fill(body.input_value() + added + "\n")
    lina.locator("#note-form button[type=submit]").click()

    per.wait_for_function(
        "text => document.getElementById('note-body-view').textContent.includes(text)", arg=added
    )
    assert per.evaluate("window.__sameLoad") is True
    assert per.locator("#note-form").count() == 0
    # Nobody sees the reader on the roster.
    assert lina.locator("#presence-list li", has_text="Per Olsson").count() == 0


def test_conflicting_edit_shows_both_texts_and_keeps_mine(new_page):
    lina = new_page("lina.bjork")
    amina = new_page("amina.hassan")
    _open_note(lina)
    _open_note(amina)
    _wait_for_presence(amina, "Lina Björk")

    mine = "Aminas ändring som inte får försvinna."
    amina_body = amina.locator("#id_body")
    amina_body.fill(amina_body.input_value() + mine + "\n")

    theirs = "Linas samtidiga ändring."
    lina_body = lina.locator("#id_body")
    lina_body.fill(lina_body.input_value() + theirs + "\n")
    lina.locator("#note-form button[type=submit]").click()
    # Amina's unsaved text is kept when Lina's save arrives.
    amina.locator("#note-status", has_text="Lina Björk").wait_for()
    assert mine in amina_body.input_value()
    assert theirs not in amina_body.input_value()

    amina.locator("#note-form button[type=submit]").click()
    amina.locator("#note-conflict").wait_for(state="visible")
    assert theirs in amina.locator("#conflict-current").input_value()
    assert mine in amina.locator("#conflict-yours").input_value()
    assert mine in amina_body.input_value()
    assert axe_violations(amina) == []

    # Merge: keep both lines, save again; Lina sees the merged text live.
    amina_body.fill(amina_body.input_value() + theirs + "\n")
    amina.locator("#note-form button[type=submit]").click()
    amina.locator("#note-conflict").wait_for(state="hidden")
    lina.wait_for_function(
        "([a, b]) => { const v = document.getElementById('id_body').value;"
        " return v.includes(a) && v.includes(b); }",
        arg=[mine, theirs],
    )


def test_focus_group_pages_are_accessible(new_page):
    page = new_page("lina.bjork")
    page.goto("/focusgroups/")
    assert page.locator("main h1").count() == 1
    assert axe_violations(page) == []
    page.get_by_role("link", name=GROUP, exact=True).click()
    assert page.locator("main h1").inner_text() == GROUP
    assert axe_violations(page) == []
    page.get_by_role("link", name=NOTE, exact=True).first.click()
    page.wait_for_selector("#note-form")
    assert axe_violations(page) == []
    page.locator("main a[href$='/history/']").click()
    assert axe_violations(page) == []
    page.goto("/focusgroups/glossary/")
    assert axe_violations(page) == []
    page.get_by_role("link", name="Kund", exact=True).click()
    assert axe_violations(page) == []
    page.goto("/focusgroups/actions/mine/")
    assert axe_violations(page) == []
