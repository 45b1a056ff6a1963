"""API of programmes, organisations, units, roles at work and people (thin: parse, call, serialise)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.authtoken.models import Token
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from organisations import permissions, selectors
from organisations.access.api import ProgrammeScopedViewSet
from organisations.filters import (
    InvitationFilter,
    OrganisationFilter,
    PersonFilter,
    UnitFilter,
    WorkRoleFilter,
)
from organisations.models import IdentityProvider, Invitation, Organisation, Person, Programme, Unit, WorkRole
from organisations.serializers import (
    IdentityProviderSerializer,
    InvitationCreateSerializer,
    InvitationSerializer,
    MembershipEndSerializer,
    OrganisationSerializer,
    PersonCreateSerializer,
    PersonSerializer,
    PersonUpdateSerializer,
    ProgrammeSerializer,
    TokenRequestSerializer,
    TokenSerializer,
    UnitSerializer,
    WorkRoleSerializer,
)
from organisations.services import accounts, agencies, invitations, people, programmes, sso


class ProgrammeViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, ProgrammeScopedViewSet
):
    """The programmes you take part in. Programme admins may change settings and funders."""

    model = Programme
    serializer_class = ProgrammeSerializer
    ordering_fields = ["name"]

    def narrow_queryset(self, queryset: QuerySet[Programme]) -> QuerySet[Programme]:
        return selectors.programmes_for(self.actor)

    def perform_update(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        funders = data.pop("funders", None)
        programmes.programme_update(
            actor=self.actor,
            programme=serializer.instance,
            values=data,
            funders=[programmes.FunderShare(**f) for f in funders] if funders is not None else None,
        )


class OrganisationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ProgrammeScopedViewSet,
):
    """Organisations taking part in your programmes."""

    model = Organisation
    serializer_class = OrganisationSerializer
    filterset_class = OrganisationFilter
    ordering_fields = ["name", "short_name"]

    def narrow_queryset(self, queryset: QuerySet[Organisation]) -> QuerySet[Organisation]:
        return selectors.organisations_for(self.actor)

    def perform_create(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        programme = data.pop("programme")
        created = agencies.organisation_create(actor=self.actor, programme=programme, **data)
        serializer.instance = self.reload(created)

    def perform_update(self, serializer: Any) -> None:
        agencies.organisation_update(
            actor=self.actor, organisation=serializer.instance, values=dict(serializer.validated_data)
        )

    @extend_schema(methods=["GET"], responses=IdentityProviderSerializer)
    @extend_schema(methods=["PUT"], request=IdentityProviderSerializer, responses=IdentityProviderSerializer)
    @extend_schema(methods=["DELETE"], responses={204: None})
    @action(detail=True, methods=["get", "put", "delete"], url_path="identity-provider")
    def identity_provider(self, request: Request, pk: str | None = None) -> Response:
        """The organisation's own OpenID Connect provider (its organisation admins only). The client
        secret is written, never read back; leave it out to keep the stored one."""
        organisation = self.get_object()
        if not permissions.can_configure_sign_in(self.actor, organisation):
            raise PermissionDenied(_("Only the organisation's own admins may set its sign-in."))
        provider = IdentityProvider.objects.filter(organisation=organisation).first()
        if request.method == "DELETE":
            if provider is None:
                raise NotFound
            sso.identity_provider_delete(actor=self.actor, provider=provider)
            return Response(status=status.HTTP_204_NO_CONTENT)
        if request.method == "PUT":
            incoming = IdentityProviderSerializer(data=request.data)
            incoming.is_valid(raise_exception=True)
            data = incoming.validated_data
            provider = sso.identity_provider_save(
                actor=self.actor,
                organisation=organisation,
                issuer=data["issuer"],
                client_id=data["client_id"],
                client_secret=data.get("client_secret") or None,
                email_domains=data.get("email_domains", []),
                is_enabled=data.get("is_enabled", True),
            )
        if provider is None:
            raise NotFound
        return Response(IdentityProviderSerializer(provider).data)


class UnitViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ProgrammeScopedViewSet,
):
    """Units (departments, offices) of the organisations in your programmes."""

    model = Unit
    serializer_class = UnitSerializer
    filterset_class = UnitFilter
    ordering_fields = ["name"]

    def narrow_queryset(self, queryset: QuerySet[Unit]) -> QuerySet[Unit]:
        return selectors.units_for(self.actor)

    def perform_create(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        organisation = data.pop("organisation")
        serializer.instance = agencies.unit_create(actor=self.actor, organisation=organisation, values=data)

    def perform_update(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        data.pop("organisation", None)
        agencies.unit_update(actor=self.actor, unit=serializer.instance, values=data)

    def perform_destroy(self, instance: Unit) -> None:
        agencies.unit_delete(actor=self.actor, unit=instance)


class WorkRoleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ProgrammeScopedViewSet):
    """The controlled list of roles at work in your programmes."""

    model = WorkRole
    serializer_class = WorkRoleSerializer
    filterset_class = WorkRoleFilter

    def narrow_queryset(self, queryset: QuerySet[WorkRole]) -> QuerySet[WorkRole]:
        return selectors.work_roles_for(self.actor)


class PersonViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ProgrammeScopedViewSet):
    """People in your programmes. Contact details are shown to colleagues and coordinators only."""

    model = Person
    serializer_class = PersonSerializer
    filterset_class = PersonFilter
    ordering_fields = ["user__last_name", "user__first_name"]

    def narrow_queryset(self, queryset: QuerySet[Person]) -> QuerySet[Person]:
        return selectors.people_for(self.actor)

    @extend_schema(request=PersonUpdateSerializer, responses=PersonSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        person = self.get_object()
        incoming = PersonUpdateSerializer(data=request.data, context=self.get_serializer_context())
        incoming.is_valid(raise_exception=True)
        people.person_update(actor=self.actor, person=person, values=dict(incoming.validated_data))
        return self.answer(person)

    @extend_schema(request=PersonCreateSerializer, responses={201: PersonSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = PersonCreateSerializer(data=request.data, context=self.get_serializer_context())
        incoming.is_valid(raise_exception=True)
        data = dict(incoming.validated_data)
        programme = data.pop("programme")
        send_invitation = data.pop("invite", False)
        with transaction.atomic():
            person = people.person_create(
                actor=self.actor,
                programme=programme,
                organisation=data.pop("organisation"),
                username=data.pop("username"),
                email=data.pop("email"),
                first_name=data.pop("first_name"),
                last_name=data.pop("last_name"),
                work_role=data.pop("work_role", None),
                roles=data.pop("roles", None) or ["staff"],
                values=data,
            )
            if send_invitation:
                invitations.invite(actor=self.actor, programme=programme, person=person)
        return self.answer(person, status.HTTP_201_CREATED)

    @extend_schema(request=MembershipEndSerializer, responses=PersonSerializer)
    @action(detail=True, methods=["post"], url_path="end-membership")
    def end_membership(self, request: Request, pk: str | None = None) -> Response:
        """End the person's membership in a programme; with their last one, their account ends (sign-in,
        sessions and API token)."""
        person = self.get_object()
        incoming = MembershipEndSerializer(data=request.data, context=self.get_serializer_context())
        incoming.is_valid(raise_exception=True)
        accounts.membership_end(
            actor=self.actor, programme=incoming.validated_data["programme"], person=person
        )
        return self.answer(person)

    @extend_schema(methods=["GET"], responses=PersonSerializer)
    @extend_schema(methods=["PATCH"], request=PersonUpdateSerializer, responses=PersonSerializer)
    @action(detail=False, methods=["get", "patch"], url_path="me")
    def me(self, request: Request) -> Response:
        """Your own profile."""
        person = self.actor.person
        if person is None:
            return Response({"detail": _("You have no staff profile.")}, status=status.HTTP_404_NOT_FOUND)
        if request.method == "PATCH":
            incoming = PersonUpdateSerializer(data=request.data, context=self.get_serializer_context())
            incoming.is_valid(raise_exception=True)
            people.person_update(actor=self.actor, person=person, values=dict(incoming.validated_data))
        return self.answer(person)


class InvitationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ProgrammeScopedViewSet):
    """Invitations to set a password: send, resend and withdraw (programme admins; organisation admins for
    their own organisation's people)."""

    model = Invitation
    serializer_class = InvitationSerializer
    filterset_class = InvitationFilter
    ordering_fields = ["created_at"]

    def narrow_queryset(self, queryset: QuerySet[Invitation]) -> QuerySet[Invitation]:
        return selectors.invitations_for(self.actor)

    @extend_schema(request=InvitationCreateSerializer, responses={201: InvitationSerializer})
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        incoming = InvitationCreateSerializer(data=request.data, context=self.get_serializer_context())
        incoming.is_valid(raise_exception=True)
        invitation = invitations.invite(actor=self.actor, **incoming.validated_data)
        return self.answer(invitation, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={201: InvitationSerializer})
    @action(detail=True, methods=["post"])
    def resend(self, request: Request, pk: str | None = None) -> Response:
        """Send a new link (the earlier one stops working); at most once per INVITATION_RESEND_MINUTES."""
        invitation = invitations.resend(actor=self.actor, invitation=self.get_object())
        return self.answer(invitation, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=InvitationSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        """Withdraw a pending invitation: its link stops working at once."""
        invitation = invitations.revoke(actor=self.actor, invitation=self.get_object())
        return self.answer(invitation)


class ObtainTokenView(APIView):
    """Exchange a username and password for an API token (throttled; repeated failures lock the account)."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    throttle_scope = "login"

    @extend_schema(request=TokenRequestSerializer, responses=TokenSerializer)
    def post(self, request: Request) -> Response:
        incoming = TokenRequestSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        user = authenticate(
            request=request._request,
            username=incoming.validated_data["username"],
            password=incoming.validated_data["password"],
        )
        if user is None or not user.is_active:
            return Response(
                {"detail": _("Unable to sign in with these credentials.")},
                status=status.HTTP_401_UNAUTHORIZED,
                headers={"WWW-Authenticate": "Token"},
            )
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})
