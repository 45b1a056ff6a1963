"""Pages of the focus groups: the six areas and who represents which organisation, a group's members,
meetings, shared notes (with the live editor, history, compare and restore), actions and the shared glossary.

Thin views: they read inside the request's programme scope, write through ``focusgroups.services``, compute
the permission flags the templates show (``can_manage``, ``can_edit``...) from ``focusgroups.permissions``
and let the services check again. Every page uses a fixed number of queries, whatever the amount of data.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django import forms as django_forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from coordinator.core.views import error_text, next_url
from focusgroups import forms
from focusgroups import permissions as perms
from focusgroups.models import (
    ActionItem,
    Concept,
    ConceptComment,
    ConceptTerm,
    FocusGroup,
    GroupMembership,
    Meeting,
    Note,
    NoteVersion,
)
from focusgroups.services import actions, glossary, groups, meetings, notes
from organisations.access.views import FormPage as BaseFormPage
from organisations.access.views import ProgrammeMixin
from organisations.models import Organisation, Programme

M = GroupMembership.Role


def programme_organisations(programme: Programme) -> list[Organisation]:
    """The organisations taking part in the programme, by name (one query)."""
    return list(Organisation.objects.filter(participations__programme=programme).order_by("name"))


def representation(
    organisations: list[Organisation], memberships: list[GroupMembership] | list[dict[str, Any]]
) -> tuple[list[Organisation], list[Organisation]]:
    """(represented, missing) organisations: observers do not represent their organisation."""
    represented_ids = set()
    for m in memberships:
        role = m["role"] if isinstance(m, dict) else m.role
        organisation_id = m["organisation_id"] if isinstance(m, dict) else m.organisation_id
        if role != M.OBSERVER:
            represented_ids.add(organisation_id)
    return (
        [o for o in organisations if o.pk in represented_ids],
        [o for o in organisations if o.pk not in represented_ids],
    )


class GroupScoped(ProgrammeMixin):
    """Pages about one focus group of the current programme (404 for any other)."""

    model: ClassVar[Any] = FocusGroup

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("convener__user", "programme")

    def get_group(self, pk: int) -> FocusGroup:
        group: FocusGroup = self.get_object_or_404(pk=pk)
        self.group = group
        self.perms = perms.group_perms(self.actor, group)
        return group

    @property
    def can_manage(self) -> bool:
        return perms.can_manage_group(self.actor, self.group, self.perms)

    def check_manage(self) -> None:
        if not self.can_manage:
            raise PermissionDenied(_("Only the group's convener and the coordinators may do this."))


# --- Groups ---------------------------------------------------------------------------------------------


@dataclass
class GroupRow:
    group: FocusGroup
    represented: list[Organisation]
    missing: list[Organisation]
    member_count: int
    my_role: str = ""


class GroupListView(ProgrammeMixin, TemplateView):
    """The programme's focus groups: for each, which organisations are represented and which are missing."""

    template_name = "focusgroups/list.html"
    model = FocusGroup

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("convener__user")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        groups = list(self.get_queryset().order_by("-is_default", "name", "pk"))
        rows_by_group: dict[int, list[dict[str, Any]]] = {g.pk: [] for g in groups}
        for m in GroupMembership.objects.filter(group__programme=self.programme, is_active=True).values(
            "group_id", "organisation_id", "role", "person_id"
        ):
            rows_by_group.setdefault(m["group_id"], []).append(dict(m))
        organisations = programme_organisations(self.programme)
        roles = dict(M.choices)
        rows = []
        for group in groups:
            memberships = rows_by_group[group.pk]
            represented, missing = representation(organisations, memberships)
            mine = next((m["role"] for m in memberships if m["person_id"] == self.person.pk), "")
            rows.append(
                GroupRow(group, represented, missing, len(memberships), str(roles[mine]) if mine else "")
            )
        context.update(rows=rows, can_create=perms.can_manage_groups(self.actor, self.programme))
        return context


