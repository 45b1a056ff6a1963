"""Sockets follow rights across processes: a right taken away through one ASGI process closes the sockets on
the other, through the Redis channel layer, and a save sent after the change is refused.

Two uvicorn processes on the project's own settings share a throwaway SQLite database and a redis-server
started here (see ``test_redis_processes.py``, whose fixtures this module reuses). Skipped, with the reason,
where redis-server is missing or will not start.
"""

from __future__ import annotations

import asyncio
import json
import urllib.parse
import urllib.request
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest

from tests.focusgroups.test_redis_processes import (  # noqa: F401  (fixtures used by name)
    _run,
    environment,
    redis_url,
    uvicorn_sites,
)

pytestmark = pytest.mark.redis

SEED = """
import json
from django.test import Client
from focusgroups.models import GroupMembership
from organisations.models import Membership, PlatformRole
from tests.factories import OrganisationFactory, ProgrammeFactory, make_member
from tests.factories.focusgroups import FocusGroupFactory, make_group_member, make_note

programme = ProgrammeFactory(name="Malmö", slug="malmo")
org_a = OrganisationFactory(name="Migrationsverket", short_name="MV", programmes=[programme])
org_b = OrganisationFactory(name="Malmö stad", short_name="MS", programmes=[programme])
omar = make_member(programme, org_b, PlatformRole.STAFF, user__first_name="Omar", user__last_name="Said")
admin = make_member(
    programme, org_a, PlatformRole.PROGRAMME_ADMIN, user__first_name="Eva", user__last_name="Admin"
)
group = FocusGroupFactory(programme=programme, code="info", name="Informationsflödet")
make_group_member(group, omar, GroupMembership.Role.MEMBER)
note = make_note(group, title="Rutin", body="Rad ett.")
cookies = {}
for name, person in (("omar", omar), ("admin", admin)):
    client = Client()
    client.force_login(person.user, backend="django.contrib.auth.backends.ModelBackend")
    cookies[name] = client.cookies["sessionid"].value
membership = Membership.unscoped_objects.get(person=omar, programme=programme)
print(json.dumps({"group": group.pk, "note": note.pk, "membership": membership.pk, "cookies": cookies}))
"""

NOTE_NOW = """
import json
from focusgroups.models import Note
print(json.dumps(list(Note.unscoped_objects.values_list("version", "body").get(pk={note}))))
"""


@pytest.fixture
def servers(environment: dict[str, str]) -> Iterator[tuple[list[int], dict[str, Any]]]:  # noqa: F811
    _run(["manage.py", "migrate", "--noinput", "-v", "0"], environment)
    seeded = json.loads(
        _run(["-c", f"import django; django.setup()\n{SEED}"], environment).strip().splitlines()[-1]
    )
    seeded["environment"] = environment
    with uvicorn_sites(environment) as ports:
        yield ports, seeded


class _FormFields(HTMLParser):
    """The fields a browser would submit from the admin's change form (checked boxes, selected options)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        name = a.get("name", "")
        if tag == "input" and name and a.get("type") not in ("submit", "button"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((name, a.get("value", "on" if a.get("type") == "checkbox" else "")))
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select is not None and "selected" in a:
            self.fields.append((self._select, a.get("value", "")))
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields.append((name, ""))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self.fields[-1] = (self._textarea, self.fields[-1][1] + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def _get(url: str, session: str) -> tuple[str, str]:
    """A page and the CSRF cookie it sets, as a signed-in browser gets them."""
    # S310: the URLs are the local test servers'.
    request = urllib.request.Request(url, headers={"Cookie": f"sessionid={session}"})  # noqa: S310
    with urllib.request.urlopen(request) as page:  # noqa: S310
        html = page.read().decode()
        csrf = next(
            value.split("=", 1)[1].split(";", 1)[0]
            for value in page.headers.get_all("Set-Cookie")
            if value.startswith("csrftoken=")
        )
    return html, csrf


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _post(url: str, session: str, csrf: str, fields: list[tuple[str, str]]) -> int:
    request = urllib.request.Request(  # noqa: S310 (a local test server)
        url,
        data=urllib.parse.urlencode([*fields, ("csrfmiddlewaretoken", csrf)]).encode(),
        headers={"Cookie": f"sessionid={session}; csrftoken={csrf}", "Referer": url},
    )
    try:
        with urllib.request.build_opener(_NoRedirect).open(request) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as answer:  # the 302 after a successful post arrives as an "error"
        return answer.code


def _end_membership_on_the_admin_page(port: int, session: str, membership: int) -> int:
    """What a programme admin does: open the membership's change page, untick "active", save."""
    url = f"http://127.0.0.1:{port}/admin/organisations/membership/{membership}/change/"
    html, csrf = _get(url, session)
    parser = _FormFields()
    parser.feed(html)
    fields = [
        (name, value) for name, value in parser.fields if name not in ("is_active", "csrfmiddlewaretoken")
    ]
    return _post(url, session, csrf, [*fields, ("_save", "Save")])


