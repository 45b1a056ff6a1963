"""Pages of groups and their members: the programme's areas and who represents which organisation, one
group's page, creating and editing a group, adding, editing and removing members."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import FormView, TemplateView

from coordinator.core.views import SERVICE_ERRORS, ServiceFormMixin, error_text
from focusgroups import forms, permissions, selectors
from focusgroups.models import ActionItem, FocusGroup, GroupMembership, Meeting
from focusgroups.services import groups
from focusgroups.views._shared import FORM_TEMPLATE, GroupScoped, programme_organisations
from organisations.access.views import ProgrammeMixin
from organisations.models import Organisation


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
        focus_groups = list(self.get_queryset().order_by("-is_default", "name", "pk"))
        by_group: dict[int, list[GroupMembership]] = {g.pk: [] for g in focus_groups}
        for membership in GroupMembership.objects.filter(
            group__programme=self.programme, is_active=True
        ).only("group", "organisation", "role", "person", "is_active"):
            by_group.setdefault(membership.group_id, []).append(membership)
        organisations = programme_organisations(self.programme)
        roles = dict(GroupMembership.Role.choices)
        rows = []
        for group in focus_groups:
            memberships = by_group[group.pk]
            shown = selectors.split_by_representation(
                organisations, selectors.representative_ids(memberships)
            )
            mine = next((m.role for m in memberships if m.person_id == self.person.pk), "")
            rows.append(
                GroupRow(
                    group,
                    shown.represented,
                    shown.missing,
                    len(memberships),
                    str(roles[mine]) if mine else "",
                )
            )
        context.update(rows=rows, can_create=permissions.can_manage_groups(self.actor, self.programme))
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
        shown = selectors.split_by_representation(
            programme_organisations(self.programme), selectors.representative_ids(memberships)
        )
        group_meetings = list(Meeting.objects.filter(group=group).order_by("starts_at", "pk"))
        now = timezone.now()
        # A meeting's minutes are found at their meeting (listed here), not among the notes.
        readable = (
            selectors.notes_for(self.actor)
            .filter(group=group, meeting__isnull=True)
            .order_by("-updated_at", "pk")
        )
        can_manage = self.can_manage
        context.update(
            group=group,
            memberships=memberships,
            represented=shown.represented,
            missing=shown.missing,
            upcoming=[m for m in group_meetings if m.ends_at >= now],
            past=[m for m in group_meetings if m.ends_at < now][::-1][:10],
            notes=list(readable[:10]),
            open_actions=list(
                ActionItem.objects.filter(group=group, status__in=ActionItem.OPEN_STATUSES)
                .select_related("owner__user", "organisation")
                .order_by("due_on", "pk")
            ),
            can_manage=can_manage,
            member_form=forms.MembershipForm(programme=self.programme) if can_manage else None,
        )
        return context


class GroupCreateView(ProgrammeMixin, ServiceFormMixin, FormView):  # type: ignore[type-arg]
    template_name = FORM_TEMPLATE
    form_class = forms.GroupForm
    page_title = gettext_lazy("New focus group")
    model = FocusGroup

    def load(self, **kwargs: Any) -> None:
        if not permissions.can_manage_groups(self.actor, self.programme):
            raise PermissionDenied(_("Only the programme's coordinators create focus groups."))

    def perform(self, form: forms.GroupForm) -> str:
        values = {**form.cleaned_data, "code": slugify(form.cleaned_data["name"])[:60] or "group"}
        group = groups.group_create(actor=self.actor, programme=self.programme, values=values)
        return reverse("focusgroups:group", kwargs={"pk": group.pk})

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "back_url": reverse("focusgroups:list")}


class GroupEditView(GroupScoped, ServiceFormMixin, FormView):  # type: ignore[type-arg]
    template_name = FORM_TEMPLATE
    form_class = forms.GroupForm
    page_title = gettext_lazy("Edit the focus group")

    def load(self, **kwargs: Any) -> None:
        self.get_group(kwargs["pk"])
        self.check_manage()

    def get_initial(self) -> dict[str, Any]:
        return {"name": self.group.name, "purpose": self.group.purpose}

    def perform(self, form: forms.GroupForm) -> str:
        groups.group_update(actor=self.actor, group=self.group, values=form.cleaned_data)
        return reverse("focusgroups:group", kwargs={"pk": self.group.pk})

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {
            **super().get_context_data(**kwargs),
            "subject": self.group,
            "back_url": reverse("focusgroups:group", kwargs={"pk": self.group.pk}),
        }


# --- Members --------------------------------------------------------------------------------------------


class MembershipAddView(GroupScoped, ServiceFormMixin, FormView):  # type: ignore[type-arg]
    template_name = FORM_TEMPLATE
    form_class = forms.MembershipForm
    page_title = gettext_lazy("Add a member")
    submit_label = gettext_lazy("Add member")
    success_message = gettext_lazy("The member is added.")

    def load(self, **kwargs: Any) -> None:
        self.get_group(kwargs["pk"])
        self.check_manage()

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "programme": self.programme}

    def perform(self, form: forms.MembershipForm) -> str:
        groups.membership_add(actor=self.actor, group=self.group, **form.cleaned_data)
        return reverse("focusgroups:group", kwargs={"pk": self.group.pk})

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {
            **super().get_context_data(**kwargs),
            "subject": self.group,
            "back_url": reverse("focusgroups:group", kwargs={"pk": self.group.pk}),
            "help": _(
                "Representatives need a mandate from their organisation: who sent them and what they may "
                "decide."
            ),
        }


class MembershipScoped(GroupScoped):
    model = GroupMembership
    membership: GroupMembership

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(is_active=True).select_related(
            "group__programme", "person__user", "organisation"
        )

    def get_membership(self, pk: int) -> GroupMembership:
        membership: GroupMembership = self.get_object_or_404(pk=pk)
        self.membership = membership
        self.set_group(membership.group)
        self.check_manage()
        return membership


class MembershipEditView(MembershipScoped, ServiceFormMixin, FormView):  # type: ignore[type-arg]
    template_name = FORM_TEMPLATE
    form_class = forms.MembershipForm
    page_title = gettext_lazy("Edit the membership")

    def load(self, **kwargs: Any) -> None:
        self.get_membership(kwargs["pk"])

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "programme": self.programme, "membership": self.membership}

    def perform(self, form: forms.MembershipForm) -> str:
        groups.membership_update(actor=self.actor, membership=self.membership, values=form.cleaned_data)
        return reverse("focusgroups:group", kwargs={"pk": self.group.pk})

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {
            **super().get_context_data(**kwargs),
            "subject": f"{self.membership.person.full_name} – {self.group.name}",
            "back_url": reverse("focusgroups:group", kwargs={"pk": self.group.pk}),
        }


class MembershipRemoveView(MembershipScoped, View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        membership = self.get_membership(pk)
        try:
            groups.membership_remove(actor=self.actor, membership=membership)
        except SERVICE_ERRORS as error:
            messages.error(request, error_text(error))
        else:
            messages.success(
                request, _("%(person)s has left the group.") % {"person": membership.person.full_name}
            )
        return redirect("focusgroups:group", pk=membership.group_id)
