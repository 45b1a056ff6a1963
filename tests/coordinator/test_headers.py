"""Security headers of every page: Content-Security-Policy with a per-request nonce, Permissions-Policy, and
the language cookie as guarded as the session cookie."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db


def _directives(header: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in header.split(";") if part.strip())


def test_pages_send_a_content_security_policy(client):
    response = client.get("/login/")
    assert response.status_code == 200
    # A page with no inline script or style gets no nonce (django-csp adds one only where a page uses it).
    assert _directives(response["Content-Security-Policy"]) == {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data:",
        "font-src": "'self'",
        "connect-src": "'self' ws://127.0.0.1:8000",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }


def test_api_docs_inline_script_and_style_carry_a_fresh_nonce(web, staff_a):
    client = web(staff_a)
    response = client.get("/api/docs/")
    again = client.get("/api/docs/")
    policy = _directives(response["Content-Security-Policy"])
    nonce = re.fullmatch(r"'self' 'nonce-([A-Za-z0-9+/=]{24})'", policy["script-src"])
    html = response.content.decode()
    assert response.status_code == 200
    assert nonce is not None
    assert policy["style-src"] == policy["script-src"]
    assert nonce.group(1) not in again["Content-Security-Policy"]
    inline = re.findall(r"<(script|style)( nonce=\"[^\"]*\")?>", html)
    assert inline == [("style", f' nonce="{nonce.group(1)}"'), ("script", f' nonce="{nonce.group(1)}"')]


def test_pages_deny_browser_features_they_do_not_use(client):
    response = client.get("/login/")
    assert response["Permissions-Policy"] == (
        "accelerometer=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), magnetometer=(), "
        "microphone=(), midi=(), payment=(), publickey-credentials-get=(), screen-wake-lock=(), usb=(), "
        "xr-spatial-tracking=()"
    )


def test_language_cookie_is_secure_and_hidden_from_scripts_in_production(client):
    response = client.post("/i18n/setlang/", {"language": "da", "next": "/"})
    cookie = response.cookies["samverkan_language"]
    flags = (cookie["secure"], cookie["httponly"], cookie["samesite"])
    assert (cookie.value, *flags) == ("da", True, True, "Lax")
