from __future__ import annotations

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from seminars import api

router = SimpleRouter()
router.register("courses", api.CourseViewSet, basename="seminar-course")
router.register("rounds", api.RoundViewSet, basename="seminar-round")
router.register("sessions", api.SessionViewSet, basename="seminar-session")
router.register("quotas", api.QuotaViewSet, basename="seminar-quota")
router.register("enrolments", api.EnrolmentViewSet, basename="seminar-enrolment")
router.register("waitlist", api.WaitlistViewSet, basename="seminar-waitlist")
router.register("completions", api.CompletionViewSet, basename="seminar-completion")
router.register("groups", api.DiscussionGroupViewSet, basename="seminar-group")
router.register("costs", api.CostViewSet, basename="seminar-cost")

urlpatterns = [
    path("", include(router.urls)),
]