class GroupDetailView(GroupScoped, TemplateView):
    """A group: members with organisation, role and mandate; meetings; the notes I may read; open actions."""

    template_name = "focusgroups/group.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        group = self.get_group(kwargs["pk"])
        memberships = list(
            GroupMembership.objects.filter(group=group, is_active=True).select_related(
                "person__user", "organisation"
            )
        )
        represented, missing = representation(programme_organisations(self.programme), memberships)
        meetings = list(Meeting.objects.filter(group=group).order_by("starts_at", "pk"))
        now = timezone.now()
        notes = Note.objects.filter(group=group).order_by("-updated_at", "pk")
        if not perms.can_view_group_room(self.actor, group, self.perms):
            notes = notes.exclude(visibility=Note.Visibility.GROUP)
        can_manage = self.can_manage
        context.update(
            group=group,
            memberships=memberships,
            represented=represented,
            missing=missing,
            upcoming=[m for m in meetings if m.ends_at >= now],
            past=[m for m in meetings if m.ends_at < now][::-1][:10],
            notes=list(notes[:10]),
            open_actions=list(
                ActionItem.objects.filter(group=group, status__in=ActionItem.OPEN_STATUSES)
                .select_related("owner__user", "organisation")
                .order_by("due_on", "pk")
            ),
            can_manage=can_manage,
            member_form=forms.MembershipForm(programme=self.programme) if can_manage else None,
        )
        return context


class FormPage(BaseFormPage):
    """The shared form page on this app's template."""

    template_name = "focusgroups/form.html"


class GroupCreateView(FormPage):
    page_title = gettext_lazy("New focus group")
    model = FocusGroup

    def load(self, **kwargs: Any) -> None:
        if not perms.can_manage_groups(self.actor, self.programme):
            raise PermissionDenied(_("Only the programme's coordinators create focus groups."))

    def build_form(self, data: Any = None) -> django_forms.Form:
        return forms.GroupForm(data=data)

    def perform(self, form: Any) -> str:
        values = {**form.cleaned_data, "code": slugify(form.cleaned_data["name"])[:60] or "group"}
        group = groups.group_create(actor=self.actor, programme=self.programme, values=values)
        return reverse("focusgroups:group", kwargs={"pk": group.pk})

    def page_context(self) -> dict[str, Any]:
        return {"back_url": reverse("focusgroups:list")}


class GroupEditView(GroupScoped, FormPage):
    page_title = gettext_lazy("Edit the focus group")

    def load(self, **kwargs: Any) -> None:
        self.get_group(kwargs["pk"])
        self.check_manage()

    def build_form(self, data: Any = None) -> django_forms.Form:
        return forms.GroupForm(data=data, initial={"name": self.group.name, "purpose": self.group.purpose})

    def perform(self, form: Any) -> str:
        groups.group_update(actor=self.actor, group=self.group, values=form.cleaned_data)
        return reverse("focusgroups:group", kwargs={"pk": self.group.pk})

    def page_context(self) -> dict[str, Any]:
        return {"subject": self.group, "back_url": reverse("focusgroups:group", kwargs={"pk": self.group.pk})}


# --- Members --------------------------------------------------------------------------------------------


class MembershipAddView(GroupScoped, FormPage):
    page_title = gettext_lazy("Add a member")
    submit_label = gettext_lazy("Add member")
    success_message = gettext_lazy("The member is added.")

    def load(self, **kwargs: Any) -> None:
        self.get_group(kwargs["pk"])
        self.check_manage()

    def build_form(self, data: Any = None) -> django_forms.Form:
        return forms.MembershipForm(data=data, programme=self.programme)

    def perform(self, form: Any) -> str:
        groups.membership_add(actor=self.actor, group=self.group, **form.cleaned_data)
        return reverse("focusgroups:group", kwargs={"pk": self.group.pk})

    def page_context(self) -> dict[str, Any]:
        return {
            "subject": self.group,
            "back_url": reverse("focusgroups:group", kwargs={"pk": self.group.pk}),
            "help": _(
                "Representatives need a mandate from their organisation: who sent them and what they may "
                "decide."
            ),
        }


class MembershipScoped(GroupScoped):
    model = GroupMembership

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(is_active=True).select_related(
            "group__programme", "person__user", "organisation"
        )

    def get_membership(self, pk: int) -> GroupMembership:
        membership: GroupMembership = self.get_object_or_404(pk=pk)
        self.membership = membership
        self.group = membership.group
        self.perms = perms.group_perms(self.actor, self.group)
        self.check_manage()
        return membership


