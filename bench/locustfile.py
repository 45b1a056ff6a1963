"""Locust users of the load test (``bench/load.py`` starts the stack, seeds it and runs these).

``LOAD_SEED`` names the JSON file ``bench/load_seed.py`` wrote (tokens, session cookies, ids);
``LOAD_THINK`` is the pause between one user's requests, "min,max" seconds (``0,0``: as fast as the
server answers, for the throughput phase).

- ``StaffUser``: a staff member browsing the course catalogue and the workplaces (pages and API, with
  their session and their API token), enrolling on a round, asking to shadow, and fetching their calendar
  feed. Enrolments and visit requests are real: they are written, notified and invited as always.
- ``ManagerUser``: a line manager looking at the approvals page and approving the oldest waiting request.
- ``NoteEditor``: a focus-group member with a note open over the websocket (``focusgroups/consumers.py``):
  ``doc.sync`` on open, then typing as ``doc.update`` frames built with pycrdt from a real Yjs document;
  each edit is timed until the server has processed it (a ``ping`` sent right after it is answered only
  once the edit is applied and stored, as a socket's frames are handled in order).
- ``PingUser``: ``GET /api/v1/ping/``, the baseline measured in the same run.

The HTTP users are Locust's ``FastHttpUser`` (geventhttpclient): Locust runs on the same two cores as the
stack, and its default ``HttpUser`` (python-requests) spends several times more processor time per request.
Each request carries the one credential its kind of client has (``_Client``): pages the session cookie,
API calls the token, the calendar feed neither. Pages also send back the CSRF cookie the first page set, as
a browser does.

Names in the statistics start with the kind (``page``, ``api``, ``feed``, ``ws``, ``ping``), which the
runner uses to check the goals.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import random
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from locust import FastHttpUser, User, between, constant, events, task
from pycrdt import Doc, Text
from websockets.sync.client import ClientConnection, connect

SEED: dict[str, Any] = json.loads(Path(os.environ.get("LOAD_SEED", "bench-load-seed.json")).read_text())
_think = [float(part) for part in os.environ.get("LOAD_THINK", "1,4").split(",")]
THINK = constant(0) if _think == [0.0, 0.0] else between(_think[0], _think[1])
COURSE_OF: dict[int, int] = {int(round_id): course for round_id, course in SEED["round_courses"].items()}

# Each simulated user is a different person, so that one person's enrolments and requests are their own.
_next_staff = itertools.count()
_next_manager = itertools.count()
_next_editor = itertools.count()
_next_ping = itertools.count()

WORDS = "asyl etablering kartläggning handläggare samverkan tolk hälsa sfi mandat förtroende".split()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class _Person:
    def __init__(self, person: dict[str, Any]) -> None:
        self.id: int = person["id"]
        self.organisation: int = person["organisation"]
        self.token: str = person["token"]
        self.session: str = person["session"]
        self.calendar: str = person["calendar"]


_CSRF_COOKIE = re.compile(r"\s*csrftoken=([^;]+)")


class _Client:
    """A user's HTTP client sending each request with the credential its kind of client has: a page with the
    browser's session cookie, an API call with the integration's token (a client sends one or the other,
    and the server resolves whichever it gets), the calendar feed with neither (a calendar app knows only
    the signed address). ``FastHttpUser``'s session has no per-user default headers, hence this wrapper."""

    def __init__(self, session: Any, person: _Person) -> None:
        self.session = session
        self.person = person
        self.page_headers = {"Cookie": f"sessionid={person.session}", "Accept-Language": "sv"}
        self.api_headers = {"Authorization": f"Token {person.token}", "Accept-Language": "sv"}

    def page(self, url: str, **kwargs: Any) -> Any:
        response = self.session.get(url, headers=self.page_headers, **kwargs)
        self._keep_csrf_cookie(response)
        return response

    def _keep_csrf_cookie(self, response: Any) -> None:
        """The CSRF cookie a page sets goes with the next pages, as a browser sends it (without it every
        page would make and set a new secret, which no browser makes the server do)."""
        headers = getattr(response, "headers", None)
        if headers is None:
            return
        cookies = headers.get("Set-Cookie") or []
        for cookie in [cookies] if isinstance(cookies, str) else cookies:
            found = _CSRF_COOKIE.match(cookie)
            if found:
                self.page_headers["Cookie"] = f"sessionid={self.person.session}; csrftoken={found.group(1)}"

    def api_get(self, url: str, **kwargs: Any) -> Any:
        return self.session.get(url, headers=self.api_headers, **kwargs)

    def api_post(self, url: str, **kwargs: Any) -> Any:
        return self.session.post(url, headers=self.api_headers, **kwargs)

    def feed(self, url: str, **kwargs: Any) -> Any:
        return self.session.get(url, **kwargs)


