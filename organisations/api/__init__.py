"""API of programmes, organisations, units, roles at work and people (thin: parse, call, serialise)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.authtoken.models import Token
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from coordinator.core import plans
from coordinator.core.drf import CSVRenderer, XLSXRenderer
from coordinator.core.schema import ErrorDetailSerializer
from coordinator.core.spreadsheets import XLSX_CONTENT_TYPE, write_csv, write_xlsx
from coordinator.core.validators import parse_int
from organisations import permissions, selectors
from organisations.access.api import (
    SPREADSHEET_UPLOAD_BODY,
    ProgrammeScopedViewSet,
    requested_programme,
    spreadsheet_upload,
)
from organisations.filters import (
    InvitationFilter,
    OrganisationFilter,
    PersonFilter,
    UnitFilter,
    WorkRoleFilter,
)
from organisations.models import (
    IdentityProvider,
    Invitation,
    Organisation,
    ParticipationInvitation,
    Person,
    Programme,
    Unit,
    WorkRole,
)
from organisations.permissions import can_manage_programme, is_agency_admin, is_platform_admin
from organisations.serializers import (
    AgencySerializer,
    ErasureOutcomeSerializer,
    IdentityProviderSerializer,
    InvitationCreateSerializer,
    InvitationSerializer,
    InviteAgencySerializer,
    MembershipEndSerializer,
    OrganisationSerializer,
    ParticipationInvitationSerializer,
    PersonCreateSerializer,
    PersonEraseSerializer,
    PersonSerializer,
    PersonUpdateSerializer,
    ProgrammeCreateSerializer,
    ProgrammeSerializer,
    TokenRequestSerializer,
    TokenSerializer,
    UnitSerializer,
    WorkRoleSerializer,
)
from organisations.services import (
    accounts,
    agencies,
    invitations,
    people,
    people_export,
    people_import,
    personal_data,
    programmes,
    sso,
)


class ProgrammeViewSet(
    plans.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, ProgrammeScopedViewSet
):
    """The programmes you take part in. Programme admins may change settings and funders, archive the
    programme, invite agencies and read the agency directory; platform administrators start programmes."""

    model = Programme
    serializer_class = ProgrammeSerializer
    ordering_fields = ["name"]

    def narrow_queryset(self, queryset: QuerySet[Programme]) -> QuerySet[Programme]:
        return selectors.programmes_for(self.actor)

    @extend_schema(request=ProgrammeCreateSerializer, responses={201: ProgrammeSerializer})
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        """Start a programme with its first admin (platform administrators). It starts with the six default
        focus groups and the default roles at work, in its language."""
        if not is_platform_admin(self.actor):
            raise PermissionDenied(_("Only platform administrators may start programmes."))
        incoming = ProgrammeCreateSerializer(data=request.data, context=self.get_serializer_context())
        incoming.is_valid(raise_exception=True)
        data = dict(incoming.validated_data)
        admin = dict(data.pop("first_admin"))
        organisation = None
        if "organisation" in admin:
            # The platform administrator names an agency from the whole platform (no programme's scope).
            organisation = selectors.agency_directory().filter(pk=admin.pop("organisation")).first()
            if organisation is None:
                raise ValidationError({"first_admin": {"organisation": [_("No such organisation.")]}})
        new = admin.pop("new_organisation", None)
        created = programmes.programme_create(
            actor=self.actor,
            values=data,
            first_admin=programmes.FirstAdmin(
                **admin,
                organisation=organisation,
                new_organisation=programmes.NewOrganisation(**new) if new else None,
            ),
        )
        return Response(
            ProgrammeSerializer(created, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=None, responses=ProgrammeSerializer)
    @action(detail=True, methods=["post"])
    def archive(self, request: Request, pk: str | None = None) -> Response:
        """Archive the programme (its admins): read-only from now on, still readable and exportable."""
        programme = self.get_object()
        programmes.programme_archive(actor=self.actor, programme=programme)
        return self.answer(programme)

    @extend_schema(responses=AgencySerializer(many=True))
    @action(detail=True, methods=["get"], url_path="agency-directory")
    def agency_directory(self, request: Request, pk: str | None = None) -> Response:
        """Programme admins: every agency on the platform that does not take part in this programme yet,
        by name (``?search=``), to invite. Never which programmes an agency takes part in."""
        programme = self.get_object()
        if not can_manage_programme(self.actor, programme):
            raise PermissionDenied(_("Only the programme's admins may invite agencies."))
        search = request.query_params.get("search", "")
        if len(search) > 100:
            raise ValidationError({"search": [_("Keep the search under 100 characters.")]})
        agencies_ = selectors.agency_directory(search=search, excluding_programme=programme)
        page = self.paginate_queryset(agencies_)
        return self.get_paginated_response(AgencySerializer(page, many=True).data)

    @extend_schema(methods=["GET"], responses=ParticipationInvitationSerializer(many=True))
    @extend_schema(
        methods=["POST"], request=InviteAgencySerializer, responses={201: ParticipationInvitationSerializer}
    )
    @action(detail=True, methods=["get", "post"])
    def invitations(self, request: Request, pk: str | None = None) -> Response:
        """Programme admins: the programme's invitations to agencies; ``POST`` invites an agency from the
        directory (its own admins accept or decline)."""
        programme = self.get_object()
        if not can_manage_programme(self.actor, programme):
            raise PermissionDenied(_("Only the programme's admins may invite agencies."))
        if request.method == "POST":
            incoming = InviteAgencySerializer(data=request.data)
            incoming.is_valid(raise_exception=True)
            organisation = (
                selectors.agency_directory().filter(pk=incoming.validated_data["organisation"]).first()
            )
            if organisation is None:
                raise ValidationError({"organisation": [_("No such organisation.")]})
            invitation = agencies.participation_invite(
                actor=self.actor,
                programme=programme,
                organisation=organisation,
                message=incoming.validated_data["message"],
            )
            return Response(
                ParticipationInvitationSerializer(invitation).data, status=status.HTTP_201_CREATED
            )
        invitations = selectors.invitations_of(programme)
        return Response(ParticipationInvitationSerializer(invitations, many=True).data)

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
    plans.ListModelMixin,
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
        # The list and one organisation's page only serialise; the workflows read the organisation whole.
        return selectors.organisations_for(self.actor, shown_only=self.action in ("list", "retrieve"))

    def perform_create(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        programme = data.pop("programme")
        created = agencies.organisation_create(actor=self.actor, programme=programme, **data)
        serializer.instance = self.reload(created)

    def perform_update(self, serializer: Any) -> None:
        agencies.organisation_update(
            actor=self.actor, organisation=serializer.instance, values=dict(serializer.validated_data)
        )

    @extend_schema(responses=ParticipationInvitationSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="invitations")
    def invitations(self, request: Request, pk: str | None = None) -> Response:
        """The agency's own admins: invitations from other programmes to take part, newest first."""
        organisation = self.get_object()
        if not is_agency_admin(self.actor, organisation):
            raise PermissionDenied(_("Only the agency's own admins see its invitations."))
        return Response(
            ParticipationInvitationSerializer(selectors.invitations_to(organisation), many=True).data
        )

    def _invitation(self, organisation: Organisation, invitation_id: str) -> ParticipationInvitation:
        if not is_agency_admin(self.actor, organisation):
            raise PermissionDenied(_("Only the agency's own admins may answer its invitations."))
        found = selectors.invitations_to(organisation).filter(pk=parse_int(invitation_id) or 0).first()
        if found is None:
            raise Http404
        return found

    @extend_schema(request=None, responses=ParticipationInvitationSerializer)
    @action(detail=True, methods=["post"], url_path=r"invitations/(?P<invitation_id>[0-9]+)/accept")
    def accept_invitation(self, request: Request, pk: str | None = None, invitation_id: str = "") -> Response:
        """The agency's own admins accept: the agency takes part in the inviting programme."""
        organisation = self.get_object()
        invitation = agencies.invitation_accept(
            actor=self.actor, invitation=self._invitation(organisation, invitation_id)
        )
        return Response(ParticipationInvitationSerializer(invitation).data)

    @extend_schema(request=None, responses=ParticipationInvitationSerializer)
    @action(detail=True, methods=["post"], url_path=r"invitations/(?P<invitation_id>[0-9]+)/decline")
    def decline_invitation(
        self, request: Request, pk: str | None = None, invitation_id: str = ""
    ) -> Response:
        """The agency's own admins decline the invitation."""
        organisation = self.get_object()
        invitation = agencies.invitation_decline(
            actor=self.actor, invitation=self._invitation(organisation, invitation_id)
        )
        return Response(ParticipationInvitationSerializer(invitation).data)

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
    plans.ListModelMixin,
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
        programme = data.pop("programme", None)
        created = agencies.unit_create(
            actor=self.actor, organisation=organisation, values=data, programme=programme
        )
        serializer.instance = self.reload(created)

    def perform_update(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        data.pop("organisation", None)
        agencies.unit_update(actor=self.actor, unit=serializer.instance, values=data)

    def perform_destroy(self, instance: Unit) -> None:
        agencies.unit_delete(actor=self.actor, unit=instance)


class WorkRoleViewSet(
    plans.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ProgrammeScopedViewSet,
):
    """The controlled list of roles at work in your programmes; programme admins change it."""

    model = WorkRole
    serializer_class = WorkRoleSerializer
    filterset_class = WorkRoleFilter

    def narrow_queryset(self, queryset: QuerySet[WorkRole]) -> QuerySet[WorkRole]:
        return selectors.work_roles_for(self.actor)

    def perform_create(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        programme = data.pop("programme")
        created = programmes.work_role_create(actor=self.actor, programme=programme, values=data)
        serializer.instance = self.reload(created)

    def perform_update(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        data.pop("programme", None)
        programmes.work_role_update(actor=self.actor, work_role=serializer.instance, values=data)

    def perform_destroy(self, instance: WorkRole) -> None:
        programmes.work_role_delete(actor=self.actor, work_role=instance)


class PersonViewSet(plans.ListModelMixin, mixins.RetrieveModelMixin, ProgrammeScopedViewSet):
    """People in your programmes. Contact details are shown to colleagues and coordinators only."""

    model = Person
    serializer_class = PersonSerializer
    filterset_class = PersonFilter
    ordering_fields = ["user__last_name", "user__first_name"]
    # The first page answered from the cache while nothing it shows changed (the people's rows, names,
    # memberships and roles: organisations' migration 0015); each reader has entries of their own, since
    # who sees contact details depends on the reader's organisation and roles.
    answer_topics = ("people",)

    def narrow_queryset(self, queryset: QuerySet[Person]) -> QuerySet[Person]:
        # The list and one person's page only serialise; the workflows read the person whole.
        return selectors.people_for(self.actor, shown_only=self.action in ("list", "retrieve"))

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

    @extend_schema(request=PersonEraseSerializer, responses=ErasureOutcomeSerializer)
    @action(detail=True, methods=["post"], url_path="erase")
    def erase(self, request: Request, pk: str | None = None) -> Response:
        """Erase (pseudonymise) a person as a programme admin of ``programme``: everywhere when every
        programme they are still active in is yours, else only their membership of your programmes ends."""
        incoming = PersonEraseSerializer(data=request.data, context=self.get_serializer_context())
        incoming.is_valid(raise_exception=True)
        programme = incoming.validated_data["programme"]
        lookup = parse_int(pk)
        person = (
            Person.objects.filter(pk=lookup, memberships__programme=programme, erased_at__isnull=True)
            .select_related("user")
            .first()
            if lookup is not None and self.actor.is_programme_admin(programme)
            else None
        )
        if person is None:
            raise NotFound()
        outcome = personal_data.person_erase(actor=self.actor, person=person, programme=programme)
        return Response({"outcome": outcome.kind, "programmes": sorted(outcome.programme_ids)})

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

    @extend_schema(
        request=SPREADSHEET_UPLOAD_BODY,
        responses={200: dict, 400: dict},
    )
    @action(detail=False, methods=["post"], url_path="import", pagination_class=None, filterset_class=None)
    def import_people(self, request: Request) -> Response:
        """Import people from a CSV or XLSX file: multipart (``file``) or the file as the body. With
        ``dry_run=1`` nothing is saved and each row's outcome is reported; otherwise all rows are saved, or
        none when any is refused (400 with the same report). ``invite=1`` invites the people created."""
        programme, data, flags = spreadsheet_upload(request, self.actor)
        report = people_import.people_import(
            actor=self.actor, programme=programme, data=data, dry_run=flags["dry_run"], invite=flags["invite"]
        )
        answer = status.HTTP_200_OK if report.ok else status.HTTP_400_BAD_REQUEST
        return Response(report.as_dict(), status=answer)

    @extend_schema(responses={(200, "text/csv"): bytes, (200, XLSX_CONTENT_TYPE): bytes})
    @action(
        detail=False,
        methods=["get"],
        url_path="export",
        renderer_classes=[CSVRenderer, XLSXRenderer, JSONRenderer],
        pagination_class=None,
        filterset_class=None,
    )
    def export_people(self, request: Request) -> HttpResponse:
        """The people you may import, in the import's columns: ``format=csv`` (default) or ``xlsx``."""
        programme = requested_programme(request, self.actor)
        kind = request.query_params.get("format", "csv")
        if kind not in {"csv", "xlsx"}:
            raise ValidationError({"format": [_("Choose csv or xlsx.")]})
        headers, rows = people_export.people_export_rows(actor=self.actor, programme=programme)
        return people_file(headers, rows, kind=kind, name=programme.slug)


def people_file(headers: list[str], rows: list[list[object]], *, kind: str, name: str) -> HttpResponse:
    """An exported people list as a download."""
    if kind == "xlsx":
        response = HttpResponse(write_xlsx(headers, rows, title=_("People")), content_type=XLSX_CONTENT_TYPE)
    else:
        response = HttpResponse(write_csv(headers, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="people-{name}.{kind}"'
    return response


class InvitationViewSet(plans.ListModelMixin, mixins.RetrieveModelMixin, ProgrammeScopedViewSet):
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


class MyDataViewSet(ProgrammeScopedViewSet):
    """Everything the platform holds about you, as one JSON document (streamed)."""

    model = Person

    @extend_schema(responses={(200, "application/json"): dict})
    def download(self, request: Request) -> StreamingHttpResponse | Response:
        person = self.actor.person
        if person is None:
            return Response({"detail": _("You have no staff profile.")}, status=status.HTTP_404_NOT_FOUND)
        response = StreamingHttpResponse(
            selectors.personal_data_json(person), content_type="application/json"
        )
        response["Cache-Control"] = "no-store"
        return response


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
