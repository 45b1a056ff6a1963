from __future__ import annotations

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from organisations import api

router = DefaultRouter()
router.register("programmes", api.ProgrammeViewSet, basename="programme")
router.register("organisations", api.OrganisationViewSet, basename="organisation")
router.register("units", api.UnitViewSet, basename="unit")
router.register("work-roles", api.WorkRoleViewSet, basename="work-role")
router.register("people", api.PersonViewSet, basename="person")
router.register("invitations", api.InvitationViewSet, basename="invitation")

urlpatterns = [
    path("auth/token/", api.ObtainTokenView.as_view(), name="api-token"),
    path("me/data/", api.MyDataViewSet.as_view({"get": "download"}), name="api-my-data"),
    path("", include(router.urls)),
]