def _log_out(port: int, session: str) -> int:
    """The header's "Log out" button."""
    _html, csrf = _get(f"http://127.0.0.1:{port}/", session)
    return _post(f"http://127.0.0.1:{port}/logout/", session, csrf, [])


async def _until_closed(ws: Any) -> tuple[list[dict[str, Any]], int | None]:
    """Every frame until the server closes the socket, and the close code."""
    import websockets

    frames = []
    try:
        while True:
            frames.append(json.loads(await asyncio.wait_for(ws.recv(), timeout=10)))
    except websockets.ConnectionClosed as closed:
        return frames, closed.rcvd.code if closed.rcvd else None


async def _right_lost_elsewhere(ports: list[int], seeded: dict[str, Any], lose: Any) -> dict[str, Any]:
    """Two of Omar's sockets on process 2; ``lose()`` runs against process 1; then one socket saves."""
    import websockets

    def connect() -> Any:
        return websockets.connect(
            f"ws://127.0.0.1:{ports[1]}/ws/focusgroups/{seeded['group']}/notes/",
            additional_headers={
                "Cookie": f"sessionid={seeded['cookies']['omar']}",
                "Origin": f"http://127.0.0.1:{ports[1]}",
            },
        )

    async with connect() as idle, connect() as typing:
        assert json.loads(await idle.recv())["type"] == "hello"
        assert json.loads(await typing.recv())["type"] == "hello"
        status = await asyncio.to_thread(lose)
        save = {"type": "save", "note": seeded["note"], "base_version": 1, "body": "Efter slutet"}
        try:
            await typing.send(json.dumps(save))
        except websockets.ConnectionClosed:
            pass  # already closed by the message from the other process: the save never left
        return {
            "status": status,
            "idle": await _until_closed(idle),
            "typing": await _until_closed(typing),
        }


def _errors(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [frame for frame in frames if frame["type"] == "error"]


def test_a_membership_ended_on_one_process_closes_the_sockets_on_the_other(servers):
    ports, seeded = servers
    outcome = asyncio.run(
        _right_lost_elsewhere(
            ports,
            seeded,
            lambda: _end_membership_on_the_admin_page(
                ports[0], seeded["cookies"]["admin"], seeded["membership"]
            ),
        )
    )

    # The member's only programme membership ended, so their account ended with it: signed out (4401).
    signed_out = {"type": "error", "code": "unauthenticated", "message": "You are signed out. Sign in again."}
    assert outcome["status"] == 302
    assert (_errors(outcome["idle"][0]), outcome["idle"][1]) == ([signed_out], 4401)
    assert (_errors(outcome["typing"][0]), outcome["typing"][1]) == ([signed_out], 4401)
    assert [frame["type"] for frame in outcome["typing"][0] if frame["type"] == "saved"] == []
    note = _run(
        ["-c", "import django; django.setup()\n" + NOTE_NOW.format(note=seeded["note"])],
        seeded["environment"],
    )
    assert json.loads(note.strip().splitlines()[-1]) == [1, "Rad ett."]


def test_a_logout_on_one_process_closes_that_sessions_sockets_on_the_other(servers):
    ports, seeded = servers
    outcome = asyncio.run(
        _right_lost_elsewhere(ports, seeded, lambda: _log_out(ports[0], seeded["cookies"]["omar"]))
    )

    signed_out = {"type": "error", "code": "unauthenticated", "message": "You are signed out. Sign in again."}
    assert outcome["status"] == 302
    assert (_errors(outcome["idle"][0]), outcome["idle"][1]) == ([signed_out], 4401)
    assert (_errors(outcome["typing"][0]), outcome["typing"][1]) == ([signed_out], 4401)
    assert [frame["type"] for frame in outcome["typing"][0] if frame["type"] == "saved"] == []
    note = _run(
        ["-c", "import django; django.setup()\n" + NOTE_NOW.format(note=seeded["note"])],
        seeded["environment"],
    )
    assert json.loads(note.strip().splitlines()[-1]) == [1, "Rad ett."]
