from __future__ import annotations

from django.urls import path

from shadowing import views

app_name = "shadowing"

urlpatterns = [
    # Everyone: published workplaces
    path("", views.WorkplaceListView.as_view(), name="workplaces"),
    path("workplaces/<int:pk>/", views.WorkplaceDetailView.as_view(), name="workplace-detail"),
    # Staff: requests, placements, reflections
    path("mine/", views.MineView.as_view(), name="mine"),
    path("requests/new/", views.RequestCreateView.as_view(), name="request-create"),
    path("requests/<int:pk>/", views.RequestDetailView.as_view(), name="request-detail"),
    path("requests/<int:pk>/withdraw/", views.RequestWithdrawView.as_view(), name="request-withdraw"),
    path("placements/<int:pk>/", views.PlacementDetailView.as_view(), name="placement-detail"),
    path("placements/<int:pk>/confirm/", views.PlacementConfirmView.as_view(), name="placement-confirm"),
    path("placements/<int:pk>/cancel/", views.PlacementCancelView.as_view(), name="placement-cancel"),
    path("placements/<int:pk>/reflection/", views.ReflectionView.as_view(), name="reflection"),
    # Line managers
    path("approvals/", views.ApprovalsView.as_view(), name="approvals"),
    path("requests/<int:pk>/approve/", views.RequestApproveView.as_view(), name="request-approve"),
    path("requests/<int:pk>/decline/", views.RequestDeclineView.as_view(), name="request-decline"),
    # Host contacts
    path("host/", views.HostView.as_view(), name="host"),
    path("host/workplaces/new/", views.WorkplaceCreateView.as_view(), name="workplace-create"),
    path("host/workplaces/<int:pk>/edit/", views.WorkplaceEditView.as_view(), name="workplace-edit"),
    path("host/workplaces/<int:pk>/publish/", views.WorkplacePublishView.as_view(), name="workplace-publish"),
    path("host/workplaces/<int:pk>/slots/", views.SlotsView.as_view(), name="slots"),
    path(
        "host/workplaces/<int:pk>/slots/remove-free/",
        views.SlotsRemoveFreeView.as_view(),
        name="slots-remove-free",
    ),
    path("host/slots/<int:pk>/delete/", views.SlotDeleteView.as_view(), name="slot-delete"),
    path("host/visitors/", views.HostVisitorsView.as_view(), name="host-visitors"),
    path("placements/<int:pk>/accept/", views.PlacementAcceptView.as_view(), name="placement-accept"),
    path("placements/<int:pk>/decline/", views.PlacementDeclineView.as_view(), name="placement-decline"),
    path("placements/<int:pk>/visited/", views.PlacementVisitedView.as_view(), name="placement-visited"),
    path("placements/<int:pk>/feedback/", views.HostFeedbackView.as_view(), name="host-feedback"),
    # Coordinators
    path("coordinate/", views.DashboardView.as_view(), name="dashboard"),
    path("coordinate/runs/new/", views.RunCreateView.as_view(), name="run-create"),
    path("coordinate/runs/<int:pk>/", views.RunDetailView.as_view(), name="run-detail"),
    path("coordinate/runs/<int:pk>/assign/", views.RunAssignView.as_view(), name="run-assign"),
    path("coordinate/runs/<int:pk>/remove/", views.RunRemoveView.as_view(), name="run-remove"),
    path("coordinate/runs/<int:pk>/confirm/", views.RunConfirmView.as_view(), name="run-confirm"),
    path("coordinate/runs/<int:pk>/discard/", views.RunDiscardView.as_view(), name="run-discard"),
    path("coordinate/overview/", views.OverviewView.as_view(), name="overview"),
    path("coordinate/pairs/", views.PairsView.as_view(), name="pairs"),
]