class MembershipEditView(MembershipScoped, FormPage):
    page_title = gettext_lazy("Edit the membership")

    def load(self, **kwargs: Any) -> None:
        self.get_membership(kwargs["pk"])

    def build_form(self, data: Any = None) -> django_forms.Form:
        return forms.MembershipForm(data=data, programme=self.programme, membership=self.membership)

    def perform(self, form: Any) -> str:
        groups.membership_update(actor=self.actor, membership=self.membership, values=form.cleaned_data)
        return reverse("focusgroups:group", kwargs={"pk": self.group.pk})

    def page_context(self) -> dict[str, Any]:
        return {
            "subject": f"{self.membership.person.full_name} – {self.group.name}",
            "back_url": reverse("focusgroups:group", kwargs={"pk": self.group.pk}),
        }


class MembershipRemoveView(MembershipScoped, View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        membership = self.get_membership(pk)
        try:
            groups.membership_remove(actor=self.actor, membership=membership)
        except ValidationError as error:
            messages.error(request, error_text(error))
        else:
            messages.success(
                request, _("%(person)s has left the group.") % {"person": membership.person.full_name}
            )
        return redirect("focusgroups:group", pk=membership.group_id)


# --- Meetings -------------------------------------------------------------------------------------------


class MeetingScoped(GroupScoped):
    model = Meeting

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("group__programme", "group__convener__user")

    def get_meeting(self, pk: int) -> Meeting:
        meeting: Meeting = self.get_object_or_404(pk=pk)
        self.meeting = meeting
        self.group = meeting.group
        self.perms = perms.group_perms(self.actor, self.group)
        return meeting


class MeetingDetailView(MeetingScoped, TemplateView):
    template_name = "focusgroups/meeting.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        meeting = self.get_meeting(kwargs["pk"])
        context.update(
            meeting=meeting,
            group=self.group,
            agenda=list(meeting.agenda_items.all()),
            decisions=list(meeting.decisions.all()),
            actions=list(
                ActionItem.objects.filter(meeting=meeting).select_related("owner__user", "organisation")
            ),
            can_manage=self.can_manage,
        )
        return context


class MeetingCreateView(GroupScoped, FormPage):
    page_title = gettext_lazy("Plan a meeting")
    submit_label = gettext_lazy("Plan the meeting")
    success_message = gettext_lazy("The meeting is planned and the members get a calendar invite.")

    def load(self, **kwargs: Any) -> None:
        self.get_group(kwargs["pk"])
        self.check_manage()

    def build_form(self, data: Any = None) -> django_forms.Form:
        return forms.MeetingForm(data=data)

    def perform(self, form: Any) -> str:
        meeting = meetings.meeting_create(
            actor=self.actor, group=self.group, values=form.values(), agenda=form.agenda_items()
        )
        return reverse("focusgroups:meeting", kwargs={"pk": meeting.pk})

    def page_context(self) -> dict[str, Any]:
        return {"subject": self.group, "back_url": reverse("focusgroups:group", kwargs={"pk": self.group.pk})}


class MeetingEditView(MeetingScoped, FormPage):
    page_title = gettext_lazy("Edit the meeting")
    success_message = gettext_lazy("The meeting is saved; the members get an updated invite.")

    def load(self, **kwargs: Any) -> None:
        self.get_meeting(kwargs["pk"])
        self.check_manage()

    def build_form(self, data: Any = None) -> django_forms.Form:
        return forms.MeetingForm(data=data, meeting=self.meeting)

    def perform(self, form: Any) -> str:
        meetings.meeting_update(
            actor=self.actor, meeting=self.meeting, values=form.values(), agenda=form.agenda_items()
        )
        return reverse("focusgroups:meeting", kwargs={"pk": self.meeting.pk})

    def page_context(self) -> dict[str, Any]:
        return {
            "subject": self.meeting.title,
            "back_url": reverse("focusgroups:meeting", kwargs={"pk": self.meeting.pk}),
        }


class MeetingCancelView(MeetingScoped, FormPage):
    """Cancelling asks first: the page is the confirmation, the POST cancels and mails a CANCEL."""

    page_title = gettext_lazy("Cancel the meeting")
    submit_label = gettext_lazy("Yes, cancel the meeting")
    success_message = gettext_lazy("The meeting is cancelled and the members' calendars are updated.")

    def load(self, **kwargs: Any) -> None:
        self.get_meeting(kwargs["pk"])
        self.check_manage()

    def build_form(self, data: Any = None) -> django_forms.Form:
        return forms.CancelForm(data=data)

    def perform(self, form: Any) -> str:
        meetings.meeting_cancel(actor=self.actor, meeting=self.meeting)
        return reverse("focusgroups:meeting", kwargs={"pk": self.meeting.pk})

    def page_context(self) -> dict[str, Any]:
        when = timezone.localtime(self.meeting.starts_at).strftime("%Y-%m-%d %H:%M")
        return {
            "subject": f"{self.meeting.title} ({when})",
            "back_url": reverse("focusgroups:meeting", kwargs={"pk": self.meeting.pk}),
            "help": _("Every member gets a calendar cancellation. This cannot be undone."),
            "danger": True,
        }


class MeetingMinutesView(MeetingScoped, FormPage):
    page_title = gettext_lazy("Minutes")
    success_message = gettext_lazy("The minutes are saved.")

    def load(self, **kwargs: Any) -> None:
        self.get_meeting(kwargs["pk"])
        self.check_manage()

    def build_form(self, data: Any = None) -> django_forms.Form:
        initial = {
            "minutes": self.meeting.minutes,
            "decisions": "\n".join(d.text for d in self.meeting.decisions.all()),
        }
        return forms.MinutesForm(data=data, initial=initial)

    def perform(self, form: Any) -> str:
        meetings.meeting_record_minutes(
            actor=self.actor,
            meeting=self.meeting,
            minutes=form.cleaned_data["minutes"],
            decisions=form.decision_list(),
        )
        return reverse("focusgroups:meeting", kwargs={"pk": self.meeting.pk})

    def page_context(self) -> dict[str, Any]:
        return {
            "subject": self.meeting.title,
            "back_url": reverse("focusgroups:meeting", kwargs={"pk": self.meeting.pk}),
        }


# --- Notes ----------------------------------------------------------------------------------------------


class NoteListView(GroupScoped, TemplateView):
    """A group's notes that I may read, and a form for a new one (members only)."""

    template_name = "focusgroups/notes.html"

    def _render(self, request: HttpRequest, form: Any, status: int = 200) -> HttpResponse:
        notes = Note.objects.filter(group=self.group).select_related("updated_by__user")
        if not perms.can_view_group_room(self.actor, self.group, self.perms):
            notes = notes.exclude(visibility=Note.Visibility.GROUP)
        context = {
            "group": self.group,
            "notes": list(notes.order_by("title", "pk")),
            "can_edit": perms.can_edit_notes(self.actor, self.group, self.perms),
            "form": form,
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        self.get_group(pk)
        return self._render(request, forms.NoteCreateForm())

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        self.get_group(pk)
        if not perms.can_edit_notes(self.actor, self.group, self.perms):
            raise PermissionDenied(_("Only the group's members write its notes."))
        form = forms.NoteCreateForm(request.POST)
        if form.is_valid():
            try:
                note = notes.note_create(actor=self.actor, group=self.group, **form.cleaned_data)
            except ValidationError as error:
                forms.add_service_errors(form, error)
            else:
                messages.success(request, _("The note is created."))
                return redirect("focusgroups:note", pk=note.pk)
        return self._render(request, form, status=400)


class NoteScoped(ProgrammeMixin):
    """One note: group-only notes answer 404 to anyone outside the group, like a missing one."""

    model = Note

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("group__programme", "updated_by__user")

    def get_note(self, pk: int) -> Note:
        note: Note = self.get_object_or_404(pk=pk)
        self.group = note.group
        self.perms = perms.group_perms(self.actor, note.group)
        if not perms.can_read_note(self.actor, note, self.perms):
            raise Http404
        self.note = note
        return note

    @property
    def can_edit(self) -> bool:
        return perms.can_edit_note(self.actor, self.note, self.perms)


def note_js_strings() -> dict[str, str]:
    """The live editor's messages, translated on the server (the script has no catalogue of its own)."""
    return {
        "connected": _("Live: others' saved changes appear here without reloading."),
        "offline": _("Live updates are off. You can still save; the page checks for others' changes."),
        "saving": _("Saving…"),
        "nothing": _("Nothing has changed since the last saved version."),
        "savedMine": _("Saved as version %(version)s."),
        "savedOther": _("%(author)s saved version %(version)s; the text above is now up to date."),
        "savedOtherKept": _(
            "%(author)s saved version %(version)s. Your unsaved changes are kept; when you save, you will "
            "see both texts to merge."
        ),
        "changedMeanwhile": _(
            "Version %(version)s was saved meanwhile. Your unsaved changes are kept; when you save, you will "
            "see both texts to merge."
        ),
        "conflictTitle": _("Someone saved the note while you were editing"),
        "conflictHelp": _(
            "Version %(version)s was saved by %(author)s. Your text is kept in the editor below: merge the "
            "two texts there and save again."
        ),
        "conflictStatus": _("Not saved: the note changed meanwhile. Both texts are shown."),
        "savedLabel": _("Saved version %(version)s (%(author)s)"),
        "yoursLabel": _("Your text (not saved yet)"),
        "useSaved": _("Start from the saved version"),
        "forbidden": _("You may read this note but not edit it."),
        "failed": _("The note could not be saved. Try again."),
        "presence": _("Here now: %(names)s"),
        "nobody": _("Nobody else is here."),
        "withdrawn": _(
            "This note is no longer shared with the programme: what you see is its last shared text."
        ),
    }


class NoteDetailView(NoteScoped, View):
    """The note and its editor. Without JavaScript a save is a normal POST with the base version; a stale save
    shows both texts and keeps what the person typed (status 409)."""

    template_name = "focusgroups/note.html"

    def _render(
        self, request: HttpRequest, form: Any, status: int = 200, conflict: dict[str, Any] | None = None
    ) -> HttpResponse:
        context = {
            "note": self.note,
            "group": self.group,
            "form": form,
            "can_edit": self.can_edit,
            # Presence is the group room's; readers outside the group follow the saves of a shared note too.
            "in_room": perms.can_view_group_room(self.actor, self.group, self.perms),
            "conflict": conflict,
            "yours": {"title": form.data.get("title", ""), "body": form.data.get("body", "")}
            if conflict
            else None,
            "js_strings": note_js_strings(),
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        note = self.get_note(pk)
        form = forms.NoteForm(initial={"title": note.title, "body": note.body, "base_version": note.version})
        return self._render(request, form)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        note = self.get_note(pk)
        if not self.can_edit:
            raise PermissionDenied(_("Only the group's members edit its notes."))
        form = forms.NoteForm(request.POST)
        if form.is_valid():
            try:
                saved = notes.note_save(
                    actor=self.actor,
                    note=note,
                    title=form.cleaned_data["title"],
                    body=form.cleaned_data["body"],
                    base_version=form.cleaned_data["base_version"],
                )
            except notes.StaleVersion as stale:
                current = stale.current
                self.note = current
                data = request.POST.copy()
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
                author = current.updated_by.full_name if current.updated_by else ""
                conflict = {
                    "version": current.version,
                    "title": current.title,
                    "body": current.body,
                    "author": author,
                }
                return self._render(request, retry, status=409, conflict=conflict)
            except ValidationError as error:
                forms.add_service_errors(form, error)
            else:
                messages.success(request, _("Saved as version %(version)s.") % {"version": saved.version})
                return redirect("focusgroups:note", pk=note.pk)
        return self._render(request, form, status=400)


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

    def _old(self, raw: Any) -> NoteVersion:
        text = str(raw or "")
        if not text.isdigit() or len(text) > 9:
            raise Http404
        found = NoteVersion.objects.filter(note=self.note, version=int(text)).first()
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
        except notes.StaleVersion:
            messages.error(
                request, _("The note was saved by someone else meanwhile. Look at the history and try again.")
            )
            return redirect("focusgroups:note-history", pk=note.pk)
        except ValidationError as error:
            messages.error(request, error_text(error))
            return redirect("focusgroups:note-history", pk=note.pk)
        messages.success(
            request,
            _("Version %(old)s is restored as version %(new)s.") % {"old": old.version, "new": saved.version},
        )
        return redirect("focusgroups:note", pk=note.pk)


# --- Actions --------------------------------------------------------------------------------------------


class ActionListView(GroupScoped, TemplateView):
    """A group's actions with a status filter; members add actions here."""

    template_name = "focusgroups/actions.html"

    def _render(self, request: HttpRequest, form: Any, status: int = 200) -> HttpResponse:
        filter_form = forms.ActionFilterForm(request.GET)
        actions = ActionItem.objects.filter(group=self.group).select_related(
            "owner__user", "organisation", "meeting"
        )
        chosen = filter_form.cleaned_data if filter_form.is_valid() else {}
        status_filter = chosen.get("status", "")
        if status_filter == "":
            actions = actions.filter(status__in=ActionItem.OPEN_STATUSES)
        elif status_filter != "all":
            actions = actions.filter(status=status_filter)
        if chosen.get("mine"):
            actions = actions.filter(owner=self.person)
        rows = list(actions.order_by("due_on", "pk"))
        can_manage = self.can_manage
        for action in rows:
            # The owner moves their own action along; the convener and coordinators change any.
            action.can_update = can_manage or action.owner_id == self.person.pk  # type: ignore[attr-defined]
        context = {
            "group": self.group,
            "actions": rows,
            "filter_form": filter_form,
            "form": form,
            "can_edit": any(a.can_update for a in rows),  # type: ignore[attr-defined]
            "statuses": ActionItem.Status.choices,
            "today": timezone.localdate(),
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        self.get_group(pk)
        can_add = perms.can_add_action(self.actor, self.group, self.perms)
        return self._render(request, forms.ActionForm(group=self.group) if can_add else None)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        self.get_group(pk)
        if not perms.can_add_action(self.actor, self.group, self.perms):
            raise PermissionDenied(_("Only the group's members add actions."))
        form = forms.ActionForm(request.POST, group=self.group)
        if form.is_valid():
            try:
                values = dict(form.cleaned_data)
                owner = values.pop("owner")
                actions.action_create(actor=self.actor, group=self.group, owner=owner, values=values)
            except ValidationError as error:
                forms.add_service_errors(form, error)
            else:
                messages.success(request, _("The action is added."))
                return redirect("focusgroups:actions", pk=self.group.pk)
        return self._render(request, form, status=400)


class ActionScoped(GroupScoped):
    model = ActionItem

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("group__programme", "owner__user", "organisation")

    def get_action(self, pk: int) -> ActionItem:
        action: ActionItem = self.get_object_or_404(pk=pk)
        self.action = action
        self.group = action.group
        if not perms.can_update_action(self.actor, action):
            raise PermissionDenied(
                _("Only the owner, the group's convener and the coordinators change an action.")
            )
        return action


class ActionEditView(ActionScoped, FormPage):
    page_title = gettext_lazy("Edit the action")

    def load(self, **kwargs: Any) -> None:
        self.get_action(kwargs["pk"])

    def build_form(self, data: Any = None) -> django_forms.Form:
        return forms.ActionForm(data=data, group=self.group, action=self.action)

    def perform(self, form: Any) -> str:
        values = dict(form.cleaned_data)
        owner = values.pop("owner")
        actions.action_update(actor=self.actor, action=self.action, values=values, owner=owner)
        return reverse("focusgroups:actions", kwargs={"pk": self.group.pk})

    def page_context(self) -> dict[str, Any]:
        return {
            "subject": self.group,
            "back_url": reverse("focusgroups:actions", kwargs={"pk": self.group.pk}),
        }


class ActionStatusView(ActionScoped, View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        action = self.get_action(pk)
        form = forms.ActionStatusForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Choose a status."))
        else:
            try:
                actions.action_update(
                    actor=self.actor, action=action, values={"status": form.cleaned_data["status"]}
                )
            except ValidationError as error:
                messages.error(request, error_text(error))
            else:
                messages.success(
                    request,
                    _("%(title)s: %(status)s.")
                    % {"title": action.title, "status": action.get_status_display()},
                )
        return redirect(next_url(request, reverse("focusgroups:actions", kwargs={"pk": action.group_id})))


class MyActionsView(ProgrammeMixin, TemplateView):
    """My open actions in every group of the programme."""

    template_name = "focusgroups/actions.html"
    model = ActionItem

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(owner=self.person, status__in=ActionItem.OPEN_STATUSES)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        actions = list(
            self.get_queryset()
            .select_related("group", "owner__user", "organisation", "meeting")
            .order_by("due_on", "pk")
        )
        for action in actions:
            action.can_update = True  # type: ignore[attr-defined]
        context.update(
            group=None,
            actions=actions,
            can_edit=True,
            statuses=ActionItem.Status.choices,
            today=timezone.localdate(),
            form=None,
        )
        return context


# --- Glossary -------------------------------------------------------------------------------------------


@dataclass
class ConceptRow:
    concept: Concept
    terms: list[ConceptTerm | None] = field(default_factory=list)


class GlossaryView(ProgrammeMixin, TemplateView):
    """Every concept with each organisation's term side by side; anyone in the programme adds a concept."""

    template_name = "focusgroups/glossary.html"
    model = Concept

    def _render(self, request: HttpRequest, form: Any, status: int = 200) -> HttpResponse:
        organisations = programme_organisations(self.programme)
        concepts = list(self.get_queryset().order_by("name", "pk"))
        terms: dict[tuple[int, int], ConceptTerm] = {
            (t.concept_id, t.organisation_id): t
            for t in ConceptTerm.objects.filter(concept__programme=self.programme)
        }
        rows = [ConceptRow(c, [terms.get((c.pk, o.pk)) for o in organisations]) for c in concepts]
        context = {"concepts": rows, "organisations": organisations, "form": form}
        return render(request, self.template_name, context, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request, forms.ConceptForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = forms.ConceptForm(request.POST)
        if form.is_valid():
            try:
                concept = glossary.concept_create(
                    actor=self.actor, programme=self.programme, **form.cleaned_data
                )
            except ValidationError as error:
                forms.add_service_errors(form, error)
            else:
                messages.success(request, _("The concept is added. Now give your organisation's term."))
                return redirect("focusgroups:concept", pk=concept.pk)
        return self._render(request, form, status=400)


class ConceptView(ProgrammeMixin, View):
    """One concept: each organisation's term and definition side by side, comments, and my organisation's
    term to add or edit."""

    template_name = "focusgroups/concept.html"
    model = Concept

    def _render(
        self,
        request: HttpRequest,
        term_form: Any = None,
        comment_form: Any = None,
        status: int = 200,
    ) -> HttpResponse:
        concept = self.concept
        organisations = programme_organisations(self.programme)
        terms = {
            t.organisation_id: t
            for t in ConceptTerm.objects.filter(concept=concept).select_related("updated_by__user")
        }
        my_organisation = next((o for o in organisations if o.pk == self.actor.organisation_id), None)
        can_set = my_organisation is not None and perms.can_set_term(
            self.actor, self.programme, my_organisation.pk
        )
        if can_set and term_form is None:
            mine = terms.get(my_organisation.pk) if my_organisation else None
            term_form = forms.TermForm(
                initial={"term": mine.term, "definition": mine.definition} if mine else None
            )
        context = {
            "concept": concept,
            "terms": [(o, terms.get(o.pk)) for o in organisations],
            "comments": list(
                ConceptComment.objects.filter(concept=concept)
                .select_related("author__user", "author__organisation")
                .order_by("created_at", "pk")
            ),
            "my_organisation": my_organisation,
            "term_form": term_form if can_set else None,
            "comment_form": comment_form or forms.CommentForm(),
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        self.concept: Concept = self.get_object_or_404(pk=pk)
        return self._render(request)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        self.concept = self.get_object_or_404(pk=pk)
        if request.POST.get("action") == "term":
            form: django_forms.Form = forms.TermForm(request.POST)
            if form.is_valid():
                organisation = self.person.organisation
                try:
                    glossary.term_set(
                        actor=self.actor, concept=self.concept, organisation=organisation, **form.cleaned_data
                    )
                except ValidationError as error:
                    forms.add_service_errors(form, error)
                else:
                    messages.success(request, _("Your organisation's term is saved."))
                    return redirect("focusgroups:concept", pk=self.concept.pk)
            return self._render(request, term_form=form, status=400)
        form = forms.CommentForm(request.POST)
        if form.is_valid():
            try:
                glossary.comment_add(actor=self.actor, concept=self.concept, body=form.cleaned_data["body"])
            except ValidationError as error:
                forms.add_service_errors(form, error)
            else:
                messages.success(request, _("Your comment is added."))
                return redirect("focusgroups:concept", pk=self.concept.pk)
        return self._render(request, comment_form=form, status=400)