class _HttpPerson(FastHttpUser):
    abstract = True

    def sign_in(self, person: dict[str, Any]) -> _Person:
        signed = _Person(person)
        # No cookie jar: a cookie a page sets (CSRF, language) must not ride along on the API calls.
        self.client.client.cookiejar = None
        self.http = _Client(self.client, signed)
        return signed


class StaffUser(_HttpPerson):
    weight = 14
    wait_time = THINK

    def on_start(self) -> None:
        self.person = self.sign_in(SEED["staff"][next(_next_staff) % len(SEED["staff"])])
        mine = self.http.api_get("/api/v1/seminars/enrolments/", name="api enrolments (mine)")
        # One booking per course: a person already on a round of a course is refused another round of it.
        self.enrolled = {COURSE_OF[row["round"]] for row in mine.json()["results"]} if mine.ok else set()

    @task(3)
    def catalogue_page(self) -> None:
        self.http.page("/seminars/", name="page course catalogue")

    @task(3)
    def workplaces_page(self) -> None:
        self.http.page("/shadowing/", name="page workplaces")

    @task(3)
    def free_slots_api(self) -> None:
        since, until = SEED["window"]
        self.http.api_get(
            "/api/v1/shadowing/slots/",
            params={"free": "true", "date_from": since, "date_to": until},
            name="api slots (free)",
        )

    @task(2)
    def courses_api(self) -> None:
        self.http.api_get("/api/v1/seminars/courses/", name="api courses")

    @task(2)
    def rounds_api(self) -> None:
        self.http.api_get("/api/v1/seminars/rounds/", name="api rounds")

    @task(1)
    def my_page(self) -> None:
        self.http.page("/me/", name="page my page")

    @task(1)
    def enrol(self) -> None:
        open_rounds = [pk for pk in SEED["rounds"] if COURSE_OF[pk] not in self.enrolled]
        if not open_rounds:
            return
        round_id = random.choice(open_rounds)  # noqa: S311 (load, not security)
        with self.http.api_post(
            "/api/v1/seminars/enrolments/", json={"round": round_id}, name="api enrol", catch_response=True
        ) as response:
            if response.status_code == 201:
                self.enrolled.add(COURSE_OF[round_id])
                response.success()
            else:
                response.failure(f"{response.status_code}: {response.text[:200]}")

    @task(1)
    def request_visit(self) -> None:
        since, until = SEED["window"]
        elsewhere = [w for w in SEED["workplaces"] if w["organisation"] != self.person.organisation]
        wishes = random.sample(elsewhere, 2)
        body = {
            "programme": SEED["programme"],
            "learning_goals": "Förstå hur de andra myndigheterna arbetar med nyanlända.",
            "days": random.choice((1, 1, 2)),  # noqa: S311
            "windows": [{"starts_on": since, "ends_on": until}],
            "preferences": [{"rank": rank, "workplace": w["id"]} for rank, w in enumerate(wishes, 1)],
        }
        with self.http.api_post(
            "/api/v1/shadowing/requests/", json=body, name="api request a visit", catch_response=True
        ) as response:
            if response.status_code == 201:
                response.success()
            else:
                response.failure(f"{response.status_code}: {response.text[:200]}")

    @task(1)
    def calendar_feed(self) -> None:
        self.http.feed(f"/calendar/{self.person.calendar}.ics", name="feed calendar")


