from __future__ import annotations

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from shadowing import api
from shadowing.api import costs

router = SimpleRouter()
router.register("workplaces", api.WorkplaceViewSet, basename="shadowing-workplace")
router.register("slots", api.SlotViewSet, basename="shadowing-slot")
router.register("topics", api.TopicViewSet, basename="shadowing-topic")
router.register("requests", api.ShadowingRequestViewSet, basename="shadowing-request")
router.register("matching-runs", api.MatchingRunViewSet, basename="shadowing-matching-run")
router.register("placements", api.PlacementViewSet, basename="shadowing-placement")
router.register("reflections", api.ReflectionViewSet, basename="shadowing-reflection")
router.register("host-feedback", api.HostFeedbackViewSet, basename="shadowing-host-feedback")
router.register("costs", costs.PlacementCostViewSet, basename="shadowing-cost")

urlpatterns = [
    path("", include(router.urls)),
]
