"""Pages about the programme's organisations, their units and staff, and the invitations that bring an
agency already on the platform into the programme."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView, TemplateView

from coordinator.core.validators import parse_int
from coordinator.core.views import SERVICE_ERRORS, ServiceFormMixin, error_text
from organisations import forms, selectors
from organisations.access.views import ProgrammeMixin
from organisations.models import Organisation, ParticipationInvitation, PlatformRole, Unit
from organisations.permissions import (
    can_configure_sign_in,
    can_edit_organisation,
    can_manage_people_of,
    is_agency_admin,
    sees_contacts_in,
)
from organisations.selectors import members_of
from organisations.services import agencies, invitations, people


class OrganisationListView(ProgrammeMixin, TemplateView):
    template_name = "organisations/organisation_list.html"
    model = Organisation

    def narrow_queryset(self, queryset: QuerySet[Organisation]) -> QuerySet[Organisation]:
        return (
            queryset.filter(participations__programme=self.programme)
            .prefetch_related(Prefetch("units", queryset=Unit.objects.order_by("name")))
            .order_by("name")
        )

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        context = super().get_context_data(**kwargs)
        counts = dict(
            members_of(self.programme).values_list("organisation").annotate(n=Count("pk")).order_by()
        )
        organisations = list(self.get_queryset())
        for organisation in organisations:
            organisation.member_count = counts.get(organisation.pk, 0)
        context["organisations"] = organisations
        context["is_programme_admin"] = self.actor.is_programme_admin(self.programme)
        context["is_agency_admin"] = self.actor.person is not None and is_agency_admin(
            self.actor, self.actor.person.organisation_id
        )
        return context


class OrganisationDetailView(ProgrammeMixin, TemplateView):
    template_name = "organisations/organisation_detail.html"
    model = Organisation

    def narrow_queryset(self, queryset: QuerySet[Organisation]) -> QuerySet[Organisation]:
        return queryset.filter(participations__programme=self.programme)

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        context = super().get_context_data(**kwargs)
        organisation: Organisation = self.get_object_or_404(pk=kwargs["pk"])
        people = (
            members_of(self.programme)
            .filter(organisation=organisation)
            .select_related("unit", "line_manager__user")
            .order_by("unit__name", "user__last_name", "user__first_name")
        )
        context.update(
            organisation=organisation,
            units=Unit.objects.filter(organisation=organisation).select_related("parent").order_by("name"),
            people=people,
            show_contacts=sees_contacts_in(self.actor, self.programme, organisation.pk),
            can_edit=can_edit_organisation(self.actor, organisation),
            can_configure_sign_in=can_configure_sign_in(self.actor, organisation),
            can_erase=self.actor.is_programme_admin(self.programme),
            can_add_people=can_manage_people_of(self.actor, self.programme, organisation),
        )
        return context


class OrganisationCreateView(ProgrammeMixin, ServiceFormMixin, FormView):  # type: ignore[type-arg]
    """A new agency, taking part in this programme (programme admins). An agency already on the platform
    is invited instead."""

    template_name = "organisations/form.html"
    form_class = forms.OrganisationForm
    required_roles = frozenset({PlatformRole.PROGRAMME_ADMIN})
    page_title = gettext_lazy("New organisation")

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        context = super().get_context_data(**kwargs)
        context.update(
            back_url=reverse("organisations:list"),
            help=_("Is the agency already on the platform? Invite it to take part instead."),
            help_url=reverse("organisations:invite"),
        )
        return context

    def perform(self, form: forms.OrganisationForm) -> str:
        created = agencies.organisation_create(
            actor=self.actor, programme=self.programme, **form.cleaned_data
        )
        return reverse("organisations:detail", kwargs={"pk": created.pk})


class AgencyInviteView(ProgrammeMixin, TemplateView):
    """Programme admins: find an agency on the platform by name and invite it; the programme's
    invitations and their answers. The directory shows names and kinds only."""

    template_name = "organisations/invite.html"
    required_roles = frozenset({PlatformRole.PROGRAMME_ADMIN})

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        context = super().get_context_data(**kwargs)
        form = forms.AgencySearchForm(self.request.GET or None)
        found: list[Organisation] = []
        if form.is_bound and form.is_valid() and form.cleaned_data["search"]:
            found = list(
                selectors.agency_directory(
                    search=form.cleaned_data["search"], excluding_programme=self.programme
                )[:25]
            )
        pending = set(
            selectors.invitations_of(self.programme)
            .filter(status=ParticipationInvitation.Status.PENDING)
            .values_list("organisation_id", flat=True)
        )
        context.update(
            form=form,
            found=[(agency, agency.pk in pending) for agency in found],
            invitations=list(selectors.invitations_of(self.programme)[:50]),
        )
        return context

    def post(self, request: HttpRequest) -> HttpResponse:
        try:
            if "withdraw" in request.POST:
                invitation = (
                    selectors.invitations_of(self.programme)
                    .filter(pk=parse_int(request.POST.get("withdraw")) or 0)
                    .first()
                )
                if invitation is None:
                    raise Http404
                agencies.invitation_withdraw(actor=self.actor, invitation=invitation)
                messages.success(request, _("The invitation is withdrawn."))
            else:
                agency = (
                    selectors.agency_directory()
                    .filter(pk=parse_int(request.POST.get("organisation")) or 0)
                    .first()
                )
                if agency is None:
                    raise Http404
                agencies.participation_invite(
                    actor=self.actor,
                    programme=self.programme,
                    organisation=agency,
                    message=request.POST.get("message", "")[:2000],
                )
                messages.success(
                    request,
                    _("%(agency)s is invited; its admins accept or decline.") % {"agency": agency.name},
                )
        except SERVICE_ERRORS as exc:
            messages.error(request, error_text(exc))
        return HttpResponseRedirect(reverse("organisations:invite"))


class AgencyInvitationsView(ProgrammeMixin, TemplateView):
    """The agency's own admins: invitations from other programmes for their agency, to accept or decline."""

    template_name = "organisations/invitations.html"

    def _organisation(self) -> Organisation:
        person = self.actor.person
        if person is None or not is_agency_admin(self.actor, person.organisation_id):
            raise PermissionDenied(_("Only the agency's own admins see its invitations."))
        return person.organisation

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        context = super().get_context_data(**kwargs)
        organisation = self._organisation()
        context.update(
            organisation=organisation, invitations=list(selectors.invitations_to(organisation)[:50])
        )
        return context

    def post(self, request: HttpRequest) -> HttpResponse:
        organisation = self._organisation()
        answer = request.POST.get("answer")
        invitation = (
            selectors.invitations_to(organisation)
            .filter(pk=parse_int(request.POST.get("invitation")) or 0)
            .first()
        )
        if invitation is None or answer not in ("accept", "decline"):
            raise Http404
        try:
            if answer == "accept":
                agencies.invitation_accept(actor=self.actor, invitation=invitation)
                messages.success(
                    request,
                    _("%(organisation)s takes part in %(programme)s from now on.")
                    % {"organisation": organisation.name, "programme": invitation.programme.name},
                )
            else:
                agencies.invitation_decline(actor=self.actor, invitation=invitation)
                messages.success(request, _("The invitation is declined."))
        except SERVICE_ERRORS as exc:
            messages.error(request, error_text(exc))
        return HttpResponseRedirect(reverse("organisations:invitations"))


