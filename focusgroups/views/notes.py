"""Pages of the shared notes: a group's notes, one note with its live editor, its history with a line diff,
and restoring an old version."""

from __future__ import annotations

import difflib
from typing import Any

from django import forms as django_forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView, TemplateView

from coordinator.core.exceptions import Conflict
from coordinator.core.forms import add_service_errors
from coordinator.core.validators import parse_int
from coordinator.core.views import SERVICE_ERRORS, ServiceFormMixin, error_text
from focusgroups import forms, permissions, selectors
from focusgroups.models import FocusGroup, Note, NoteVersion
from focusgroups.services import notes
from focusgroups.views._shared import GroupScoped
from organisations.access.views import ProgrammeMixin


class NoteListView(GroupScoped, TemplateView):
    """A group's notes that I may read, and a form for a new one (members only)."""

    template_name = "focusgroups/notes.html"

    def _render(self, request: HttpRequest, form: forms.NoteCreateForm, status: int = 200) -> HttpResponse:
        # A meeting's minutes are found at their meeting, not among the group's notes.
        readable = (
            selectors.notes_for(self.actor)
            .filter(group=self.group, meeting__isnull=True)
            .select_related("updated_by__user")
        )
        context = {
            "group": self.group,
            "notes": list(readable.order_by("title", "pk")),
            "can_edit": permissions.can_edit_notes(self.actor, self.group, self.rights),
            "form": form,
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        self.get_group(pk)
        return self._render(request, forms.NoteCreateForm())

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        self.get_group(pk)
        if not permissions.can_edit_notes(self.actor, self.group, self.rights):
            raise PermissionDenied(_("Only the group's members write its notes."))
        form = forms.NoteCreateForm(request.POST)
        if form.is_valid():
            try:
                note = notes.note_create(actor=self.actor, group=self.group, **form.cleaned_data)
            except SERVICE_ERRORS as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("The note is created."))
                return redirect("focusgroups:note", pk=note.pk)
        return self._render(request, form, status=400)


class NoteScoped(ProgrammeMixin):
    """One note: group-only notes answer 404 to anyone outside the group, like a missing one."""

    model = Note
    note: Note
    group: FocusGroup
    rights: frozenset[str]

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("group__programme", "updated_by__user", "meeting")

    def get_note(self, pk: int) -> Note:
        note: Note = self.get_object_or_404(pk=pk)
        self.group = note.group
        self.rights = permissions.group_rights(self.actor, note.group)
        if not permissions.can_read_note(self.actor, note, self.rights):
            raise Http404
        self.note = note
        return note

    @property
    def can_edit(self) -> bool:
        return permissions.can_edit_note(self.actor, self.note, self.rights)


def note_js_strings() -> dict[str, str]:
    """The live editor's words, translated on the server (the script has no catalogue of its own)."""
    return {
        "connecting": _("Connecting to the live note…"),
        "connected": _("Live: everyone's typing appears here as it happens and is saved at once."),
        "connectedReader": _(
            "Live: you see others' typing as it happens. You may read this note, not edit it."
        ),
        "offline": _("Connection lost. Trying again…"),
        "offlineEditing": _(
            "Connection lost. Keep writing: your changes are kept here and merged when the connection is "
            "back."
        ),
        "refused": _("You can no longer edit this note. Reload the page to see its current text."),
        "saving": _("Saving…"),
        "versioned": _("%(author)s saved version %(version)s."),
        "titleChanged": _("Someone changed the title meanwhile. Reload the page to see it, then try again."),
        "forbidden": _("You may read this note but not edit it."),
        "failed": _("The note could not be saved. Try again."),
        "presence": _("Here now: %(names)s"),
        "nobody": _("Nobody else is here."),
        "withdrawn": _(
            "This note is no longer shared with the programme: what you see is its last shared text."
        ),
        "lastSaved": _("last saved by %(name)s, %(when)s"),
        "bodyLabel": _("Text"),
        "bodyLabelReadOnly": _("Text (read only)"),
        "placeholder": _("Write the note here. Markdown works: # heading, - list, - [ ] checkbox."),
        "editorHelp": _(
            "Everyone's changes merge as you type. Shortcuts: Ctrl+Alt+1 heading, Ctrl+Shift+8 list, "
            "Ctrl+Shift+7 numbered list, Ctrl+Shift+9 checkbox, Ctrl+Enter tick a checkbox, Ctrl+K link, "
            "Ctrl+Shift+A action from this line, Ctrl+Z undo. Tab leaves the text."
        ),
        "toolbar": _("Formatting"),
        "heading": _("Heading"),
        "bulletList": _("List"),
        "numberedList": _("Numbered list"),
        "checklist": _("Checkbox"),
        "toggleCheckbox": _("Tick or untick"),
        "link": _("Link"),
        "createAction": _("Create an action from this line"),
        "saveVersion": _("Save a version now"),
    }


