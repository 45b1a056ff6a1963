from __future__ import annotations

import threading
from typing import Any

from django.http import HttpRequest
from django.utils.translation import get_language

from coordinator.core import registry
from coordinator.core.models import Notification
from coordinator.core.registry import NavItem
from organisations.models import PlatformRole
from organisations.permissions import actor_for

# The navigation shown and the role names written, per language, membership and set of roles in the
# programme: what every signed-in page asked anew of each registered item. An item's ``visible(request)``
# answers from the person's membership and roles in the request's programme (``request_is_member``,
# ``request_has_role``), read on every request, so a role removed is out of the next page's navigation.
# A few hundred entries at most (languages × role sets); dropped whole if ever more.
# With the navigation: its part of the header's shape (``coordinator.core.chrome``), each item's address name
# and label in the language.
Navigation = tuple[list[str], tuple[NavItem, ...], tuple[tuple[str, str], ...]]
_NAVIGATION: dict[tuple[str | None, bool, frozenset[str]], Navigation] = {}
_NAVIGATION_SIZE = 512
_NAVIGATION_LOCK = threading.Lock()


def _navigation(request: HttpRequest, member: bool, roles: frozenset[str]) -> Navigation:
    key = (get_language(), member, roles)
    found = _NAVIGATION.get(key)
    if found is None:
        labels = [str(choice.label) for choice in PlatformRole if choice.value in roles]
        nav = tuple(item for item in registry.nav_items if item.visible(request))
        found = (labels, nav, tuple((item.url_name, str(item.label)) for item in nav))
        with _NAVIGATION_LOCK:
            if len(_NAVIGATION) >= _NAVIGATION_SIZE:
                _NAVIGATION.clear()
            _NAVIGATION[key] = found
    return found


def layout(request: HttpRequest) -> dict[str, Any]:
    """What the shared layout needs: programme, person, roles, navigation, unread count. No query of its own
    on a page (the unread count and the programmes for the switcher came with the memberships,
    ``actor_for``)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    actor = actor_for(user)
    programme = getattr(request, "programme", None)
    if programme is None or actor.person is None:
        return {"layout_actor": actor}
    role_labels, nav, nav_shape = _navigation(request, actor.is_member(programme), actor.roles_in(programme))
    unread = actor.unread.get(programme.pk)
    if unread is None:  # an actor read without it (an API token's)
        unread = Notification.objects.filter(recipient=actor.person, read_at__isnull=True).count()
    # The switcher lists the person's other programmes, read with the memberships in the database's order
    # of their names.
    other_programmes = [p for pid, p in actor.programmes.items() if pid != programme.pk]
    return {
        "layout_actor": actor,
        "layout_person": actor.person,
        "layout_roles": list(role_labels),
        "layout_nav": list(nav),
        "layout_nav_shape": nav_shape,
        "layout_unread": unread,
        "layout_other_programmes": other_programmes,
    }
