"""Pages about the programme's organisations and their units and staff."""

from __future__ import annotations

from typing import Any

from auditlog.models import LogEntry
from django.contrib import messages
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import FormView, TemplateView

from coordinator.core.validators import parse_int
from coordinator.core.views import ServiceFormMixin
from organisations.access.views import ProgrammeMixin
from organisations.forms import AuditTrailFilterForm, IdentityProviderForm
from organisations.models import IdentityProvider, Invitation, Organisation, PlatformRole, Unit
from organisations.permissions import can_configure_sign_in, can_edit_organisation, sees_contacts_in
from organisations.selectors import audit_trail, members_of
from organisations.services import invitations, sso


class OrganisationListView(ProgrammeMixin, TemplateView):
    template_name = "organisations/organisation_list.html"
    model = Organisation

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return (
            queryset.filter(participations__programme=self.programme)
            .prefetch_related(Prefetch("units", queryset=Unit.objects.order_by("name")))
            .order_by("name")
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        counts = dict(
            members_of(self.programme).values_list("organisation").annotate(n=Count("pk")).order_by()
        )
        organisations = list(self.get_queryset())
        for organisation in organisations:
            organisation.member_count = counts.get(organisation.pk, 0)
        context["organisations"] = organisations
        return context


class OrganisationDetailView(ProgrammeMixin, TemplateView):
    template_name = "organisations/organisation_detail.html"
    model = Organisation

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(participations__programme=self.programme)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
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
        )
        return context


def _changed_fields(entry: LogEntry) -> list[tuple[str, str, str]]:
    """An entry's changes as (field, old, new), with the field's name and choices in the reader's language;
    other values as they were recorded (no query per entry)."""
    model = entry.content_type.model_class()
    rows = []
    for name, values in (entry.changes_dict or {}).items():
        old, new = (str(value) for value in values[:2]) if len(values) >= 2 else ("", str(values))
        try:
            field = model._meta.get_field(name) if model is not None else None
        except FieldDoesNotExist:
            field = None
        label = str(getattr(field, "verbose_name", name))
        choices = dict(getattr(field, "choices", None) or [])
        rows.append((label, str(choices.get(old, old)), str(choices.get(new, new))))
    return rows


def _kind(entry: LogEntry) -> str:
    model = entry.content_type.model_class()
    return str(model._meta.verbose_name).capitalize() if model is not None else entry.content_type.model


class AuditTrailView(ProgrammeMixin, TemplateView):
    """The programme's audit trail for its admins: who changed what and when, newest first."""

    template_name = "organisations/audit_trail.html"
    required_roles = frozenset({PlatformRole.PROGRAMME_ADMIN})
    paginate_by = 50

    def get(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        form = AuditTrailFilterForm(request.GET or None, programme=self.programme)
        if form.is_bound and not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form, page=None), status=400)
        filters = form.cleaned_data if form.is_bound else {}
        entries = audit_trail(
            self.programme, model_label=filters.get("object_type") or None, person=filters.get("person")
        )
        page = Paginator(entries, self.paginate_by).get_page(request.GET.get("page"))
        rows = [{"entry": entry, "kind": _kind(entry), "changes": _changed_fields(entry)} for entry in page]
        query = request.GET.copy()
        query.pop("page", None)
        return self.render_to_response(
            self.get_context_data(form=form, page=page, rows=rows, query=query.urlencode())
        )