class NoteDetailView(NoteScoped, ServiceFormMixin, FormView):  # type: ignore[type-arg]
    """The note and its editor. Without JavaScript a save is a normal POST with the base version; a stale save
    shows both texts and keeps what the person typed (status 409)."""

    template_name = "focusgroups/note.html"
    form_class = forms.NoteForm
    # The note as it is now, when a save was based on an older version.
    stale_current: Note | None = None
    saved_version: int = 0

    def load(self, **kwargs: Any) -> None:
        self.get_note(kwargs["pk"])
        if self.request.method == "POST" and not self.can_edit:
            raise PermissionDenied(_("Only the group's members edit its notes."))

    def get_initial(self) -> dict[str, Any]:
        return {"title": self.note.title, "body": self.note.body, "base_version": self.note.version}

    def perform(self, form: forms.NoteForm) -> str:
        try:
            saved = notes.note_update(
                actor=self.actor,
                note=self.note,
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
                base_version=form.cleaned_data["base_version"],
            )
        except Conflict as conflict:
            self.stale_current = conflict.current
            raise
        self.saved_version = saved.version
        if self.note.meeting_id is not None:
            # A meeting's minutes are written on the meeting's page (its form without JavaScript posts here).
            return reverse("focusgroups:meeting", kwargs={"pk": self.note.meeting_id}) + "#minutes"
        return reverse("focusgroups:note", kwargs={"pk": self.note.pk})

    def get_success_message(self) -> str:
        # The message names the version just saved.
        return _("Saved as version %(version)s.") % {"version": self.saved_version}

    def form_invalid(self, form: django_forms.Form) -> HttpResponse:
        current = self.stale_current
        if current is None:
            return super().form_invalid(form)
        # Both texts: the saved one as it is now, and what the person typed, on a form based on the current
        # version so that saving the merge goes through.
        self.note = current
        data = self.request.POST.copy()
        data["base_version"] = str(current.version)
        retry = forms.NoteForm(data)
        retry.is_valid()
        retry.add_error(
            None,
            _(
                "The note was saved by someone else meanwhile. Your text was not saved yet: "
                "merge and save again."
            ),
        )
        conflict = {
            "version": current.version,
            "title": current.title,
            "body": current.body,
            "author": current.updated_by.full_name if current.updated_by else "",
        }
        context = self.get_context_data(form=retry, conflict=conflict)
        return self.render_to_response(context, status=409)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        conflict = kwargs.get("conflict")
        form = context["form"]
        context.update(
            note=self.note,
            group=self.group,
            can_edit=self.can_edit,
            # Presence is the group room's; readers outside the group follow the saves of a shared note too.
            in_room=permissions.can_view_group_room(self.actor, self.group, self.rights),
            conflict=conflict,
            yours={"title": form.data.get("title", ""), "body": form.data.get("body", "")}
            if conflict
            else None,
            js_strings=note_js_strings(),
            can_add_action=permissions.can_add_action(self.actor, self.group, self.rights),
            # One query: the actions made from lines of this note, listed under it.
            note_actions=list(self.note.actions.order_by("pk")),
            my_name=self.actor.person.full_name if self.actor.person else "",
        )
        return context


class NoteHistoryView(NoteScoped, TemplateView):
    """Every saved version with author and time; compare two (a line diff); restore links."""

    template_name = "focusgroups/history.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        note = self.get_note(kwargs["pk"])
        versions = list(
            NoteVersion.objects.filter(note=note).select_related("author__user").order_by("-version")
        )
        by_number = {v.version: v for v in versions}
        compare = forms.CompareForm(
            data=request.GET if "a" in request.GET or "b" in request.GET else None,
            initial={"a": max(note.version - 1, 1), "b": note.version},
        )
        diff = older = newer = None
        status = 200
        if compare.is_bound:
            if compare.is_valid():
                a, b = sorted((compare.cleaned_data["a"], compare.cleaned_data["b"]))
                older, newer = by_number.get(a), by_number.get(b)
                if older is None or newer is None:
                    compare.add_error(None, _("Choose two versions of this note."))
                    status = 400
                else:
                    diff = line_diff(older.body, newer.body)
            else:
                status = 400
        context = {
            "note": note,
            "versions": versions,
            "compare_form": compare,
            "diff": diff,
            "older": older,
            "newer": newer,
            "can_edit": self.can_edit,
        }
        return render(request, self.template_name, context, status=status)


def line_diff(old: str, new: str) -> list[tuple[str, str]]:
    """The two texts line by line: ("+", line) added, ("-", line) removed, (" ", line) unchanged."""
    result = []
    for line in difflib.ndiff(old.splitlines(), new.splitlines()):
        kind = line[:1]
        if kind in ("+", "-", " "):
            result.append((kind, line[2:]))
    return result


class NoteRestoreView(NoteScoped, View):
    """Restoring asks first: GET shows the old version and a confirmation, POST makes it the newest."""

    template_name = "focusgroups/restore.html"

    def _old(self, raw: str | None) -> NoteVersion:
        version = parse_int(raw)
        if version is None:
            raise Http404
        found = NoteVersion.objects.filter(note=self.note, version=version).first()
        if found is None:
            raise Http404
        return found

    def _check(self) -> None:
        if not self.can_edit:
            raise PermissionDenied(_("Only the group's members restore its notes."))

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        note = self.get_note(pk)
        self._check()
        # Without a choice, offer the version before the current one.
        old = self._old(request.GET.get("version") or str(note.version - 1))
        form = forms.RestoreForm(initial={"version": old.version, "base_version": note.version})
        return render(request, self.template_name, {"note": note, "old": old, "form": form})

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        note = self.get_note(pk)
        self._check()
        old = self._old(request.POST.get("version"))
        form = forms.RestoreForm(request.POST)
        if not form.is_valid():
            return render(request, self.template_name, {"note": note, "old": old, "form": form}, status=400)
        try:
            saved = notes.note_restore(
                actor=self.actor,
                note=note,
                version=old.version,
                base_version=form.cleaned_data["base_version"],
            )
        except Conflict:
            messages.error(
                request, _("The note was saved by someone else meanwhile. Look at the history and try again.")
            )
            return redirect("focusgroups:note-history", pk=note.pk)
        except SERVICE_ERRORS as error:
            messages.error(request, error_text(error))
            return redirect("focusgroups:note-history", pk=note.pk)
        messages.success(
            request,
            _("Version %(old)s is restored as version %(new)s.") % {"old": old.version, "new": saved.version},
        )
        return redirect("focusgroups:note", pk=note.pk)
