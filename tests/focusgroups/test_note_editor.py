"""The note page around its live editor: what it says without JavaScript, what it hands the editor's script,
and actions created from a line of a note (linked both ways)."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from coordinator.core.tenancy import programme_scope
from focusgroups.models import ActionItem, Note
from focusgroups.services import actions
from tests.factories.focusgroups import make_note


def url(name, *args):
    return reverse(f"focusgroups:{name}", args=args)


def _element(html: str, element_id: str) -> str:
    match = re.search(rf'<[a-z]+ [^>]*id="{element_id}"[^>]*>', html)
    assert match is not None, element_id
    return match.group(0)


def test_note_page_without_script_promises_no_live_updates(web, note, member_a):
    html = web(member_a).get(url("note", note.pk)).content.decode()

    # The presence box (the live part) stays hidden until the editor's script shows it; no text says that
    # live updates are coming, and the status lines are empty.
    assert _element(html, "note-presence").endswith(" hidden>")
    assert re.search(r'<p id="presence-status"[^>]*></p>', html)
    assert re.search(r'<p id="note-status"[^>]*></p>', html)
    # What a person sees (the editor's words wait in a JSON data block for the script).
    shown = re.sub(r"<script[^>]*>.*?</script>", "", html, flags=re.DOTALL)
    assert "Live" not in shown
    assert "live updates" not in shown.lower()
    # The form with its version check is there, as before.
    assert 'name="base_version"' in html
    assert 'id="id_body"' in html


def test_note_page_header_names_the_last_saver_in_parts_the_editor_updates(web, note, member_a, nonmember):
    html = web(member_a).get(url("note", note.pk)).content.decode()

    assert re.search(r'<span id="note-last-saved"> · <span id="note-last-saved-text">last saved by ', html)
    assert re.search(
        rf"last saved by {member_a.full_name}, \d{{1,2}} \w{{3}} \d{{4}}, \d\d:\d\d</span></span>", html
    )
    root = _element(html, "note-editor")
    assert f'data-api="/api/v1/focusgroups/notes/{note.pk}/"' in root
    assert f'data-my-name="{member_a.full_name}"' in root
    assert f'data-action-url="{url("actions", note.group_id)}"' in root
    # A note nobody has saved yet: the part is hidden until the editor fills it in.
    note.updated_by = None
    note.save(update_fields=["updated_by"])
    html = web(member_a).get(url("note", note.pk)).content.decode()
    assert '<span id="note-last-saved" hidden> · <span id="note-last-saved-text"></span></span>' in html


def test_reader_gets_no_action_link_on_the_note(web, group, nonmember):
    shared = make_note(group, title="Delad", body="Text.", visibility="programme")
    html = web(nonmember).get(url("note", shared.pk)).content.decode()
    assert "data-action-url" not in _element(html, "note-editor")
    assert 'data-can-edit="false"' in _element(html, "note-editor")


def test_action_from_a_line_starts_filled_in_and_links_to_the_note(web, group, note, member_a, member_b):
    line = "  Ring   sfi om platserna "
    page = web(member_a).get(url("actions", group.pk), {"note": note.pk, "line": line})

    assert page.status_code == 200
    form = page.context["form"]
    title = "Ring sfi om platserna"
    assert form.initial == {"note": note.pk, "note_line": title, "title": title}
    html = page.content.decode()
    assert (
        f'From the note <a href="{url("note", note.pk)}">Rutin för överlämning</a>: “Ring sfi om platserna”'
        in html
    )
    assert f'<input type="hidden" name="note" value="{note.pk}" id="id_note">' in html

    response = web(member_a).post(
        url("actions", group.pk),
        {
            "title": "Ring sfi om platserna",
            "owner": member_b.pk,
            "status": "open",
            "note": note.pk,
            "note_line": "Ring sfi om platserna",
        },
    )

    action = ActionItem.unscoped_objects.get(title="Ring sfi om platserna")
    assert (action.note_id, action.note_line) == (note.pk, "Ring sfi om platserna")
    assert response.status_code == 302
    assert response["Location"] == f"{url('note', note.pk)}#note-action-{action.pk}"
    note_html = web(member_b).get(url("note", note.pk)).content.decode()
    to_list = f"{url('actions', group.pk)}?status=all#action-{action.pk}"
    listed = f'<li id="note-action-{action.pk}"><a href="{to_list}">'
    assert listed in note_html
    assert "From the line “Ring sfi om platserna”" in note_html
    list_html = web(member_b).get(url("actions", group.pk)).content.decode()
    assert f'<tr id="action-{action.pk}">' in list_html
    to_note = url("note", note.pk)
    link = f'From the note <a href="{to_note}">Rutin för överlämning</a>: “Ring sfi om platserna”'
    assert link in list_html


def test_action_from_another_groups_note_is_not_linked(
    web, group, member_a, member_b, foreign_group, programme, as_actor
):
    other_group_note = Note.unscoped_objects.filter(group=foreign_group).first()
    assert other_group_note is not None
    page = web(member_a).get(url("actions", group.pk), {"note": other_group_note.pk, "line": "Hemligt"})
    assert page.context["form"].initial == {}
    assert 'id="new-action-note"' not in page.content.decode()

    response = web(member_a).post(
        url("actions", group.pk),
        {"title": "Försök", "owner": member_b.pk, "status": "open", "note": other_group_note.pk},
    )
    assert response.status_code == 400
    assert ActionItem.unscoped_objects.filter(title="Försök").count() == 0


def test_action_service_refuses_a_note_of_another_group_and_drops_a_line_without_note(
    programme, group, member_a, member_b, as_actor
):
    from tests.factories.focusgroups import FocusGroupFactory

    with programme_scope([programme.pk]):
        sibling = FocusGroupFactory(programme=programme, name="Annan grupp")
        elsewhere = make_note(sibling, title="Annans", body="x")
        with pytest.raises(ValidationError) as refused:
            actions.action_create(
                actor=as_actor(member_a),
                group=group,
                owner=member_b,
                values={"title": "Fel anteckning", "status": "open", "note": elsewhere},
            )
        assert refused.value.message_dict == {"note": ["Choose a note of this group."]}
        lone = actions.action_create(
            actor=as_actor(member_a),
            group=group,
            owner=member_b,
            values={"title": "Utan anteckning", "status": "open", "note": None, "note_line": "En rad"},
        )
    assert ActionItem.unscoped_objects.filter(title="Fel anteckning").count() == 0
    lone.refresh_from_db()
    assert (lone.note_id, lone.note_line) == (None, "")
