"""Focus groups in the browser: members write a note together as it happens (their typing merges, each sees
the others' carets), readers follow it read-only, a member removed mid-session stops editing, the page works
without JavaScript, an action is made from a line, and the focus-group pages are accessible."""

from __future__ import annotations

from tests.browser.conftest import PASSWORD, axe_violations

GROUP = "Organisationskännedom"
NOTE = "Studiebesök och presentationer – arbetsanteckningar"


def _open_note(page, title=NOTE):
    page.goto("/focusgroups/")
    page.get_by_role("link", name=GROUP, exact=True).click()
    page.get_by_role("link", name=title, exact=True).first.click()
    # The live editor replaces the text field once the note's document has arrived over the socket.
    page.wait_for_selector("#note-live .cm-content")
    # Marks this page load: if the page reloaded, the marker would be gone.
    page.evaluate("window.__sameLoad = true")


# The editor's text as its lines show it, without the other people's caret labels.
EDITOR_TEXT = """() => Array.from(document.querySelectorAll('#note-live .cm-content > .cm-line'))
.map(line => {
    const copy = line.cloneNode(true);
    copy.querySelectorAll('.remote-caret, .cm-widgetBuffer').forEach(node => node.remove());
    return copy.textContent;
}).join('\\n')"""


def _text(page):
    return page.evaluate(EDITOR_TEXT)


def _wait_for_lines(page, lines):
    page.wait_for_function(
        f"lines => {{ const text = ({EDITOR_TEXT})(); return lines.every(line => text.includes(line)); }}",
        arg=lines,
    )


def _type_at_end(page, text):
    page.locator("#note-live .cm-content").click()
    page.keyboard.press("Control+End")
    page.keyboard.type(text)


def _wait_for_presence(page, *names):
    for name in names:
        page.locator("#presence-list li", has_text=name).wait_for()


def test_three_members_type_at_once_and_converge_with_named_carets(new_page):
    people = {"Lina Björk": new_page("lina.bjork"), "Amina Hassan": new_page("amina.hassan")}
    people["Karin Nyström"] = new_page("karin.nystrom")
    for page in people.values():
        _open_note(page)
    _wait_for_presence(people["Lina Björk"], *people)
    for page in people.values():
        page.locator("#note-live .cm-content").click()
        page.keyboard.press("Control+End")
        page.keyboard.press("Enter")

    # Each types a line in chunks, taking turns, so that the edits cross on the wire.
    lines = {
        "Lina Björk": "Lina: presentationerna spelas in och läggs i gruppens mapp.",
        "Amina Hassan": "Amina: introduktionen bjuder in Mottagningsenheten i april.",
        "Karin Nyström": "Karin: två dagars auskultation går bra från vecka 14.",
    }
    chunks = {name: [line[i : i + 6] for i in range(0, len(line), 6)] for name, line in lines.items()}
    for turn in range(max(len(c) for c in chunks.values())):
        for name, page in people.items():
            if turn < len(chunks[name]):
                page.keyboard.type(chunks[name][turn])

    for page in people.values():
        _wait_for_lines(page, list(lines.values()))
    texts = {name: _text(page) for name, page in people.items()}
    assert texts["Amina Hassan"] == texts["Lina Björk"] == texts["Karin Nyström"]
    # Typing went into the same page: nothing was saved by reloading.
    assert [page.evaluate("window.__sameLoad") for page in people.values()] == [True, True, True]

    # Each sees the other two's carets, labelled with the names the server knows them by.
    for name, page in people.items():
        for other in people:
            if other != name:
                page.locator("#note-live .remote-caret-name", has_text=other).wait_for()
        assert page.locator("#note-live .remote-caret-name", has_text=name).count() == 0

    # The header follows: the last saver is one of the others.
    lina = people["Lina Björk"]
    lina.wait_for_function(
        "() => /Amina Hassan|Karin Nyström/.test(document.getElementById('note-last-saved-text').textContent)"
    )

    # The server kept all of it: a fresh page opens with the same text.
    fresh = new_page("stefan.blom")
    _open_note(fresh)
    fresh.wait_for_function(f"text => ({EDITOR_TEXT})() === text", arg=texts["Lina Björk"])


def test_edits_made_offline_merge_when_the_connection_returns(new_page):
    lina = new_page("lina.bjork")
    amina = new_page("amina.hassan")
    network = {"down": False}
    open_sockets = []

    def through_the_network(socket):
        if network["down"]:
            socket.close(code=1001)
            return
        socket.connect_to_server()
        open_sockets.append(socket)

    amina.route_web_socket("**/ws/focusgroups/**", through_the_network)
    _open_note(lina)
    _open_note(amina)

    # Amina's connection drops; both keep writing.
    network["down"] = True
    for socket in open_sockets:
        socket.close(code=1001)
    amina.locator("#note-status", has_text="Connection lost").wait_for()
    _type_at_end(amina, "\nAmina skrev detta utan nät.")
    _type_at_end(lina, "\nLina skrev samtidigt.")
    assert "Amina skrev detta utan nät." in _text(amina)
    assert "Lina skrev samtidigt." not in _text(amina)

    # Back online: the socket reconnects by itself, and each gets the other's text.
    network["down"] = False
    both = ["Amina skrev detta utan nät.", "Lina skrev samtidigt."]
    for page in (lina, amina):
        _wait_for_lines(page, both)
    assert _text(lina) == _text(amina)
    assert amina.evaluate("window.__sameLoad") is True


