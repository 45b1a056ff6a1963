from __future__ import annotations

from django.urls import path

from seminars.views import approvals, catalogue, courses, planning, staff, teaching

app_name = "seminars"

urlpatterns = [
    path("", catalogue.CatalogueView.as_view(), name="catalogue"),
    path("mine/", staff.MyBookingsView.as_view(), name="my-bookings"),
    path("approvals/", approvals.ApprovalsView.as_view(), name="approvals"),
    path("teaching/", teaching.TeachingView.as_view(), name="teaching"),
    path("courses/<int:pk>/", staff.CourseDetailView.as_view(), name="course-detail"),
    path("rounds/<int:pk>/", staff.RoundDetailView.as_view(), name="round-detail"),
    path("rounds/<int:pk>/attendance/", teaching.AttendanceView.as_view(), name="attendance"),
    path("enrolments/<int:pk>/cancel/", staff.CancelEnrolmentView.as_view(), name="enrolment-cancel"),
    path("enrolments/<int:pk>/accept/", staff.AcceptOfferView.as_view(), name="offer-accept"),
    path("enrolments/<int:pk>/decline/", staff.DeclineOfferView.as_view(), name="offer-decline"),
    path("enrolments/<int:pk>/approve/", approvals.ApproveView.as_view(), name="enrolment-approve"),
    path("enrolments/<int:pk>/reject/", approvals.RejectView.as_view(), name="enrolment-reject"),
    path("manage/", courses.ManageView.as_view(), name="manage"),
    path("manage/demand/", planning.DemandView.as_view(), name="demand"),
    path("manage/report/", planning.ReportView.as_view(), name="report"),
    path("manage/courses/new/", courses.CourseCreateView.as_view(), name="course-create"),
    path("manage/courses/<int:pk>/edit/", courses.CourseEditView.as_view(), name="course-edit"),
    path("manage/courses/<int:pk>/rounds/new/", courses.RoundCreateView.as_view(), name="round-create"),
    path("manage/rounds/<int:pk>/", courses.RoundAdminView.as_view(), name="round-admin"),
    path("manage/rounds/<int:pk>/edit/", courses.RoundEditView.as_view(), name="round-edit"),
    path("manage/rounds/<int:pk>/enrol/", courses.RoundEnrolOtherView.as_view(), name="round-enrol-other"),
    path("manage/rounds/<int:pk>/cancel/", courses.RoundCancelView.as_view(), name="round-cancel"),
    path("manage/rounds/<int:pk>/sessions/new/", courses.SessionCreateView.as_view(), name="session-create"),
    path("manage/rounds/<int:pk>/quotas/", planning.QuotasView.as_view(), name="quotas"),
    path("manage/rounds/<int:pk>/groups/", planning.GroupsView.as_view(), name="groups"),
    path("manage/rounds/<int:pk>/costs/", planning.CostsView.as_view(), name="costs"),
    path("manage/sessions/<int:pk>/edit/", courses.SessionEditView.as_view(), name="session-edit"),
    path("manage/sessions/<int:pk>/delete/", courses.SessionDeleteView.as_view(), name="session-delete"),
    path("manage/quotas/<int:pk>/delete/", planning.QuotaDeleteView.as_view(), name="quota-delete"),
    path("manage/costs/<int:pk>/delete/", planning.CostDeleteView.as_view(), name="cost-delete"),
]
