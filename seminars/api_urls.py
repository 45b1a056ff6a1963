from __future__ import annotations

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from seminars.api import courses, records, seats

router = SimpleRouter()
router.register("courses", courses.CourseViewSet, basename="seminar-course")
router.register("rounds", courses.RoundViewSet, basename="seminar-round")
router.register("sessions", courses.SessionViewSet, basename="seminar-session")
router.register("quotas", seats.QuotaViewSet, basename="seminar-quota")
router.register("enrolments", seats.EnrolmentViewSet, basename="seminar-enrolment")
router.register("waitlist", seats.WaitlistViewSet, basename="seminar-waitlist")
router.register("completions", records.CompletionViewSet, basename="seminar-completion")
router.register("groups", records.DiscussionGroupViewSet, basename="seminar-group")
router.register("costs", records.CostViewSet, basename="seminar-cost")

urlpatterns = [
    path("", include(router.urls)),
]
