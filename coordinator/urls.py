from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from coordinator.pages.views import (
    barometer,
    barometer_api,
    feed,
    health,
    home,
    imports,
    me,
    notifications,
    personal_data,
    ping_api,
    reports_api,
    signin,
)
from organisations.access.admin import site as admin_site

reports_router = DefaultRouter()
reports_router.register("targets", reports_api.TargetViewSet, basename="report-target")

urlpatterns = [
    path("", home.HomeView.as_view(), name="home"),
    path("login/", signin.SignInView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("login/organisation/", signin.SingleSignOnByEmailView.as_view(), name="sso-by-email"),
    path("login/organisation/<int:pk>/", signin.SingleSignOnStartView.as_view(), name="sso-start"),
    path(
        "login/organisation/callback/",
        signin.SingleSignOnCallbackView.as_view(),
        name="sso-callback",
    ),
    path("invitation/<str:token>/", signin.InvitationAcceptView.as_view(), name="invitation-accept"),
    path("password-reset/", signin.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        signin.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("i18n/setlang/", home.set_language, name="set_language"),
    path("programme/", home.SwitchProgrammeView.as_view(), name="switch-programme"),
    path("me/", me.MyPageView.as_view(), name="my-page"),
    path("me/settings/", me.SettingsView.as_view(), name="settings"),
    path("me/calendar/rotate/", me.RotateCalendarTokenView.as_view(), name="calendar-rotate"),
    path("me/data/", personal_data.MyDataView.as_view(), name="my-data"),
    path("me/data.json", personal_data.MyDataDownloadView.as_view(), name="my-data-download"),
    path("barometer/", barometer.BarometerView.as_view(), name="barometer"),
    path("imports/", imports.ImportsView.as_view(), name="imports"),
    path("imports/people/", imports.PeopleImportView.as_view(), name="import-people"),
    path("imports/people/export/", imports.PeopleExportView.as_view(), name="export-people"),
    path("imports/history/<str:key>/", imports.HistoryImportView.as_view(), name="import-history"),
    path("notifications/", notifications.NotificationListView.as_view(), name="notifications"),
    path("notifications/read/", notifications.MarkNotificationsReadView.as_view(), name="notifications-read"),
    path("calendar/<str:token>.ics", feed.calendar_feed, name="calendar-feed"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.prometheus_metrics, name="metrics"),
    path("organisations/", include("organisations.urls")),
    path("shadowing/", include("shadowing.urls")),
    path("seminars/", include("seminars.urls")),
    path("focusgroups/", include("focusgroups.urls")),
    path("admin/", admin_site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path(
        "api/v1/reports/barometer/",
        barometer_api.BarometerViewSet.as_view({"get": "report"}),
        name="barometer-api",
    ),
    path(
        "api/v1/reports/progress/",
        reports_api.ProgressViewSet.as_view({"get": "report"}),
        name="reports-api-progress",
    ),
    path(
        "api/v1/reports/follow-ups/",
        reports_api.FollowUpReportViewSet.as_view({"get": "report"}),
        name="reports-api-follow-ups",
    ),
    path(
        "api/v1/reports/costs/",
        reports_api.CostReportViewSet.as_view({"get": "report"}),
        name="reports-api-costs",
    ),
    path(
        "api/v1/reports/measures/",
        reports_api.MeasureViewSet.as_view({"get": "report"}),
        name="reports-api-measures",
    ),
    path("api/v1/reports/", include(reports_router.urls)),
    path("api/v1/ping/", ping_api.PingView.as_view(), name="api-ping"),
    # The features' APIs before the organisations' (whose routes, under the bare prefix, start with none of
    # theirs): Django tries the patterns in order, and a failed include lists every route it tried, about
    # 60 µs of every shadowing, seminar and focus-group call (bench/README.md, "API lists").
    path("api/v1/shadowing/", include("shadowing.api_urls")),
    path("api/v1/seminars/", include("seminars.api_urls")),
    path("api/v1/focusgroups/", include("focusgroups.api_urls")),
    path("api/v1/", include("organisations.api_urls")),
]

handler403 = "coordinator.core.errors.permission_denied"
handler404 = "coordinator.core.errors.page_not_found"
handler500 = "coordinator.core.errors.server_error"
