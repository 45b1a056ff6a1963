"""Single sign-on in a real browser: the demo site and a real OpenID Connect provider (a second process),
the whole round trip through the provider's own sign-in page and back, and a stranger refused."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import PASSWORD as DEMO_PASSWORD
from tests.oidc_provider.process import Provider, running_provider

PROVIDER_PASSWORD = "myndighet-2026"


def _api(base: str, method: str, path: str, token: str | None = None, body: Any = None) -> Any:
    request = urllib.request.Request(  # noqa: S310 - the local test site
        f"{base}{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={
            "Content-Type": "application/json",
            **({"Authorization": f"Token {token}"} if token else {}),
        },
    )
    with urllib.request.urlopen(request, timeout=20) as answer:  # noqa: S310
        return json.loads(answer.read() or b"null")


@pytest.fixture(scope="module")
def migrationsverket_sso(live_site: str) -> Iterator[tuple[Provider, int]]:
    """Migrationsverket's own provider, set by its organisation admin through the API, removed after."""
    users = [
        ("karin", PROVIDER_PASSWORD, "karin.nystrom@mv.example"),
        ("stranger", PROVIDER_PASSWORD, "stranger@mv.example"),
    ]
    try:
        context = running_provider(
            users=users, redirect_uris=["http://127.0.0.1/login/organisation/callback/"]
        )
        provider = context.__enter__()
    except RuntimeError as exc:
        pytest.skip(f"the OpenID Connect test provider did not start: {exc}")
    token = _api(
        live_site,
        "POST",
        "/api/v1/auth/token/",
        body={"username": "lars.pettersson", "password": DEMO_PASSWORD},
    )["token"]
    organisations = _api(live_site, "GET", "/api/v1/organisations/?search=Migrationsverket", token)["results"]
    organisation = organisations[0]["id"]
    _api(
        live_site,
        "PUT",
        f"/api/v1/organisations/{organisation}/identity-provider/",
        token,
        {
            "issuer": provider.issuer,
            "client_id": provider.client_id,
            "client_secret": provider.client_secret,
            "email_domains": ["mv.example"],
        },
    )
    providers = _api(live_site, "GET", f"/api/v1/organisations/{organisation}/identity-provider/", token)
    assert providers["has_client_secret"] is True
    yield provider, organisation
    # Other browser tests sign in through a page that offers no provider.
    _api(live_site, "DELETE", f"/api/v1/organisations/{organisation}/identity-provider/", token)
    context.__exit__(None, None, None)


def _sign_in_at_provider(page: Any, username: str) -> None:
    page.wait_for_selector("#provider-username")
    assert page.locator("h1").inner_text() == "Myndighetens inloggning"
    page.locator("#provider-username").fill(username)
    page.locator("#provider-password").fill(PROVIDER_PASSWORD)
    page.locator("#provider-submit").click()


def test_staff_member_signs_in_with_the_agencys_provider(new_page, migrationsverket_sso, live_site):
    provider, _organisation = migrationsverket_sso
    page = new_page()
    page.goto("/login/")
    button = page.get_by_role("link", name="Logga in med Migrationsverket")
    button.click()
    page.wait_for_url(lambda url: url.startswith(provider.issuer.removesuffix("/o") + "/accounts/login/"))
    _sign_in_at_provider(page, "karin")
    page.wait_for_url(lambda url: url.startswith(live_site) and "/login/" not in url)
    page.goto("/me/")
    assert page.url == f"{live_site}/me/"
    assert "Karin Nyström" in page.locator("main").inner_text()


def test_the_email_domain_leads_to_the_provider_and_a_stranger_is_refused(
    new_page, migrationsverket_sso, live_site
):
    provider, _organisation = migrationsverket_sso
    page = new_page()
    page.goto("/login/")
    page.locator("#id_email").fill("stranger@mv.example")
    page.get_by_role("button", name="Fortsätt").click()
    page.wait_for_url(lambda url: url.startswith(provider.issuer.removesuffix("/o") + "/accounts/login/"))
    _sign_in_at_provider(page, "stranger")
    page.wait_for_selector("#sign-in-refused")
    assert (
        page.locator("#sign-in-refused")
        .inner_text()
        .startswith("Det finns ingen inbjudan eller något konto här")
    )
    page.goto("/me/")
    assert "/login/" in page.url
