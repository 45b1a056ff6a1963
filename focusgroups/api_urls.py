from __future__ import annotations

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from focusgroups import api

router = SimpleRouter()
router.register("groups", api.FocusGroupViewSet, basename="focusgroup-group")
router.register("memberships", api.MembershipViewSet, basename="focusgroup-membership")
router.register("meetings", api.MeetingViewSet, basename="focusgroup-meeting")
router.register("notes", api.NoteViewSet, basename="focusgroup-note")
router.register("actions", api.ActionViewSet, basename="focusgroup-action")
router.register("glossary", api.ConceptViewSet, basename="focusgroup-concept")

urlpatterns = [
    path("", include(router.urls)),
]
