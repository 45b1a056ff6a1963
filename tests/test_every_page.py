"""Every page renders for every demo role: the test walks all named URLs of the web interface with each
demo user, on the demo data. A page may refuse a role (403), hide an object (404) or answer only POST (405),
but never fail (5xx), and every page serves at least one role. Each page also stays under a fixed number of
database queries."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from coordinator.core.tenancy import restrict_to_programmes
from organisations.models import Organisation, Person, Programme

DEMO_USERS = [
    "eva.lindgren",
    "johan.bergstrom",
    "amina.hassan",
    "per.olsson",
    "karin.nystrom",
    "sofia.ek",
    "lina.bjork",
    "anna.karlsson",
    "lars.pettersson",
    "mette.sorensen",
]
SKIPPED_NAMESPACES = {"admin"}
SKIPPED_NAMES = {
    "logout",
    "set_language",
    "calendar-feed",
    "healthz",
    # The metrics scrape answers only with its token (tests/coordinator/test_serve_prod.py).
    "metrics",
    "api-schema",
    "api-docs",
    "api-token",
    "switch-programme",
    "login",
    # Platform administrators' pages (no demo login is one): tests/organisations/test_programme_pages.py
    "organisations:platform-programmes",
    # Placing by hand needs a request and a workplace in its query (tests/shadowing/test_manual_placement.py).
    "shadowing:run-assign",
    "organisations:platform-programme-create",
    # The periodic jobs' page (platform administrators): tests/coordinator/test_task_queue.py.
    "organisations:platform-jobs",
    # Visitors' sign-in steps, which need a secret or a provider's answer (tests/organisations/test_sso.py,
    # test_invitations.py, test_accounts.py).
    "sso-start",
    "sso-callback",
    "invitation-accept",
    "password_reset_confirm",
}
MAX_QUERIES = 40


def _malmo_organisation() -> Organisation:
    return Organisation.unscoped_objects.get(name="Migrationsverket")


# URL arguments that cannot be inferred from the view's model (see _sample).
SAMPLES: dict[str, Callable[[], dict[str, Any]]] = {
    "organisations:detail": lambda: {"pk": _malmo_organisation().pk},
    "shadowing:request-create-for": lambda: {
        "person": Person.unscoped_objects.get(user__username="amina.hassan").pk
    },
    "organisations:sign-in": lambda: {"pk": _malmo_organisation().pk},
    "import-history": lambda: {"key": "seminars.completions"},
    "organisations:expectation": lambda: _booked_ahead(),
}


def _booked_ahead() -> dict[str, Any]:
    """A course a demo user is booked on and has not started: the page where they record an expectation."""
    from coordinator.core import registry
    from coordinator.core.tenancy import programme_scope

    malmo = Programme.unscoped_objects.get(slug="malmo")
    source = registry.follow_up_sources.get("seminars.course")
    assert source is not None
    with programme_scope([malmo.pk]):
        for username in DEMO_USERS:
            upcoming = source.upcoming(malmo, Person.unscoped_objects.get(user__username=username))
            if upcoming:
                return {"kind": source.kind, "subject_id": upcoming[0].subject_id}
    raise AssertionError("no demo user is booked on a course ahead")


def _sample(name: str, pattern: URLPattern) -> dict[str, Any] | None:
    """Arguments for a URL: from SAMPLES, or, for a ``<pk>`` page of a view with a ``model``, the first
    object of that model in the Malmö demo programme."""
    if name in SAMPLES:
        return SAMPLES[name]()
    view_class = getattr(pattern.callback, "view_class", None)
    model = getattr(view_class, "model", None)
    if model is None or set(pattern.pattern.converters) != {"pk"}:
        return None
    malmo = Programme.unscoped_objects.get(slug="malmo")
    found = restrict_to_programmes(model.unscoped_objects.all(), [malmo.pk]).order_by("pk").first()
    return {"pk": found.pk} if found is not None else None


def _web_patterns() -> Iterator[tuple[str, URLPattern]]:
    def walk(patterns: list, namespace: str | None) -> Iterator[tuple[str, URLPattern]]:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                if str(entry.pattern).startswith("api/"):
                    continue
                yield from walk(entry.url_patterns, entry.namespace or namespace)
            elif isinstance(entry, URLPattern) and entry.name:
                name = f"{namespace}:{entry.name}" if namespace else entry.name
                yield name, entry

    for name, pattern in walk(get_resolver().url_patterns, None):
        namespace = name.split(":")[0] if ":" in name else ""
        if (
            namespace in SKIPPED_NAMESPACES
            or name in SKIPPED_NAMES
            or str(pattern.pattern).startswith("api/")
        ):
            continue
        yield name, pattern


@pytest.mark.django_db
def test_every_page_renders_for_every_role():
    call_command("seed_demo", "--quiet")
    failures: list[str] = []
    served: dict[str, set[int]] = {}
    for name, pattern in _web_patterns():
        kwargs = {}
        if pattern.pattern.converters:
            sample = _sample(name, pattern)
            if sample is None:
                failures.append(f"{name}: no sample arguments (add them to SAMPLES)")
                continue
            kwargs = sample
        url = reverse(name, kwargs=kwargs)
        for username in DEMO_USERS:
            client = Client()
            client.force_login(
                Person.unscoped_objects.get(user__username=username).user,
                backend="django.contrib.auth.backends.ModelBackend",
            )
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
            served.setdefault(name, set()).add(response.status_code)
            if response.status_code not in {200, 302, 403, 404, 405}:
                failures.append(f"{url} as {username}: {response.status_code}")
            if response.status_code == 200 and len(queries) > MAX_QUERIES:
                failures.append(f"{url} as {username}: {len(queries)} queries")
    for name, statuses in served.items():
        if 200 not in statuses and 405 not in statuses:  # 405: an action that only answers POST
            failures.append(f"{name}: served no role ({sorted(statuses)})")
    assert failures == [], "\n".join(failures)
