"""A meeting's minutes in the browser: members write them together on the meeting's page (their typing
merges, each sees the others' named carets), a reader of the programme follows them read-only, an action is
made from a line and agreed at the meeting, and the page stays accessible."""

from __future__ import annotations

from tests.browser.conftest import axe_violations
from tests.browser.test_focusgroups import EDITOR_TEXT, GROUP, _text, _type_at_end, _wait_for_lines

KICK_OFF = "Uppstartsmöte: hur lär vi känna varandras organisationer?"
SEEDED = "Närvarande: representanter för alla sex organisationer."


def _open_minutes(page):
    page.goto("/focusgroups/")
    page.get_by_role("link", name=GROUP, exact=True).click()
    page.get_by_role("link", name=KICK_OFF).first.click()
    # The live editor replaces the minutes' text field once their document has arrived over the socket.
    page.wait_for_selector("#minutes #note-live .cm-content")
    page.evaluate("window.__sameLoad = true")


def test_three_members_write_the_minutes_at_once_and_a_reader_follows_read_only(new_page):
    people = {"Lina Björk": new_page("lina.bjork"), "Amina Hassan": new_page("amina.hassan")}
    people["Karin Nyström"] = new_page("karin.nystrom")
    reader = new_page("per.olsson")  # a line manager of the programme, not in the group
    for page in [*people.values(), reader]:
        _open_minutes(page)
    assert _text(reader).startswith(SEEDED)
    for page in people.values():
        page.locator("#presence-list li", has_text="Lina Björk").wait_for()
        page.locator("#note-live .cm-content").click()
        page.keyboard.press("Control+End")
        page.keyboard.press("Enter")

    lines = {
        "Lina Björk": "Lina: presentationerna börjar i april.",
        "Amina Hassan": "Amina: sfi vill vara med i första omgången.",
        "Karin Nyström": "Karin: Migrationsverket tar emot två auskultanter.",
    }
    chunks = {name: [line[i : i + 5] for i in range(0, len(line), 5)] for name, line in lines.items()}
    for turn in range(max(len(c) for c in chunks.values())):
        for name, page in people.items():
            if turn < len(chunks[name]):
                page.keyboard.type(chunks[name][turn])

    for page in [*people.values(), reader]:
        _wait_for_lines(page, list(lines.values()))
    texts = {name: _text(page) for name, page in people.items()}
    assert texts["Lina Björk"] == texts["Amina Hassan"] == texts["Karin Nyström"] == _text(reader)
    assert texts["Lina Björk"].startswith(SEEDED)
    assert [page.evaluate("window.__sameLoad") for page in people.values()] == [True, True, True]
    for name, page in people.items():
        for other in people:
            if other != name:
                page.locator("#note-live .remote-caret-name", has_text=other).wait_for()

    # The reader cannot type, and the toolbar's editing buttons are off.
    assert reader.locator("#note-live .cm-content").get_attribute("aria-readonly") == "true"
    _type_at_end(reader, "Per skriver något.")
    assert _text(reader) == texts["Lina Björk"]
    assert reader.locator("#note-live [role=toolbar] button").first.is_disabled()

    # The server kept it: the meeting opened afresh shows the same minutes.
    fresh = new_page("stefan.blom")
    _open_minutes(fresh)
    fresh.wait_for_function(f"text => ({EDITOR_TEXT})() === text", arg=texts["Lina Björk"])


def test_an_action_from_a_line_of_the_minutes_is_agreed_at_the_meeting(new_page):
    lina = new_page("lina.bjork")
    _open_minutes(lina)
    line = "Boka rum för Röda korsets presentation"
    _type_at_end(lina, "\n- [ ] " + line)
    lina.get_by_role("button", name="Create an action from this line").click()

    lina.wait_for_url("**/actions/?note=*")
    assert lina.locator("#id_title").input_value() == line
    lina.locator("#id_owner").select_option(label=lina.locator("#id_owner option").nth(1).inner_text())
    lina.get_by_role("button", name="Add action").click()

    lina.wait_for_selector("#minutes #note-live .cm-content")
    assert lina.locator("main h1").inner_text() == KICK_OFF
    agreed = lina.locator("#meeting-actions-h + ul li", has_text=line)
    assert agreed.locator(".meta").last.inner_text() == f"From the line “{line}”"
    assert axe_violations(lina) == []
