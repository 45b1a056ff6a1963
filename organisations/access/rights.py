"""What a signed-in socket may still do, asked of the database in one query (see ``ScopedConsumer``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.sessions.backends.base import SessionBase
from django.contrib.sessions.models import Session
from django.db.models import Exists, Subquery
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.module_loading import import_string

from organisations.permissions import MembershipInfo

# Session engines whose sessions are rows of django.contrib.sessions (asked in the same query).
_DATABASE_SESSIONS = {
    "django.contrib.sessions.backends.db",
    "django.contrib.sessions.backends.cached_db",
    "coordinator.core.sessions",  # cached_db's, the production default with Redis
}
_SESSION_ALIVE = "_access_session_alive"


@dataclass(frozen=True)
class Access:
    """The fresh state; ``signed_out`` when the session or the account is gone (nothing else is then set)."""

    signed_out: bool
    person_id: int | None = None
    memberships: dict[int, MembershipInfo] = field(default_factory=dict)
    values: dict[str, object] = field(default_factory=dict)


def _session_store(session_key: str) -> SessionBase:
    return import_string(f"{settings.SESSION_ENGINE}.SessionStore")(session_key)


def _session_holds_password(session_key: str, user: AbstractBaseUser, password: str) -> bool:
    """Whether the session was signed in with the current password (Django's own check on each request)."""
    hashed = _session_store(session_key).load().get(HASH_SESSION_KEY)
    current = get_user_model()(pk=user.pk, password=password).get_session_auth_hash()
    return isinstance(hashed, str) and constant_time_compare(hashed, current)


# The user row's columns that an answer is built from (then the annotations, in their order).
_FIELDS = (
    "password",
    "person__pk",
    "person__memberships__pk",
    "person__memberships__programme_id",
    "person__memberships__work_role_id",
    "person__memberships__is_active",
    "person__memberships__role_assignments__role",
    "person__memberships__programme__archived_at",
)


def current_access(
    user: AbstractBaseUser, session_key: str | None, annotations: dict[str, Subquery]
) -> Access:
    """The account, person, active memberships with roles and ``annotations`` of a signed-in user, now.

    One query: the user row (only while active) joined to the person, the memberships and their roles, and,
    for database sessions, whether the socket's session still exists and has not expired. A session of
    another engine is asked of its store (no database). Without a session (a socket opened by a test with a
    user in its scope) only the account is asked. The session is refused, as Django refuses it on the next
    request, when the password changed since it signed in.
    """
    extra: dict[str, Subquery] = dict(annotations)
    database_session = bool(session_key) and settings.SESSION_ENGINE in _DATABASE_SESSIONS
    if database_session:
        extra[_SESSION_ALIVE] = Exists(
            Session.objects.filter(session_key=session_key, expire_date__gt=timezone.now())
        )
    rows = list(
        get_user_model()
        ._default_manager.filter(pk=user.pk, is_active=True)
        .annotate(**extra)
        .values_list(*_FIELDS, *extra)
    )
    alive = bool(rows[0][-1]) if rows and database_session else None
    trimmed = [row[:-1] for row in rows] if database_session else rows
    return _access(user, session_key, annotations, trimmed, alive)


def current_access_many(
    sockets: Sequence[tuple[AbstractBaseUser, str | None]], annotations: dict[str, Subquery]
) -> list[Access]:
    """``current_access`` for several sockets whose ``annotations`` are the same expressions, in two queries
    whatever their number: the user rows of all their users, and which of their database sessions still
    exist and have not expired. One answer per socket, in their order; a user with several sockets (tabs,
    sessions) is asked once and each socket's own session decides for it."""
    if len(sockets) == 1:
        return [current_access(sockets[0][0], sockets[0][1], annotations)]
    rows_of: dict[object, list[tuple[object, ...]]] = {}
    user_ids = {user.pk for user, _key in sockets}
    for pk, *row in (
        get_user_model()
        ._default_manager.filter(pk__in=user_ids, is_active=True)
        .annotate(**annotations)
        .values_list("pk", *_FIELDS, *annotations)
    ):
        rows_of.setdefault(pk, []).append(tuple(row))
    keys = {key for _user, key in sockets if key}
    alive_keys: set[str] = set()
    if keys and settings.SESSION_ENGINE in _DATABASE_SESSIONS:
        alive_keys = set(
            Session.objects.filter(session_key__in=keys, expire_date__gt=timezone.now()).values_list(
                "session_key", flat=True
            )
        )
    database_sessions = settings.SESSION_ENGINE in _DATABASE_SESSIONS
    return [
        _access(
            user,
            key,
            annotations,
            rows_of.get(user.pk, []),
            (key in alive_keys) if key and database_sessions else None,
        )
        for user, key in sockets
    ]


def _access(
    user: AbstractBaseUser,
    session_key: str | None,
    annotations: dict[str, Subquery],
    rows: Sequence[tuple[object, ...]],
    database_session_alive: bool | None,
) -> Access:
    """The answer from the user's rows (``_FIELDS`` then the annotations; none when the account is gone or
    inactive) and, for a database session, whether it is alive (None: ask the session's own store)."""
    if not rows:
        return Access(signed_out=True)
    values = dict(zip(annotations, rows[0][len(_FIELDS) :], strict=True))
    password = rows[0][0]
    if session_key:
        if database_session_alive is not None:
            alive = database_session_alive
        else:
            alive = settings.SESSION_ENGINE == "django.contrib.sessions.backends.signed_cookies" or bool(
                _session_store(session_key).exists(session_key)
            )
        if not alive:
            return Access(signed_out=True)
        if password != user.password:
            if not isinstance(password, str) or not _session_holds_password(session_key, user, password):
                return Access(signed_out=True)
            user.password = password  # this session changed it (update_session_auth_hash): ask once
    roles: dict[int, set[str]] = {}
    infos: dict[int, tuple[int, int | None]] = {}
    for _password, _person, membership_id, programme_id, work_role_id, active, role, archived, *_ in rows:
        # A membership of an archived programme gives no socket: the programme is read-only.
        if membership_id is None or not active or archived is not None:
            continue
        infos[programme_id] = (membership_id, work_role_id)  # type: ignore[index,assignment]
        if role:
            roles.setdefault(programme_id, set()).add(role)  # type: ignore[arg-type]
    memberships = {
        pid: MembershipInfo(mid, pid, work_role_id, frozenset(roles.get(pid, ())))
        for pid, (mid, work_role_id) in infos.items()
    }
    person_id = rows[0][1]
    return Access(
        signed_out=False,
        person_id=person_id if isinstance(person_id, int) else None,
        memberships=memberships,
        values=values,
    )
