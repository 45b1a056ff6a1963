from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from coordinator.pages import views
from organisations.access.admin import site as admin_site

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/setlang/", views.set_language, name="set_language"),
    path("programme/", views.SwitchProgrammeView.as_view(), name="switch-programme"),
    path("me/", views.MyPageView.as_view(), name="my-page"),
    path("me/settings/", views.SettingsView.as_view(), name="settings"),
    path("me/calendar/rotate/", views.RotateCalendarTokenView.as_view(), name="calendar-rotate"),
    path("barometer/", views.BarometerView.as_view(), name="barometer"),
    path("notifications/", views.NotificationListView.as_view(), name="notifications"),
    path("notifications/read/", views.MarkNotificationsReadView.as_view(), name="notifications-read"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar-feed"),
    path("healthz", views.healthz, name="healthz"),
    path("organisations/", include("organisations.urls")),
    path("shadowing/", include("shadowing.urls")),
    path("seminars/", include("seminars.urls")),
    path("focusgroups/", include("focusgroups.urls")),
    path("admin/", admin_site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include("organisations.api_urls")),
    path("api/v1/shadowing/", include("shadowing.api_urls")),
    path("api/v1/seminars/", include("seminars.api_urls")),
    path("api/v1/focusgroups/", include("focusgroups.api_urls")),
]

handler403 = "coordinator.core.errors.permission_denied"
handler404 = "coordinator.core.errors.page_not_found"
handler500 = "coordinator.core.errors.server_error"
