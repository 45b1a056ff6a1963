"""What a signed-in socket may still do, asked of the database in one query (see ``ScopedConsumer``)."""

from __future__ import annotations

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
_DATABASE_SESSIONS = {"django.contrib.sessions.backends.db", "django.contrib.sessions.backends.cached_db"}
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
    engine = settings.SESSION_ENGINE
    if session_key and engine in _DATABASE_SESSIONS:
        extra[_SESSION_ALIVE] = Exists(
            Session.objects.filter(session_key=session_key, expire_date__gt=timezone.now())
        )
    rows = list(
        get_user_model()
        ._default_manager.filter(pk=user.pk, is_active=True)
        .annotate(**extra)
        .values_list(
            "password",
            "person__pk",
            "person__memberships__pk",
            "person__memberships__programme_id",
            "person__memberships__work_role_id",
            "person__memberships__is_active",
            "person__memberships__role_assignments__role",
            "person__memberships__programme__archived_at",
            *extra,
        )
    )
    if not rows:
        return Access(signed_out=True)
    values = dict(zip(extra, rows[0][8:], strict=True))
    password = rows[0][0]
    if session_key:
        if engine in _DATABASE_SESSIONS:
            alive = bool(values.pop(_SESSION_ALIVE))
        else:
            alive = engine == "django.contrib.sessions.backends.signed_cookies" or bool(
                _session_store(session_key).exists(session_key)
            )
        if not alive:
            return Access(signed_out=True)
        if password != user.password:
            if not _session_holds_password(session_key, user, password):
                return Access(signed_out=True)
            user.password = password  # this session changed it (update_session_auth_hash): ask once
    roles: dict[int, set[str]] = {}
    infos: dict[int, tuple[int, int | None]] = {}
    for _password, _person, membership_id, programme_id, work_role_id, active, role, archived, *_ in rows:
        # A membership of an archived programme gives no socket: the programme is read-only.
        if membership_id is None or not active or archived is not None:
            continue
        infos[programme_id] = (membership_id, work_role_id)
        if role:
            roles.setdefault(programme_id, set()).add(role)
    memberships = {
        pid: MembershipInfo(mid, pid, work_role_id, frozenset(roles.get(pid, ())))
        for pid, (mid, work_role_id) in infos.items()
    }
    return Access(signed_out=False, person_id=rows[0][1], memberships=memberships, values=values)
