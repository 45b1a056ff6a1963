"""The signed-in layout's header, written once per shape and kept in the process.

The header (brand, programme switcher, language switcher, bell, name and navigation) was a fifth of a page's
own processor time, rendered anew on every request though it differs between requests only in a few
values. It is now rendered from ``includes/site_header.html`` with an explicit context, once per *shape*
(the language, the script prefix, the programme's key and name, the person's other programmes, the
navigation items shown, the page's path and URL name, whether someone is signed in and has a person) and
kept in a small LRU of this process; what is each reader's own (their name, organisation and roles, the
unread count, the CSRF token, the page's address with its query) is filled into gaps on every request,
escaped and localised exactly as the template would write it. Nothing of it is read from the database: the
layout's context processor has it all from the identity query of the request (``actor_for``), so a new
notification, a removed role or a renamed person is on the very next page, as before.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Protocol

from django.http import HttpRequest
from django.template import Context
from django.template.defaulttags import CsrfTokenNode
from django.urls import get_script_prefix
from django.utils import formats
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from coordinator.core.content import Fragment, Recent, gap
from coordinator.core.registry import NavItem

TEMPLATE = "includes/site_header.html"
# A shape per page path, programme, language and set of rights: a few hundred in a busy process.
SHAPES = Recent(512)


class _Named(Protocol):
    pk: int
    name: str


class _ShortNamed(Protocol):
    short_name: str


class _Person(Protocol):
    full_name: str
    organisation: _ShortNamed


class _User(Protocol):
    is_authenticated: bool

    def get_username(self) -> str: ...


def _escaped(value: object) -> str:
    """What ``{{ value }}`` writes."""
    return str(conditional_escape(str(formats.localize(value))))


def _key(parts: Iterable[object]) -> str:
    return hashlib.sha256(repr(tuple(parts)).encode()).hexdigest()


def site_header(context: Context) -> SafeString:
    """The header for the page being rendered with ``context`` (a ``RequestContext`` with the layout's
    context processor; an error page rendered without a request gets the signed-out header)."""
    request: HttpRequest | None = context.get("request")
    programme: _Named | None = getattr(request, "programme", None)
    user: _User | None = context.get("user")
    signed_in = bool(user is not None and user.is_authenticated)
    person: _Person | None = context.get("layout_person")
    others: list[_Named] = list(context.get("layout_other_programmes") or ())
    nav: list[NavItem] = list(context.get("layout_nav") or ())
    resolver_match = getattr(request, "resolver_match", None)
    shape = {
        "programme": programme,
        "other_programmes": others,
        "has_person": person is not None,
        "signed_in": signed_in,
        "nav": nav,
        "url_name": resolver_match.url_name if resolver_match is not None else None,
        "path": request.path if request is not None else "",
    }
    key = _key(
        (
            get_language(),
            get_script_prefix(),
            (programme.pk, programme.name) if programme is not None else None,
            tuple((other.pk, other.name) for other in others),
            shape["has_person"],
            signed_in,
            # The layout's context processor gives it kept with the navigation (per language and roles).
            context.get("layout_nav_shape") or tuple((item.url_name, str(item.label)) for item in nav),
            shape["url_name"],
            shape["path"],
        )
    )
    fragment = SHAPES.get(key)
    if not isinstance(fragment, Fragment):
        names = ("csrf", "next", "unread", "person_name", "person_detail", "username")
        fragment = Fragment.render(TEMPLATE, {**shape, **{name: gap(name) for name in names}})
        if fragment.parts[-1].endswith("\n"):  # the file's last line break is not the page's
            fragment = Fragment((*fragment.parts[:-1], fragment.parts[-1][:-1]))
        SHAPES.put(key, fragment)
    return mark_safe(fragment.fill(_live(context, request, user, person)))  # noqa: S308 - escaped parts


def _live(
    context: Context, request: HttpRequest | None, user: _User | None, person: _Person | None
) -> Mapping[str, str]:
    roles: list[str] = list(context.get("layout_roles") or ())
    detail = ""
    if person is not None:
        detail = _escaped(person.organisation.short_name)
        if roles:
            detail += " · " + ", ".join(_escaped(role) for role in roles)
    return {
        "csrf": str(CsrfTokenNode().render(context)),
        "next": _escaped(request.get_full_path()) if request is not None else "",
        "unread": _escaped(context.get("layout_unread", "")),
        "person_name": _escaped(person.full_name) if person is not None else "",
        "person_detail": detail,
        "username": _escaped(user.get_username()) if user is not None else "",
    }
