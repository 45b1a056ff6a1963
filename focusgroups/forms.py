"""Forms of the focus-group pages. They parse input only; the services decide and write.

Querysets of choice fields are set in ``__init__`` (inside the request's tenant scope), never at import time.
Date and time fields read the programme's time zone, which the middleware has activated.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coordinator.core.forms import DateField, DateTimeLocalField, ModelChoiceField
from focusgroups.models import NOTE_BODY_MAX_LENGTH, ActionItem, FocusGroup, GroupMembership, Meeting, Note
from organisations.models import Person, Programme


def _person_label(person: Person) -> str:
    return f"{person.full_name} ({person.organisation.short_name})"


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class GroupForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    purpose = forms.CharField(
        label=_("Purpose"),
        max_length=5000,
        required=False,
        widget=forms.Textarea,
        help_text=_("What the group works on and what it should deliver."),
    )


class MembershipForm(forms.Form):
    """Adding a member (with ``person``) or editing one (without)."""

    person = ModelChoiceField(label=_("Person"), queryset=Person.objects.none())
    role = forms.ChoiceField(label=_("Role in the group"), choices=GroupMembership.Role.choices)
    mandate = forms.CharField(
        label=_("Mandate"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Who sent them and what they may decide on behalf of their organisation."),
    )
    sent_by = forms.CharField(
        label=_("Sent by"),
        max_length=200,
        help_text=_("For example: the head of the unit, by name and title."),
    )

    def __init__(
        self, *args: Any, programme: Programme, membership: GroupMembership | None = None, **kwargs: Any
    ) -> None:
        if membership is not None and kwargs.get("data") is None:
            kwargs["initial"] = {
                "role": membership.role,
                "mandate": membership.mandate,
                "sent_by": membership.sent_by,
            }
        super().__init__(*args, **kwargs)
        if membership is not None:
            del self.fields["person"]
        else:
            field = self.fields["person"]
            field.queryset = (  # type: ignore[attr-defined]
                Person.objects.filter(memberships__programme=programme, memberships__is_active=True)
                .select_related("user", "organisation")
                .order_by("user__last_name", "user__first_name")
            )
            field.label_from_instance = _person_label  # type: ignore[attr-defined]


class MeetingForm(forms.Form):
    """A meeting's time, place and agenda; whether they fit together (it ends after it starts, it has a place
    or a link) is the service's rule, shown next to the fields."""

    title = forms.CharField(label=_("Title"), max_length=200)
    starts_at = DateTimeLocalField(label=_("Starts"))
    ends_at = DateTimeLocalField(label=_("Ends"))
    place = forms.CharField(
        label=_("Place"), max_length=300, required=False, help_text=_("Room and street address.")
    )
    online_link = forms.URLField(
        label=_("Online link"), max_length=500, required=False, assume_scheme="https"
    )
    agenda = forms.CharField(
        label=_("Agenda"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "One item per line. Add a note after a colon, for example: Study visits: who goes where."
        ),
    )

    def __init__(self, *args: Any, meeting: Meeting | None = None, **kwargs: Any) -> None:
        if meeting is not None and kwargs.get("data") is None:
            items = meeting.agenda_items.all()
            kwargs["initial"] = {
                "title": meeting.title,
                "starts_at": meeting.starts_at,
                "ends_at": meeting.ends_at,
                "place": meeting.place,
                "online_link": meeting.online_link,
                "agenda": "\n".join(f"{i.title}: {i.note}" if i.note else i.title for i in items),
            }
        super().__init__(*args, **kwargs)

    def agenda_items(self) -> list[dict[str, str]]:
        """{title, note} per agenda line (the note is what follows the first colon)."""
        items = []
        for line in _lines(self.cleaned_data.get("agenda", "")):
            title, _sep, note = line.partition(":")
            items.append({"title": title.strip(), "note": note.strip()})
        return items

    def values(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k != "agenda"}


class CancelForm(forms.Form):
    """Nothing to fill in: the page is the confirmation."""