class ManagerUser(_HttpPerson):
    weight = 1
    wait_time = THINK

    def on_start(self) -> None:
        self.person = self.sign_in(SEED["managers"][next(_next_manager) % len(SEED["managers"])])

    @task(1)
    def approvals_page(self) -> None:
        self.http.page("/shadowing/approvals/", name="page approvals")

    @task(2)
    def approve_oldest(self) -> None:
        waiting = self.http.api_get(
            "/api/v1/shadowing/requests/",
            params={"status": "pending_approval", "ordering": "submitted_at"},
            name="api requests (to decide)",
        )
        if not waiting.ok or not waiting.json()["results"]:
            return
        pk = waiting.json()["results"][0]["id"]
        with self.http.api_post(
            f"/api/v1/shadowing/requests/{pk}/approve/",
            json={"note": "Godkänt."},
            name="api approve a request",
            catch_response=True,
        ) as response:
            if response.status_code == 200:
                response.success()
            else:
                response.failure(f"{response.status_code}: {response.text[:200]}")


class PingUser(_HttpPerson):
    weight = 2
    wait_time = THINK

    def on_start(self) -> None:
        self.sign_in(SEED["staff"][-1 - next(_next_ping) % len(SEED["staff"])])

    @task
    def ping(self) -> None:
        self.http.api_get("/api/v1/ping/", name="ping (baseline)")


class NoteEditor(User):
    """A focus-group member typing into a shared note over the websocket."""

    weight = 4
    wait_time = THINK

    def on_start(self) -> None:
        number = next(_next_editor)
        group = SEED["groups"][number % len(SEED["groups"])]
        member_id = group["members"][(number // len(SEED["groups"])) % len(group["members"])]
        person = next(p for p in SEED["staff"] if p["id"] == member_id)
        self.note = random.choice(group["notes"])  # noqa: S311
        host = urlsplit(self.host)
        url = f"ws://{host.netloc}/ws/focusgroups/{group['id']}/notes/"
        headers = {"Cookie": f"sessionid={person['session']}", "Origin": f"{host.scheme}://{host.netloc}"}
        self.doc: Doc[Text] = Doc()
        self.text = self.doc.get("body", type=Text)
        started = time.perf_counter()
        failure: Exception | None = None
        try:
            self.socket: ClientConnection | None = connect(url, additional_headers=headers, open_timeout=30)
            self._wait_for("hello")
            self._send({"type": "doc.sync", "note": self.note, "sv": _b64(self.doc.get_state())})
            answer = self._wait_for("doc.sync")
            self.doc.apply_update(base64.b64decode(answer["update"]))
        except Exception as exc:  # noqa: BLE001 (any failure to open is reported as such)
            failure = exc
            self.socket = None
        self._report("ws open and doc.sync", started, failure)

    def on_stop(self) -> None:
        if self.socket is not None:
            self.socket.close()

    def _send(self, message: dict[str, Any]) -> None:
        assert self.socket is not None
        self.socket.send(json.dumps(message))

    def _wait_for(self, kind: str) -> dict[str, Any]:
        """Read frames until one of ``kind``; applies other editors' updates on the way; an error frame
        fails the wait."""
        assert self.socket is not None
        while True:
            message = json.loads(self.socket.recv(timeout=30))
            if message["type"] == kind:
                return message
            if message["type"] == "error":
                raise RuntimeError(f"{message.get('code')}: {message.get('message')}")
            if message["type"] == "doc.update" and message.get("note") == self.note:
                self.doc.apply_update(base64.b64decode(message["update"]))

    def _report(self, name: str, started: float, failure: Exception | None) -> None:
        events.request.fire(
            request_type="WS",
            name=name,
            response_time=(time.perf_counter() - started) * 1000,
            response_length=0,
            exception=failure,
            context={},
        )

    @task
    def type_a_few_words(self) -> None:
        if self.socket is None:
            return
        before = self.doc.get_state()
        position = random.randint(0, len(self.text))  # noqa: S311
        self.text.insert(position, " " + " ".join(random.sample(WORDS, 3)))
        update = self.doc.get_update(before)
        started = time.perf_counter()
        failure: Exception | None = None
        try:
            self._send({"type": "doc.update", "note": self.note, "update": _b64(update)})
            self._send({"type": "ping"})
            self._wait_for("pong")
        except Exception as exc:  # noqa: BLE001 (a closed socket or an error frame is a failed edit)
            failure = exc
        self._report("ws doc.update (applied and stored)", started, failure)