class InvitationsView(ProgrammeMixin, TemplateView):
    """Who has not started using their account yet, with their invitation's state: send, send again or
    withdraw (programme admins: everyone; organisation admins: their own organisation's people)."""

    template_name = "organisations/invitations.html"
    required_roles = frozenset({PlatformRole.PROGRAMME_ADMIN, PlatformRole.ORGANISATION_ADMIN})

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        context = super().get_context_data(**kwargs)
        people = members_of(self.programme).filter(
            Q(user__is_active=False)
            | Q(user__password__startswith=UNUSABLE_PASSWORD_PREFIX, user__last_login=None)
        )
        if not self.actor.is_programme_admin(self.programme):
            own = self.actor.organisation_id
            people = people.filter(organisation_id=own) if own is not None else people.none()
        latest = Invitation.objects.filter(programme=self.programme).order_by("-created_at", "-pk")
        rows = []
        for person in people.prefetch_related(Prefetch("invitations", queryset=latest)).order_by(
            "organisation__name", "user__last_name", "user__first_name"
        ):
            invitation = next(iter(person.invitations.all()), None)
            state = ""
            if invitation is not None:
                expired = (
                    invitation.status == Invitation.Status.PENDING and invitation.expires_at <= timezone.now()
                )
                state = _("Expired") if expired else invitation.get_status_display()
            rows.append({"person": person, "invitation": invitation, "state": state})
        context["rows"] = rows
        return context


class InvitationActionView(ProgrammeMixin, View):
    """Send, send again or withdraw one person's invitation, then back to the list."""

    required_roles = InvitationsView.required_roles

    def post(self, request: HttpRequest) -> HttpResponse:
        person_id = parse_int(request.POST.get("person"))
        person = members_of(self.programme).filter(pk=person_id).first() if person_id else None
        if person is None:
            raise Http404
        action = request.POST.get("action")
        pending = Invitation.objects.filter(
            programme=self.programme, person=person, status=Invitation.Status.PENDING
        ).first()
        try:
            if action == "invite":
                invitations.invite(actor=self.actor, programme=self.programme, person=person)
                messages.success(
                    request, _("An invitation was sent to %(name)s.") % {"name": person.full_name}
                )
            elif action == "revoke" and pending is not None:
                invitations.revoke(actor=self.actor, invitation=pending)
                messages.success(
                    request, _("The invitation to %(name)s was withdrawn.") % {"name": person.full_name}
                )
            else:
                return HttpResponse(status=400)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect("organisations:invitations")


class IdentityProviderView(ProgrammeMixin, ServiceFormMixin, FormView):  # type: ignore[type-arg]
    """An organisation's own sign-in provider, set by its own organisation admins."""

    template_name = "organisations/identity_provider.html"
    form_class = IdentityProviderForm
    model = Organisation
    page_title = gettext_lazy("Sign-in with the organisation's own account")
    success_message = gettext_lazy("The sign-in settings were saved.")
    organisation: Organisation

    def narrow_queryset(self, queryset: QuerySet[Organisation]) -> QuerySet[Organisation]:
        return queryset.filter(participations__programme=self.programme)

    def load(self, **kwargs: object) -> None:
        self.organisation = self.get_object_or_404(pk=kwargs["pk"])
        if not can_configure_sign_in(self.actor, self.organisation):
            raise PermissionDenied(_("Only the organisation's own admins may set its sign-in."))
        self.provider = IdentityProvider.objects.filter(organisation=self.organisation).first()

    def get_initial(self) -> dict[str, object]:
        if self.provider is None:
            return {"is_enabled": True}
        return {
            "issuer": self.provider.issuer,
            "client_id": self.provider.client_id,
            "email_domains": ", ".join(self.provider.email_domains),
            "is_enabled": self.provider.is_enabled,
        }

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        context = super().get_context_data(**kwargs)
        context.update(
            organisation=self.organisation,
            provider=self.provider,
            redirect_uri=self.request.build_absolute_uri(reverse("sso-callback")),
        )
        return context

    def perform(self, form: IdentityProviderForm) -> str:
        data = form.cleaned_data
        sso.identity_provider_save(
            actor=self.actor,
            organisation=self.organisation,
            issuer=data["issuer"],
            client_id=data["client_id"],
            client_secret=data["client_secret"] or None,
            email_domains=data["email_domains"],
            is_enabled=data["is_enabled"],
        )
        return reverse("organisations:sign-in", kwargs={"pk": self.organisation.pk})
