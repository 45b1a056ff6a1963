"""People's accounts: invitations to start using the platform, and an organisation's own sign-in provider."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, Q, QuerySet
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
from organisations.forms import IdentityProviderForm
from organisations.models import IdentityProvider, Invitation, Organisation, PlatformRole
from organisations.permissions import can_configure_sign_in
from organisations.selectors import members_of
from organisations.services import invitations, sso


class InvitationsView(ProgrammeMixin, TemplateView):
    """Who has not started using their account yet, with their invitation's state: send, send again or
    withdraw (programme admins: everyone; organisation admins: their own organisation's people)."""

    template_name = "organisations/person_invitations.html"
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
        return redirect("organisations:person-invitations")


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
