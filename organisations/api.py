"""API of programmes, organisations, units, roles at work and people (thin: parse, call, serialise)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.authtoken.models import Token
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from coordinator.core.schema import ErrorDetailSerializer
from organisations import selectors
from organisations.access.api import ProgrammeScopedViewSet
from organisations.filters import OrganisationFilter, PersonFilter, UnitFilter, WorkRoleFilter
from organisations.models import Organisation, Person, Programme, Unit, WorkRole
from organisations.serializers import (
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
from organisations.services import agencies, people, programmes


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
        with transaction.atomic():
            person = people.person_create(
                actor=self.actor,
                programme=data.pop("programme"),
                organisation=data.pop("organisation"),
                username=data.pop("username"),
                email=data.pop("email"),
                first_name=data.pop("first_name"),
                last_name=data.pop("last_name"),
                work_role=data.pop("work_role", None),
                roles=data.pop("roles", None) or ["staff"],
                values=data,
            )
        return self.answer(person, status.HTTP_201_CREATED)

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


class ObtainTokenView(APIView):
    """Exchange a username and password for an API token (throttled; repeated failures lock the account)."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    throttle_scope = "login"

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: TokenSerializer,
            401: OpenApiResponse(ErrorDetailSerializer, description="Wrong username or password"),
        },
    )
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
