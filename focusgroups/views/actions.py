"""Pages of the actions: a group's actions (members add them there), editing one, moving one along, and my
open actions in every group."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import FormView, TemplateView

from coordinator.core.forms import add_service_errors
from coordinator.core.validators import parse_int
from coordinator.core.views import SERVICE_ERRORS, ServiceFormMixin, error_text, next_url
from focusgroups import forms, permissions, selectors
from focusgroups.models import ActionItem, Note
from focusgroups.services import actions
from focusgroups.views._shared import FORM_TEMPLATE, GroupScoped
from organisations.access.views import ProgrammeMixin


class ActionListView(GroupScoped, TemplateView):
    """A group's actions with a status filter; members add actions here."""

    template_name = "focusgroups/actions.html"

    def _render(self, request: HttpRequest, form: forms.ActionForm | None, status: int = 200) -> HttpResponse:
        filter_form = forms.ActionFilterForm(request.GET)
        shown = ActionItem.objects.filter(group=self.group).select_related(
            "owner__user", "organisation", "meeting", "note"
        )
        chosen = filter_form.cleaned_data if filter_form.is_valid() else {}
        status_filter = chosen.get("status", "")
        if status_filter == "":
            shown = shown.filter(status__in=ActionItem.OPEN_STATUSES)
        elif status_filter != "all":
            shown = shown.filter(status=status_filter)
        if chosen.get("mine"):
            shown = shown.filter(owner=self.person)
        rows = list(shown.order_by("due_on", "pk"))
        can_manage = self.can_manage
        for action in rows:
            action.can_update = permissions.can_update_action(  # type: ignore[attr-defined]
                self.actor, action, can_manage=can_manage
            )
        context = {
            "group": self.group,
            "actions": rows,
            "filter_form": filter_form,
            "form": form,
            "can_edit": any(a.can_update for a in rows),  # type: ignore[attr-defined]
            "statuses": ActionItem.Status.choices,
            "today": timezone.localdate(),
            **self._linked_note(form),
        }
        return render(request, self.template_name, context, status=status)

    def _linked_note(self, form: forms.ActionForm | None) -> dict[str, object]:
        """The note (and line) the new action will link to, shown above the form."""
        if form is None:
            return {}
        note_id = parse_int(str(form["note"].value() or ""))
        note = Note.objects.filter(group=self.group, pk=note_id).first() if note_id is not None else None
        return {"linked_note": note, "linked_line": form["note_line"].value() if note else ""}

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        self.get_group(pk)
        can_add = permissions.can_add_action(self.actor, self.group, self.rights)
        form = forms.ActionForm(group=self.group, initial=self._from_note(request)) if can_add else None
        return self._render(request, form)

    def _from_note(self, request: HttpRequest) -> dict[str, object]:
        """``?note=<id>&line=<text>`` ("Create an action from this line" on a note page): the form starts
        with the line as the title and is linked to the note. Another group's note is ignored."""
        note_id = parse_int(request.GET.get("note"))
        if note_id is None:
            return {}
        note = selectors.notes_for(self.actor).filter(group=self.group, pk=note_id).first()
        if note is None:
            return {}
        line = " ".join(request.GET.get("line", "").split())
        return {"note": note.pk, "note_line": line[:500], "title": line[:200]}

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        self.get_group(pk)
        if not permissions.can_add_action(self.actor, self.group, self.rights):
            raise PermissionDenied(_("Only the group's members add actions."))
        form = forms.ActionForm(request.POST, group=self.group)
        if form.is_valid():
            try:
                values = dict(form.cleaned_data)
                owner = values.pop("owner")
                action = actions.action_create(actor=self.actor, group=self.group, owner=owner, values=values)
            except SERVICE_ERRORS as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("The action is added."))
                if action.note is not None and action.note.meeting_id is not None:
                    # Made from a line of a meeting's minutes: back to the meeting, where it is listed.
                    url = reverse("focusgroups:meeting", kwargs={"pk": action.note.meeting_id})
                    return redirect(f"{url}#meeting-actions-h")
                if action.note_id is not None:
                    # Made from a line of a note: back to the note, where it is listed.
                    url = reverse("focusgroups:note", kwargs={"pk": action.note_id})
                    return redirect(f"{url}#note-action-{action.pk}")
                return redirect("focusgroups:actions", pk=self.group.pk)
        return self._render(request, form, status=400)


class ActionScoped(GroupScoped):
    model = ActionItem
    action: ActionItem

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("group__programme", "owner__user", "organisation")

    def get_action(self, pk: int) -> ActionItem:
        action: ActionItem = self.get_object_or_404(pk=pk)
        self.action = action
        self.group = action.group
        if not permissions.can_update_action(self.actor, action):
            raise PermissionDenied(
                _("Only the owner, the group's convener and the coordinators change an action.")
            )
        return action


class ActionEditView(ActionScoped, ServiceFormMixin, FormView):  # type: ignore[type-arg]
    template_name = FORM_TEMPLATE
    form_class = forms.ActionForm
    page_title = gettext_lazy("Edit the action")

    def load(self, **kwargs: Any) -> None:
        self.get_action(kwargs["pk"])

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "group": self.group, "action": self.action}

    def perform(self, form: forms.ActionForm) -> str:
        values = dict(form.cleaned_data)
        owner = values.pop("owner")
        actions.action_update(actor=self.actor, action=self.action, values=values, owner=owner)
        return reverse("focusgroups:actions", kwargs={"pk": self.group.pk})

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {
            **super().get_context_data(**kwargs),
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
            except SERVICE_ERRORS as error:
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
        mine = list(
            self.get_queryset()
            .select_related("group", "owner__user", "organisation", "meeting", "note")
            .order_by("due_on", "pk")
        )
        for action in mine:
            action.can_update = True  # type: ignore[attr-defined]
        context.update(
            group=None,
            actions=mine,
            can_edit=True,
            statuses=ActionItem.Status.choices,
            today=timezone.localdate(),
            form=None,
        )
        return context