class MinutesForm(forms.Form):
    """Recording the minutes: the live minutes' text (merged into them), the decisions, and the minutes'
    version the text was based on, so that others' changes meanwhile are not overwritten unseen."""

    minutes = forms.CharField(
        label=_("Minutes"),
        max_length=NOTE_BODY_MAX_LENGTH,
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 14}),
    )
    decisions = forms.CharField(
        label=_("Decisions"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One decision per line."),
    )

    # Without it (an old form), the text is merged into the minutes as they stand.
    base_version = forms.IntegerField(min_value=1, max_value=10**9, required=False, widget=forms.HiddenInput)

    def decision_list(self) -> list[str]:
        return _lines(self.cleaned_data.get("decisions", ""))


class NoteCreateForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    visibility = forms.ChoiceField(
        label=_("Who may read it"),
        choices=Note.Visibility.choices,
        initial=Note.Visibility.GROUP,
        help_text=_("Only the group's members may edit a note, whoever may read it."),
    )
    body = forms.CharField(
        label=_("Text"), max_length=100000, required=False, strip=False, widget=forms.Textarea
    )


class NoteForm(forms.Form):
    """Saving a note: the version the text was based on comes back, so a stale save is refused."""

    title = forms.CharField(label=_("Title"), max_length=200)
    # Not stripped: the text is saved exactly as typed, so the editor and the saved version stay equal.
    body = forms.CharField(
        label=_("Text"),
        max_length=100000,
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 18}),
    )
    base_version = forms.IntegerField(min_value=0, max_value=10**9, widget=forms.HiddenInput)


class LiveMinutesForm(NoteForm):
    """A meeting's minutes on the meeting page: the note form, titled by the meeting."""

    title = forms.CharField(max_length=200, widget=forms.HiddenInput)
    body = forms.CharField(
        label=_("Minutes"),
        max_length=NOTE_BODY_MAX_LENGTH,
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 14}),
    )


class RestoreForm(forms.Form):
    version = forms.IntegerField(min_value=1, max_value=10**9, widget=forms.HiddenInput)
    base_version = forms.IntegerField(min_value=0, max_value=10**9, widget=forms.HiddenInput)


class CompareForm(forms.Form):
    a = forms.IntegerField(label=_("Older version"), min_value=1, max_value=10**9)
    b = forms.IntegerField(label=_("Newer version"), min_value=1, max_value=10**9)


class ActionForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("Description"), max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    owner = ModelChoiceField(label=_("Owner"), queryset=Person.objects.none())
    due_on = DateField(label=_("Due"), required=False)
    status = forms.ChoiceField(label=_("Status"), choices=ActionItem.Status.choices, initial="open")
    meeting = ModelChoiceField(label=_("Agreed at meeting"), queryset=Meeting.objects.none(), required=False)
    # Set by "Create an action from this line" on a note page; shown above the form, not edited.
    note = ModelChoiceField(queryset=Note.objects.none(), required=False, widget=forms.HiddenInput)
    note_line = forms.CharField(max_length=500, required=False, widget=forms.HiddenInput)

    def __init__(
        self, *args: Any, group: FocusGroup, action: ActionItem | None = None, **kwargs: Any
    ) -> None:
        if action is not None and kwargs.get("data") is None:
            kwargs["initial"] = {
                "title": action.title,
                "description": action.description,
                "owner": action.owner_id,
                "due_on": action.due_on,
                "status": action.status,
                "meeting": action.meeting_id,
                "note": action.note_id,
                "note_line": action.note_line,
            }
        super().__init__(*args, **kwargs)
        field = self.fields["owner"]
        field.queryset = (  # type: ignore[attr-defined]
            Person.objects.filter(
                focus_group_memberships__group=group, focus_group_memberships__is_active=True
            )
            .select_related("user", "organisation")
            .distinct()
            .order_by("user__last_name", "user__first_name")
        )
        field.label_from_instance = _person_label  # type: ignore[attr-defined]
        self.fields["note"].queryset = Note.objects.filter(group=group)  # type: ignore[attr-defined]
        self.fields["meeting"].queryset = Meeting.objects.filter(group=group).order_by(  # type: ignore[attr-defined]
            "-starts_at", "pk"
        )
        self.fields["meeting"].label_from_instance = (  # type: ignore[attr-defined]
            lambda m: f"{m.title} ({timezone.localtime(m.starts_at):%Y-%m-%d})"
        )


class ActionStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=ActionItem.Status.choices)


class ActionFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Open and in progress")), ("all", _("All")), *ActionItem.Status.choices],
    )
    mine = forms.BooleanField(label=_("Only mine"), required=False)


class ConceptForm(forms.Form):
    name = forms.CharField(label=_("Concept"), max_length=120, help_text=_("For example: customer"))
    description = forms.CharField(
        label=_("What the concept is about"),
        max_length=3000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class TermForm(forms.Form):
    term = forms.CharField(label=_("Our term"), max_length=120)
    definition = forms.CharField(
        label=_("Our definition"), max_length=3000, widget=forms.Textarea(attrs={"rows": 4})
    )


class CommentForm(forms.Form):
    body = forms.CharField(label=_("Comment"), max_length=3000, widget=forms.Textarea(attrs={"rows": 3}))
