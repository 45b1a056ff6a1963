from __future__ import annotations

from django.urls import path

from shadowing.views import approvals, coordinators, costs, hosts, placements, staff, workplaces

app_name = "shadowing"

urlpatterns = [
    # Everyone: published workplaces
    path("", workplaces.WorkplaceListView.as_view(), name="workplaces"),
    path("workplaces/<int:pk>/", workplaces.WorkplaceDetailView.as_view(), name="workplace-detail"),
    # Staff: requests, placements, reflections
    path("mine/", staff.MineView.as_view(), name="mine"),
    path("requests/new/", staff.RequestCreateView.as_view(), name="request-create"),
    path("requests/new/for/", staff.RequestForWhomView.as_view(), name="request-for-whom"),
    path("requests/new/for/<int:person>/", staff.RequestForPersonView.as_view(), name="request-create-for"),
    path("requests/<int:pk>/", staff.RequestDetailView.as_view(), name="request-detail"),
    path("requests/<int:pk>/withdraw/", staff.RequestWithdrawView.as_view(), name="request-withdraw"),
    path("placements/<int:pk>/", placements.PlacementDetailView.as_view(), name="placement-detail"),
    path("placements/<int:pk>/confirm/", placements.PlacementConfirmView.as_view(), name="placement-confirm"),
    path("placements/<int:pk>/cancel/", placements.PlacementCancelView.as_view(), name="placement-cancel"),
    path("placements/<int:pk>/reflection/", placements.ReflectionView.as_view(), name="reflection"),
    # Line managers
    path("approvals/", approvals.ApprovalsView.as_view(), name="approvals"),
    path("requests/<int:pk>/approve/", approvals.RequestApproveView.as_view(), name="request-approve"),
    path("requests/<int:pk>/decline/", approvals.RequestDeclineView.as_view(), name="request-decline"),
    # Host contacts
    path("host/", hosts.HostView.as_view(), name="host"),
    path("host/workplaces/new/", hosts.WorkplaceCreateView.as_view(), name="workplace-create"),
    path("host/workplaces/<int:pk>/edit/", hosts.WorkplaceEditView.as_view(), name="workplace-edit"),
    path("host/workplaces/<int:pk>/publish/", hosts.WorkplacePublishView.as_view(), name="workplace-publish"),
    path("host/workplaces/<int:pk>/slots/", hosts.SlotsView.as_view(), name="slots"),
    path(
        "host/workplaces/<int:pk>/slots/remove-free/",
        hosts.SlotsRemoveFreeView.as_view(),
        name="slots-remove-free",
    ),
    path("host/slots/<int:pk>/delete/", hosts.SlotDeleteView.as_view(), name="slot-delete"),
    path("host/visitors/", hosts.HostVisitorsView.as_view(), name="host-visitors"),
    path("placements/<int:pk>/accept/", placements.PlacementAcceptView.as_view(), name="placement-accept"),
    path("placements/<int:pk>/decline/", placements.PlacementDeclineView.as_view(), name="placement-decline"),
    path("placements/<int:pk>/visited/", placements.PlacementVisitedView.as_view(), name="placement-visited"),
    path("placements/<int:pk>/feedback/", placements.HostFeedbackView.as_view(), name="host-feedback"),
    # Coordinators
    path("coordinate/", coordinators.DashboardView.as_view(), name="dashboard"),
    path("coordinate/runs/new/", coordinators.RunCreateView.as_view(), name="run-create"),
    path("coordinate/runs/<int:pk>/", coordinators.RunDetailView.as_view(), name="run-detail"),
    path("coordinate/runs/<int:pk>/assign/", coordinators.RunAssignView.as_view(), name="run-assign"),
    path("coordinate/runs/<int:pk>/remove/", coordinators.RunRemoveView.as_view(), name="run-remove"),
    path("coordinate/runs/<int:pk>/confirm/", coordinators.RunConfirmView.as_view(), name="run-confirm"),
    path("coordinate/runs/<int:pk>/discard/", coordinators.RunDiscardView.as_view(), name="run-discard"),
    path("coordinate/overview/", coordinators.OverviewView.as_view(), name="overview"),
    path("coordinate/pairs/", coordinators.PairsView.as_view(), name="pairs"),
    path("placements/<int:pk>/costs/", costs.PlacementCostsView.as_view(), name="placement-costs"),
    path("costs/<int:pk>/delete/", costs.PlacementCostDeleteView.as_view(), name="placement-cost-delete"),
]
