"""Every view is built on the tenant-scoping bases, or is on a short, explicit public list."""

from __future__ import annotations

from collections.abc import Iterator

from django.urls import Resolver404, URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern
from rest_framework.views import APIView

from coordinator.routing import websocket_urlpatterns
from organisations.access.api import ProgrammeScopedViewSet
from organisations.access.consumers import ScopedConsumer
from organisations.access.views import ProgrammeMixin

# Views that do not work on programme data, or decide the scope themselves (each with its reason).
PUBLIC = {
    # a landing page for visitors; members get panels built in their scope
    "coordinator.pages.views.home.HomeView",
    "coordinator.pages.views.signin.SignInView",
    # signing in, accepting an invitation and resetting a password: before anyone is signed in
    "coordinator.pages.views.signin.SingleSignOnByEmailView",
    "coordinator.pages.views.signin.SingleSignOnStartView",
    "coordinator.pages.views.signin.SingleSignOnCallbackView",
    "coordinator.pages.views.signin.InvitationAcceptView",
    "coordinator.pages.views.signin.PasswordResetView",
    "django.contrib.auth.views.PasswordResetDoneView",
    "coordinator.pages.views.signin.PasswordResetConfirmView",
    "django.contrib.auth.views.PasswordResetCompleteView",
    "django.contrib.auth.views.LogoutView",
    "coordinator.pages.views.home.SwitchProgrammeView",  # chooses among the person's own memberships
    "coordinator.pages.views.home.set_language",  # writes only the signed-in person's own preference
    "coordinator.pages.views.feed.calendar_feed",  # the secret token identifies the person; their scope
    "coordinator.pages.views.health.healthz",
    # Readiness (no data, only which part is failing) and the metrics (refused without METRICS_TOKEN).
    "coordinator.pages.views.health.readyz",
    "coordinator.pages.views.health.prometheus_metrics",
    "organisations.api.ObtainTokenView",
    "coordinator.pages.views.ping_api.PingView",  # answers {"ok": true} to a signed-in caller, reads nothing
    "drf_spectacular.views.SpectacularAPIView",
    "drf_spectacular.views.SpectacularSwaggerView",
    "rest_framework.routers.APIRootView",
    # platform administrators only (checked first); programmes' names and states, no programme's data
    "organisations.views.platform.PlatformProgrammeListView",
    "organisations.views.platform.PlatformProgrammeCreateView",
    # platform administrators only: the periodic jobs and the task queue, no programme's data
    "organisations.views.platform.PlatformJobsView",
}


def _walk(patterns: list, namespace: str = "") -> Iterator[tuple[str, object]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, entry.namespace or namespace)
        elif isinstance(entry, URLPattern):
            yield namespace, entry


def _qualified(obj: object) -> str:
    return f"{obj.__module__}.{obj.__qualname__}"


def test_every_view_is_scoped_or_explicitly_public():
    unscoped_views = []
    for namespace, pattern in _walk(get_resolver().url_patterns):
        callback = pattern.callback
        if namespace == "admin":
            continue  # the admin site wraps every view in the programme admin's scope (access.admin)
        view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        if view_class is not None:
            name = _qualified(view_class)
            scoped = issubclass(view_class, ProgrammeScopedViewSet) or issubclass(view_class, ProgrammeMixin)
            if issubclass(view_class, APIView) and not issubclass(view_class, ProgrammeScopedViewSet):
                scoped = False
        else:
            name = _qualified(callback)
            scoped = False
        if not scoped and name not in PUBLIC:
            unscoped_views.append(f"{pattern.pattern} -> {name}")
    assert unscoped_views == []


def test_every_websocket_consumer_is_scoped():
    for pattern in websocket_urlpatterns:
        consumer = pattern.callback.consumer_class
        assert issubclass(consumer, ScopedConsumer), pattern.pattern


def test_only_the_scoped_admin_site_is_mounted():
    from django.urls import resolve

    from organisations.access.admin import ProgrammeAdminSite

    mounted = [
        e for e in get_resolver().url_patterns if isinstance(e, URLResolver) and e.namespace == "admin"
    ]
    assert len(mounted) == 1
    assert isinstance(resolve("/admin/").func.admin_site, ProgrammeAdminSite)


def test_scoped_bases_refuse_overriding_get_queryset():
    import pytest

    with pytest.raises(TypeError, match="narrow_queryset"):
        type("Leaky", (ProgrammeScopedViewSet,), {"get_queryset": lambda self: None})
    with pytest.raises(TypeError, match="narrow_queryset"):
        type("LeakyPage", (ProgrammeMixin,), {"get_queryset": lambda self: None})


def test_no_feature_api_route_is_one_the_organisations_api_would_answer():
    # ``coordinator.urls`` tries the features' APIs before the organisations' (mounted on the bare ``api/v1/``
    # prefix): that order changes nothing only while the organisations' API answers none of their routes.
    organisations_api = URLResolver(RegexPattern(r"^"), "organisations.api_urls")

    def routes(patterns: list[object], prefix: str) -> Iterator[str]:
        for pattern in patterns:
            route = prefix + str(pattern.pattern).lstrip("^").rstrip("$")  # type: ignore[attr-defined]
            nested = getattr(pattern, "url_patterns", None)
            yield from routes(nested, route) if nested is not None else [route]

    feature_routes = [
        route[len("api/v1/") :]
        for route in routes(get_resolver().url_patterns, "")
        if route.startswith(("api/v1/shadowing/", "api/v1/seminars/", "api/v1/focusgroups/"))
    ]
    answered = []
    for route in feature_routes:
        try:
            organisations_api.resolve(route.replace("(?P<pk>[^/.]+)", "1"))
        except Resolver404:
            continue
        answered.append(route)

    assert len(feature_routes) > 50
    assert answered == []
