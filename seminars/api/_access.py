"""What the seminars API viewsets share: who may write, and how a foreign or draft object answers."""

from typing import Any

from django.db.models import Q
from rest_framework import status
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.relations import PrimaryKeyRelatedField
from rest_framework.request import Request
from rest_framework.response import Response

from organisations.permissions import COORDINATING_ROLES
from seminars.models import (
    Round,
)


class IsCoordinator(BasePermission):
    """Coordinators and programme admins of at least one of the person's programmes."""

    def has_permission(self, request: Request, view: Any) -> bool:
        actor = getattr(view, "actor", None)
        return bool(actor and actor.programmes_with_role(*COORDINATING_ROLES))


class WritesByCoordinators(BasePermission):
    """Everyone in the programme reads; coordinators write (the service checks the object's programme)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return IsCoordinator().has_permission(request, view)


def does_not_exist(field: str, value: Any) -> Response:
    """The same answer a foreign or draft object gets from a scoped id field: it does not exist."""
    message = PrimaryKeyRelatedField.default_error_messages["does_not_exist"].format(pk_value=value)
    return Response({field: [message]}, status=status.HTTP_400_BAD_REQUEST)


def managed_programmes(view: Any) -> frozenset[int]:
    return view.actor.programmes_with_role(*COORDINATING_ROLES)  # type: ignore[no-any-return]


def visible_rounds(view: Any) -> Q:
    """Published and cancelled rounds for everyone; drafts only for the programme's coordinators."""
    return ~Q(status=Round.Status.DRAFT) | Q(course__programme__in=managed_programmes(view))