def test_reader_outside_the_group_sees_live_typing_but_cannot_type(new_page):
    shared = "Schema för organisationspresentationer"
    lina = new_page("lina.bjork")  # the group's convener
    per = new_page("per.olsson")  # a line manager, not in the group
    _open_note(lina, shared)
    _open_note(per, shared)
    assert per.locator("#note-live .cm-content").get_attribute("aria-readonly") == "true"
    assert per.locator("#presence-list").count() == 0

    before = _text(per)
    _type_at_end(per, "Pers text som inte får komma in.")
    assert _text(per) == before
    assert per.locator("#note-live [role=toolbar] button").first.is_disabled()

    added = "Ny punkt: Röda korset presenterar i maj."
    _type_at_end(lina, "\n" + added)
    per.wait_for_function(f"text => ({EDITOR_TEXT})().includes(text)", arg=added)
    assert "Pers text" not in _text(lina)
    assert per.evaluate("window.__sameLoad") is True


def test_member_removed_mid_session_can_no_longer_edit(new_page):
    lina = new_page("lina.bjork")
    daniel = new_page("daniel.nord")
    _open_note(lina)
    _open_note(daniel)
    assert daniel.locator("#note-live .cm-content").get_attribute("aria-readonly") == "false"
    _type_at_end(daniel, "\nDaniel hann skriva detta.")
    lina.wait_for_function(f"text => ({EDITOR_TEXT})().includes(text)", arg="Daniel hann skriva detta.")

    # The convener removes Daniel from the group while his note is open.
    lina.goto("/focusgroups/")
    lina.get_by_role("link", name=GROUP, exact=True).click()
    lina.once("dialog", lambda dialog: dialog.accept())
    lina.get_by_role("button", name="Remove Daniel Nord").click()
    lina.locator(".messages, [role=status], [role=alert]", has_text="Daniel Nord").first.wait_for()

    daniel.wait_for_function(
        "() => document.querySelector('#note-live .cm-content').getAttribute('aria-readonly') === 'true'"
    )
    before = _text(daniel)
    _type_at_end(daniel, "Efteråt.")
    assert _text(daniel) == before
    _open_note(lina)
    assert "Efteråt." not in _text(lina)
    assert "Daniel hann skriva detta." in _text(lina)


def test_note_page_without_javascript_promises_nothing_live_and_saves_through_the_form(browser, live_site):
    context = browser.new_context(base_url=live_site, java_script_enabled=False, locale="sv-SE")
    try:
        page = context.new_page()
        page.goto("/login/")
        page.locator("#id_username").fill("amina.hassan")
        page.locator("#id_password").fill(PASSWORD)
        page.locator("main form button[type=submit]").click()
        page.goto("/focusgroups/")
        page.get_by_role("link", name=GROUP, exact=True).click()
        page.get_by_role("link", name=NOTE, exact=True).first.click()

        assert page.locator("#note-presence").is_hidden()
        assert page.locator("#note-status").inner_text() == ""
        assert page.locator("#note-live").count() == 0
        for promise in ("Live", "Direkt", "live updates", "direktuppdateringar"):
            assert promise not in page.locator("main").inner_text()
        version = int(page.locator("#note-version").inner_text())

        added = "Rad sparad utan JavaScript."
        body = page.locator("#id_body")
        body.fill(body.input_value() + added + "\n")
        page.locator("#note-form button[type=submit]").click()

        assert int(page.locator("#note-version").inner_text()) == version + 1
        assert added in page.locator("#id_body").input_value()
    finally:
        context.close()


def test_action_from_a_line_of_the_note_links_both_ways(new_page):
    lina = new_page("lina.bjork")
    _open_note(lina)
    line = "Boka lokal för studiebesöket hos Arbetsförmedlingen"
    _type_at_end(lina, "\n- [ ] " + line)
    lina.get_by_role("button", name="Create an action from this line").click()

    lina.wait_for_url("**/actions/?note=*")
    assert lina.locator("#id_title").input_value() == line
    assert lina.locator("#new-action-note").inner_text() == f"From the note {NOTE}: “{line}”"
    lina.locator("#id_owner").select_option(label=lina.locator("#id_owner option").nth(1).inner_text())
    lina.get_by_role("button", name="Add action").click()

    lina.wait_for_selector("#note-live .cm-content")
    listed = lina.locator(".note-actions li", has_text=line)
    assert listed.locator("a").inner_text() == line
    listed.locator("a").click()
    lina.locator("tr", has_text=line).get_by_role("link", name=NOTE).wait_for()


def test_focus_group_pages_are_accessible(new_page):
    page = new_page("lina.bjork")
    page.goto("/focusgroups/")
    assert page.locator("main h1").count() == 1
    assert axe_violations(page) == []
    page.get_by_role("link", name=GROUP, exact=True).click()
    assert page.locator("main h1").inner_text() == GROUP
    assert axe_violations(page) == []
    page.get_by_role("link", name=NOTE, exact=True).first.click()
    page.wait_for_selector("#note-live .cm-content")
    assert axe_violations(page) == []
    page.locator("main a[href$='/history/']").click()
    assert axe_violations(page) == []
    page.goto("/focusgroups/glossary/")
    assert axe_violations(page) == []
    page.get_by_role("link", name="Kund", exact=True).click()
    assert axe_violations(page) == []
    page.goto("/focusgroups/actions/mine/")
    assert axe_violations(page) == []
