"""Signing in: the sign-in page with each organisation's own provider, accepting an invitation, resetting a
forgotten password, and the single sign-on round trip (OpenID Connect)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm, SetPasswordForm
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _
from django.views import View

from organisations.forms import PasswordResetRequestForm, SignInEmailForm
from organisations.models import Invitation
from organisations.services import invitations, sso

# The backend a session remembers: it reads the session's user with the person's identity in one query
# (passwords are checked by ModelBackend all the same).
BACKEND = "organisations.access.backends.SessionIdentityBackend"
SSO_PROVIDER_KEY = "sso_provider"


class SignInView(auth_views.LoginView):
    """Django's sign-in page, offering each organisation's own provider beside the password."""

    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        context = super().get_context_data(**kwargs)
        context["providers"] = sso.providers_for_sign_in()
        context["sso_form"] = SignInEmailForm()
        return context

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        # LoginView's, signed in with the session backend instead of the one that checked the password.
        login(self.request, form.get_user(), backend=BACKEND)
        return HttpResponseRedirect(self.get_success_url())

    def render_to_response(self, context: dict[str, object], **kwargs: object) -> HttpResponse:
        response = super().render_to_response(context, **kwargs)
        # The work-email form leads on to the agency's provider: the policy's form-action lets the page's
        # forms reach the enabled providers' origins, and nothing else beyond the site.
        origins = sorted(
            {
                f"{parts.scheme}://{parts.netloc}"
                for parts in (urlsplit(p.issuer) for p in context["providers"])  # type: ignore[attr-defined]
                if parts.scheme in {"http", "https"} and parts.netloc
            }
        )
        if origins:
            response._csp_update = {"form-action": origins}  # type: ignore[attr-defined]
        return response  # type: ignore[no-any-return]


def _refused(request: HttpRequest, message: str, *, status: int) -> HttpResponse:
    return render(request, "registration/sign_in_refused.html", {"message": message}, status=status)


class SingleSignOnByEmailView(View):
    """The address's domain chooses the organisation's provider; an address with none signs in by password."""

    def post(self, request: HttpRequest) -> HttpResponse:
        form = SignInEmailForm(request.POST)
        if not form.is_valid():
            return _refused(request, _("Enter a valid email address."), status=400)
        provider = sso.provider_for_email(form.cleaned_data["email"])
        if provider is None:
            messages.info(
                request, _("Your organisation does not sign in with its own account here; use your password.")
            )
            return redirect("login")
        return redirect("sso-start", pk=provider.pk)


class SingleSignOnStartView(View):
    """Off to the organisation's provider (state, nonce and PKCE kept in this session)."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        provider = sso.enabled_provider(pk)
        if provider is None:
            return _refused(request, _("This sign-in is not available."), status=404)
        # One callback address for every organisation (the one each registers at its provider); the
        # session remembers which provider this sign-in went to.
        callback = request.build_absolute_uri(reverse("sso-callback"))
        request.session[SSO_PROVIDER_KEY] = provider.pk
        try:
            return sso.sign_in_start(request, provider, callback_url=callback)
        except sso.SignInRefused as refusal:
            return _refused(request, refusal.message, status=502)


class SingleSignOnCallbackView(View):
    """Back from the provider: exchange the code, check the identity, sign the person in or refuse."""

    def get(self, request: HttpRequest) -> HttpResponse:
        pk = request.session.pop(SSO_PROVIDER_KEY, None)
        provider = sso.enabled_provider(pk) if isinstance(pk, int) else None
        if provider is None:
            return _refused(
                request,
                _("This sign-in has expired or was not started here. Please start again."),
                status=400,
            )
        try:
            user = sso.sign_in_finish(request, provider)
        except sso.SignInRefused as refusal:
            return _refused(request, refusal.message, status=403)
        login(request, user, backend=BACKEND)
        return redirect("home")


class InvitationAcceptView(View):
    """Open an invitation link: choose a password (or sign in with the organisation's provider)."""

    template_name = "registration/invitation.html"

    def _find(self, token: str) -> Invitation | HttpResponse:
        try:
            return invitations.find(token)
        except invitations.InvitationInvalid as refusal:
            status = 404 if refusal.code == "unknown" else 410
            return _refused(self.request, refusal.messages[0], status=status)

    def _page(
        self, invitation: Invitation, form: SetPasswordForm[User], *, status: int = 200
    ) -> HttpResponse:
        provider = sso.enabled_provider_of(invitation.person.organisation_id)
        context = {"invitation": invitation, "form": form, "provider": provider}
        return render(self.request, self.template_name, context, status=status)

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        found = self._find(token)
        if isinstance(found, HttpResponse):
            return found
        return self._page(found, SetPasswordForm(found.person.user))

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        found = self._find(token)
        if isinstance(found, HttpResponse):
            return found
        form = SetPasswordForm(found.person.user, request.POST)
        if not form.is_valid():
            return self._page(found, form, status=400)
        try:
            person = invitations.accept(token=token, password=form.cleaned_data["new_password1"])
        except invitations.InvitationInvalid as refusal:
            return _refused(request, refusal.messages[0], status=410)
        except ValidationError as exc:
            form.add_error("new_password1", exc)
            return self._page(found, form, status=400)
        login(request, person.user, backend=BACKEND)
        messages.success(request, _("Welcome! Your password is set and you are signed in."))
        return redirect("home")


class PasswordResetView(auth_views.PasswordResetView):
    """Ask for a reset link; the answer is the same whether or not the address has an account."""

    form_class = PasswordResetRequestForm
    success_url = reverse_lazy("password_reset_done")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    success_url = reverse_lazy("password_reset_complete")
