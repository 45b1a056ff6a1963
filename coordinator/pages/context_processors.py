from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from coordinator.core import registry
from coordinator.core.models import Notification
from organisations.models import PlatformRole
from organisations.permissions import actor_for


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
    roles = actor.roles_in(programme)
    role_labels = [str(choice.label) for choice in PlatformRole if choice.value in roles]
    nav = [item for item in registry.nav_items if item.visible(request)]
    unread = actor.unread.get(programme.pk)
    if unread is None:  # an actor read without it (an API token's)
        unread = Notification.objects.filter(recipient=actor.person, read_at__isnull=True).count()
    # The switcher lists the person's other programmes, read with the memberships in the database's order
    # of their names.
    other_programmes = [p for pid, p in actor.programmes.items() if pid != programme.pk]
    return {
        "layout_actor": actor,
        "layout_person": actor.person,
        "layout_roles": role_labels,
        "layout_nav": nav,
        "layout_unread": unread,
        "layout_other_programmes": other_programmes,
    }
