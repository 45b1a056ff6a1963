"""Pages of a group's meetings: the meeting with its agenda, decisions and actions; planning, editing and
cancelling it; recording the minutes."""

from __future__ import annotations

from typing import Any

from django import forms as django_forms
from django.db.models import QuerySet
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView, TemplateView

from coordinator.core import formatting
from coordinator.core.exceptions import Conflict
from coordinator.core.views import ServiceFormMixin
from focusgroups import forms, permissions
from focusgroups.models import ActionItem, Meeting, Note
from focusgroups.services import meetings
from focusgroups.views._shared import FORM_TEMPLATE, GroupScoped
from focusgroups.views.notes import note_js_strings


class MeetingScoped(GroupScoped):
    model = Meeting
    meeting: Meeting

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("group__programme", "group__convener__user")

    def get_meeting(self, pk: int) -> Meeting:
        meeting: Meeting = self.get_object_or_404(pk=pk)
        self.meeting = meeting
        self.set_group(meeting.group)
        return meeting

    def meeting_context(self) -> dict[str, Any]:
        return {
            "subject": self.meeting.title,
            "back_url": reverse("focusgroups:meeting", kwargs={"pk": self.meeting.pk}),
        }


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
            # Minutes are recorded once the meeting has begun (the service refuses them before).
            minutes_open=meeting.starts_at <= timezone.now(),
        )
        if meeting.status != Meeting.Status.CANCELLED or meeting.minutes:
            context.update(self.live_minutes(meetings.minutes_note(meeting)))
        return context

    def live_minutes(self, note: Note) -> dict[str, Any]:
        """The live minutes editor (the notes' editor on the meeting's minutes note): members write, the
        rest of the programme reads; without JavaScript a plain form saves to the note with its version."""
        can_edit = permissions.can_edit_note(self.actor, note, self.rights)
        return {
            "note": note,
            "can_edit": can_edit,
            "in_room": permissions.can_view_group_room(self.actor, self.group, self.rights),
            "form": forms.LiveMinutesForm(
                initial={"title": note.title, "body": note.body, "base_version": note.version}
            ),
            "js_strings": note_js_strings(),
            "can_add_action": permissions.can_add_action(self.actor, self.group, self.rights),
            "my_name": self.actor.person.full_name if self.actor.person else "",
        }


class MeetingCreateView(GroupScoped, ServiceFormMixin, FormView):  # type: ignore[type-arg]
    template_name = FORM_TEMPLATE
    form_class = forms.MeetingForm
    page_title = gettext_lazy("Plan a meeting")
    submit_label = gettext_lazy("Plan the meeting")
    success_message = gettext_lazy("The meeting is planned and the members get a calendar invite.")

    def load(self, **kwargs: Any) -> None:
        self.get_group(kwargs["pk"])
        self.check_manage()

    def perform(self, form: forms.MeetingForm) -> str:
        meeting = meetings.meeting_create(
            actor=self.actor, group=self.group, values=form.values(), agenda=form.agenda_items()
        )
        return reverse("focusgroups:meeting", kwargs={"pk": meeting.pk})

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {
            **super().get_context_data(**kwargs),
            "subject": self.group,
            "back_url": reverse("focusgroups:group", kwargs={"pk": self.group.pk}),
        }


class MeetingEditView(MeetingScoped, ServiceFormMixin, FormView):  # type: ignore[type-arg]
    template_name = FORM_TEMPLATE
    form_class = forms.MeetingForm
    page_title = gettext_lazy("Edit the meeting")
    success_message = gettext_lazy("The meeting is saved; the members get an updated invite.")

    def load(self, **kwargs: Any) -> None:
        self.get_meeting(kwargs["pk"])
        self.check_manage()

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "meeting": self.meeting}

    def perform(self, form: forms.MeetingForm) -> str:
        meetings.meeting_update(
            actor=self.actor, meeting=self.meeting, values=form.values(), agenda=form.agenda_items()
        )
        return reverse("focusgroups:meeting", kwargs={"pk": self.meeting.pk})

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), **self.meeting_context()}


class MeetingCancelView(MeetingScoped, ServiceFormMixin, FormView):  # type: ignore[type-arg]
    """Cancelling asks first: the page is the confirmation, the POST cancels and mails a CANCEL."""

    template_name = FORM_TEMPLATE
    form_class = forms.CancelForm
    page_title = gettext_lazy("Cancel the meeting")
    submit_label = gettext_lazy("Yes, cancel the meeting")
    success_message = gettext_lazy("The meeting is cancelled and the members' calendars are updated.")

    def load(self, **kwargs: Any) -> None:
        self.get_meeting(kwargs["pk"])
        self.check_manage()

    def perform(self, form: forms.CancelForm) -> str:
        meetings.meeting_cancel(actor=self.actor, meeting=self.meeting)
        return reverse("focusgroups:meeting", kwargs={"pk": self.meeting.pk})

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        when = formatting.day_and_time(self.meeting.starts_at)
        return {
            **super().get_context_data(**kwargs),
            **self.meeting_context(),
            "subject": f"{self.meeting.title} ({when})",
            "help": _("Every member gets a calendar cancellation. This cannot be undone."),
            "danger": True,
        }


class MeetingMinutesView(MeetingScoped, ServiceFormMixin, FormView):  # type: ignore[type-arg]
    """Recording the minutes (convener, coordinators): the live minutes' text as it stands, the decisions,
    and the version the text is based on; a text changed by others meanwhile is shown beside the one typed
    (status 409) and saving again merges it."""

    template_name = FORM_TEMPLATE
    form_class = forms.MinutesForm
    page_title = gettext_lazy("Minutes")
    success_message = gettext_lazy("The minutes are saved.")
    stale: Note | None = None

    def load(self, **kwargs: Any) -> None:
        self.get_meeting(kwargs["pk"])
        self.check_manage()

    def get_initial(self) -> dict[str, Any]:
        note = meetings.minutes_note(self.meeting)
        return {
            "minutes": note.body,
            "decisions": "\n".join(d.text for d in self.meeting.decisions.all()),
            "base_version": note.version,
        }

    def perform(self, form: forms.MinutesForm) -> str:
        try:
            meetings.meeting_record_minutes(
                actor=self.actor,
                meeting=self.meeting,
                minutes=form.cleaned_data["minutes"],
                decisions=form.decision_list(),
                base_version=form.cleaned_data["base_version"],
            )
        except Conflict as conflict:
            self.stale = conflict.current
            raise
        return reverse("focusgroups:meeting", kwargs={"pk": self.meeting.pk})

    def form_invalid(self, form: django_forms.Form) -> HttpResponse:
        current = self.stale
        if current is None:
            return super().form_invalid(form)
        # What was typed stays; the current text is shown beside it, and the form is now based on it.
        data = self.request.POST.copy()
        data["base_version"] = str(current.version)
        retry = forms.MinutesForm(data)
        retry.is_valid()
        retry.add_error(
            None,
            _(
                "The minutes were changed by others meanwhile. Your text is not saved yet: the current "
                "text is shown below; merge the two and save again."
            ),
        )
        context = self.get_context_data(form=retry, current_text=current.body, show_current=True)
        return self.render_to_response(context, status=409)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), **self.meeting_context()}