class PersonCreateView(ProgrammeMixin, ServiceFormMixin, FormView):  # type: ignore[type-arg]
    """Register one member of staff of an organisation in the programme, and invite them (the programme's
    admins, and the organisation's own admins). Many people at once: the spreadsheet import."""

    template_name = "organisations/form.html"
    form_class = forms.PersonCreateForm
    model = Organisation
    page_title = gettext_lazy("Add a person")
    submit_label = gettext_lazy("Add the person")
    organisation: Organisation

    def narrow_queryset(self, queryset: QuerySet[Organisation]) -> QuerySet[Organisation]:
        return queryset.filter(participations__programme=self.programme)

    def load(self, **kwargs: object) -> None:
        self.organisation = self.get_object_or_404(pk=kwargs["pk"])
        if not can_manage_people_of(self.actor, self.programme, self.organisation):
            raise PermissionDenied(_("You may not add people to this organisation."))

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "programme": self.programme, "organisation": self.organisation}

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        context = super().get_context_data(**kwargs)
        context.update(
            back_url=reverse("organisations:detail", kwargs={"pk": self.organisation.pk}),
            help=_("Adding many people? Import them from a spreadsheet instead."),
        )
        return context

    def perform(self, form: forms.PersonCreateForm) -> str:
        data = dict(form.cleaned_data)
        send_invitation = data.pop("invite")
        with transaction.atomic():
            person = people.person_create(
                actor=self.actor,
                programme=self.programme,
                organisation=self.organisation,
                username=data.pop("username"),
                email=data.pop("email"),
                first_name=data.pop("first_name"),
                last_name=data.pop("last_name"),
                work_role=data.pop("work_role"),
                roles=data.pop("roles"),
                values={name: value for name, value in data.items() if value not in (None, "")},
            )
            if send_invitation:
                invitations.invite(actor=self.actor, programme=self.programme, person=person)
        self.created = person
        return reverse("organisations:detail", kwargs={"pk": self.organisation.pk})

    def get_success_message(self) -> str:
        name = self.created.full_name
        if self.created.invitations.exists():
            return _("%(name)s was added and invited to sign in.") % {"name": name}
        return _("%(name)s was added.") % {"name": name}
