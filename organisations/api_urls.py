from __future__ import annotations

from django.urls import include, path
from rest_framework.routers import DefaultRouter, SimpleRouter

from organisations import api
from organisations.api import competence

router = DefaultRouter()
router.register("programmes", api.ProgrammeViewSet, basename="programme")
router.register("organisations", api.OrganisationViewSet, basename="organisation")
router.register("units", api.UnitViewSet, basename="unit")
router.register("work-roles", api.WorkRoleViewSet, basename="work-role")
router.register("people", api.PersonViewSet, basename="person")
router.register("invitations", api.InvitationViewSet, basename="invitation")

competence_router = SimpleRouter()
competence_router.register("competences", competence.CompetenceViewSet, basename="competence")
competence_router.register("profiles", competence.RoleProfileViewSet, basename="role-profile")
competence_router.register(
    "confirmations", competence.CompetenceConfirmationViewSet, basename="competence-confirmation"
)
competence_router.register("", competence.CompetenceReportViewSet, basename="competence-report")

urlpatterns = [
    path("auth/token/", api.ObtainTokenView.as_view(), name="api-token"),
    path("me/data/", api.MyDataViewSet.as_view({"get": "download"}), name="api-my-data"),
    path("competence/", include(competence_router.urls)),
    path("", include(router.urls)),
]
