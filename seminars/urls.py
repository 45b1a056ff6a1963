from __future__ import annotations

from django.urls import path

from seminars import views

app_name = "seminars"

urlpatterns = [
    path("", views.CatalogueView.as_view(), name="catalogue"),
    path("mine/", views.MyBookingsView.as_view(), name="my-bookings"),
    path("approvals/", views.ApprovalsView.as_view(), name="approvals"),
    path("teaching/", views.TeachingView.as_view(), name="teaching"),
    path("courses/<int:pk>/", views.CourseDetailView.as_view(), name="course-detail"),
    path("rounds/<int:pk>/", views.RoundDetailView.as_view(), name="round-detail"),
    path("rounds/<int:pk>/attendance/", views.AttendanceView.as_view(), name="attendance"),
    path("enrolments/<int:pk>/cancel/", views.CancelEnrolmentView.as_view(), name="enrolment-cancel"),
    path("enrolments/<int:pk>/accept/", views.AcceptOfferView.as_view(), name="offer-accept"),
    path("enrolments/<int:pk>/decline/", views.DeclineOfferView.as_view(), name="offer-decline"),
    path("enrolments/<int:pk>/approve/", views.ApproveView.as_view(), name="enrolment-approve"),
    path("enrolments/<int:pk>/reject/", views.RejectView.as_view(), name="enrolment-reject"),
    path("manage/", views.ManageView.as_view(), name="manage"),
    path("manage/demand/", views.DemandView.as_view(), name="demand"),
    path("manage/report/", views.ReportView.as_view(), name="report"),
    path("manage/courses/new/", views.CourseCreateView.as_view(), name="course-create"),
    path("manage/courses/<int:pk>/edit/", views.CourseEditView.as_view(), name="course-edit"),
    path("manage/courses/<int:pk>/rounds/new/", views.RoundCreateView.as_view(), name="round-create"),
    path("manage/rounds/<int:pk>/", views.RoundAdminView.as_view(), name="round-admin"),
    path("manage/rounds/<int:pk>/edit/", views.RoundEditView.as_view(), name="round-edit"),
    path("manage/rounds/<int:pk>/enrol/", views.RoundEnrolOtherView.as_view(), name="round-enrol-other"),
    path("manage/rounds/<int:pk>/cancel/", views.RoundCancelView.as_view(), name="round-cancel"),
    path("manage/rounds/<int:pk>/sessions/new/", views.SessionCreateView.as_view(), name="session-create"),
    path("manage/rounds/<int:pk>/quotas/", views.QuotasView.as_view(), name="quotas"),
    path("manage/rounds/<int:pk>/groups/", views.GroupsView.as_view(), name="groups"),
    path("manage/rounds/<int:pk>/costs/", views.CostsView.as_view(), name="costs"),
    path("manage/sessions/<int:pk>/edit/", views.SessionEditView.as_view(), name="session-edit"),
    path("manage/sessions/<int:pk>/delete/", views.SessionDeleteView.as_view(), name="session-delete"),
    path("manage/quotas/<int:pk>/delete/", views.QuotaDeleteView.as_view(), name="quota-delete"),
    path("manage/costs/<int:pk>/delete/", views.CostDeleteView.as_view(), name="cost-delete"),
]
