"""A websocket opens only from the site's own origins: scheme, host and port must all match."""

from __future__ import annotations

import pytest
from channels.testing import WebsocketCommunicator

from coordinator.asgi import application

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.fixture
def site(settings):
    settings.SITE_URL = "https://samverkan.example.org"
    settings.CSRF_TRUSTED_ORIGINS = ["https://*.partner.example", "http://localhost:8000"]


async def _connect(user, origin: bytes | None) -> bool:
    headers = [] if origin is None else [(b"origin", origin)]
    communicator = WebsocketCommunicator(application, "/ws/notifications/", headers=headers)
    communicator.scope["user"] = user
    connected, _code = await communicator.connect(timeout=10)
    if connected:
        await communicator.disconnect()
    return connected


@pytest.mark.parametrize(
    "origin",
    [
        b"https://samverkan.example.org",
        b"https://samverkan.example.org:443",
        b"https://team.partner.example",
        b"http://localhost:8000",
    ],
)
async def test_socket_opens_from_the_sites_origins(site, staff_a, origin):
    assert await _connect(staff_a.user, origin) is True


@pytest.mark.parametrize(
    "origin",
    [
        pytest.param(b"http://samverkan.example.org", id="wrong scheme"),
        pytest.param(b"https://samverkan.example.org:8443", id="wrong port"),
        pytest.param(b"https://evil.example", id="wrong host"),
        pytest.param(b"https://samverkan.example.org.evil.example", id="host as a prefix"),
        pytest.param(b"http://localhost:8001", id="trusted host, other port"),
        pytest.param(b"https://localhost:8000", id="trusted host, other scheme"),
        pytest.param(b"null", id="null origin"),
        pytest.param(None, id="no origin"),
    ],
)
async def test_socket_is_refused_from_other_origins(site, staff_a, origin):
    assert await _connect(staff_a.user, origin) is False
